"""The long versions of the reliability suite (`make soak`): more seeds, harsher faults, more fuzzing."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.common import FaultPlan
from connector.services import Services
from test_reliability_bad_input import BODIES, CONTENT_TYPES, HEADER_NAMES, HEADER_VALUE, TEXT, fill, routes, stored
from test_reliability_bad_input import app, client, services  # noqa: F401  (fixtures)
from test_reliability_faults import check_same_outcome, one_run

HARSH = dict(error_rate=0.35, slow_rate=0.2, slow_seconds=0.05, throttle_rate=0.3, drop_webhook_rate=0.8)


@pytest.mark.soak
@pytest.mark.parametrize("seed", [2, 3, 5, 7, 13])
@pytest.mark.parametrize("platform", ["shopify", "woocommerce"])
def test_harsh_faults_with_many_seeds_end_like_a_fault_free_run(tmp_path: Path, platform: str, seed: int,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    (tmp_path / "clean").mkdir()
    (tmp_path / "faulty").mkdir()
    _, clean_services, clean = one_run(tmp_path / "clean", f"sqlite:///{tmp_path}/clean/c.db", platform,
                                       FaultPlan(seed=1))
    _, faulty_services, faulty = one_run(tmp_path / "faulty", f"sqlite:///{tmp_path}/faulty/c.db", platform,
                                         FaultPlan(seed=seed, **HARSH))
    check_same_outcome(platform, clean, faulty, clean_services, faulty_services)


@pytest.mark.soak
@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), body=BODIES, content_type=st.sampled_from(CONTENT_TYPES),
       headers=st.dictionaries(st.sampled_from(HEADER_NAMES), HEADER_VALUE, max_size=8),
       query=st.dictionaries(TEXT, TEXT, max_size=6),
       path_values=st.lists(st.one_of(TEXT, st.integers().map(str)), min_size=1, max_size=3))
def test_long_fuzz_of_every_route(app: Flask, client: FlaskClient, services: Services,  # noqa: F811
                                  data: st.DataObject, body: bytes, content_type: str, headers: dict[str, str],
                                  query: dict[str, str], path_values: list[str]) -> None:
    rule, method = data.draw(st.sampled_from(routes(app)), label="route")
    before = stored(services)
    answer = client.open(fill(rule, path_values), method=method, query_string=query, data=body,
                         headers={**headers, "Content-Type": content_type} if content_type else headers)
    assert answer.status_code < 500, (rule.rule, method, answer.get_data(as_text=True)[:300])
    assert stored(services) == before
