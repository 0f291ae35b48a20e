"""The signed keep-waiting-or-cancel link: round trip, tampering, expiry and malformed tokens."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.errors import ConfigError, InputError
from connector.notify.links import ChoiceClaim, choice_url, make_choice_token, read_choice_token

SECRET = "s3cret-key-for-tests"
ISSUED = datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)


def test_round_trip() -> None:
    token = make_choice_token(SECRET, 7, 4242, "backordered:abc", now=ISSUED)
    claim = read_choice_token(SECRET, token, now=ISSUED + timedelta(days=3))
    assert claim == ChoiceClaim(shop_id=7, order_id=4242, notice_ref="backordered:abc", issued_at=ISSUED)


@given(st.integers(0, 2**53), st.integers(0, 2**53), st.text(max_size=80))
def test_round_trip_for_any_ids_and_ref(shop_id: int, order_id: int, ref: str) -> None:
    token = make_choice_token(SECRET, shop_id, order_id, ref, now=ISSUED)
    assert re.fullmatch(r"[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+", token)
    claim = read_choice_token(SECRET, token, now=ISSUED)
    assert (claim.shop_id, claim.order_id, claim.notice_ref) == (shop_id, order_id, ref)


def test_token_without_explicit_time_is_valid_now() -> None:
    assert read_choice_token(SECRET, make_choice_token(SECRET, 1, 2, "r")).order_id == 2


def _flip(text: str, index: int) -> str:
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]


@given(st.data())
def test_any_changed_character_is_refused(data: st.DataObject) -> None:
    token = make_choice_token(SECRET, 7, 4242, "ref", now=ISSUED)
    index = data.draw(st.integers(0, len(token) - 1).filter(lambda i: token[i] != "."))
    with pytest.raises(InputError, match="choice link"):
        read_choice_token(SECRET, _flip(token, index), now=ISSUED)


def test_another_secret_is_refused() -> None:
    token = make_choice_token(SECRET, 7, 4242, "ref", now=ISSUED)
    with pytest.raises(InputError, match="altered"):
        read_choice_token("another secret", token, now=ISSUED)


def test_expiry() -> None:
    token = make_choice_token(SECRET, 7, 4242, "ref", now=ISSUED)
    assert read_choice_token(SECRET, token, now=ISSUED + timedelta(days=60)).order_id == 4242
    with pytest.raises(InputError, match="expired"):
        read_choice_token(SECRET, token, now=ISSUED + timedelta(days=60, seconds=1))
    with pytest.raises(InputError, match="expired"):
        read_choice_token(SECRET, token, max_age_days=5, now=ISSUED + timedelta(days=6))


def test_a_token_from_the_future_is_refused() -> None:
    token = make_choice_token(SECRET, 7, 4242, "ref", now=ISSUED + timedelta(days=1))
    with pytest.raises(InputError, match="future"):
        read_choice_token(SECRET, token, now=ISSUED)


@pytest.mark.parametrize("token", ["", "abc", ".", "abc.", ".abc", "not a token at all", "ü.ü"])
def test_malformed_tokens_are_input_errors(token: str) -> None:
    with pytest.raises(InputError, match="choice link"):
        read_choice_token(SECRET, token, now=ISSUED)


def test_an_empty_secret_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="CONNECTOR_SECRET_KEY"):
        make_choice_token("", 1, 2, "ref")


def test_choice_url() -> None:
    assert choice_url("https://app.example/", "abc.def") == "https://app.example/choice/abc.def"
    assert choice_url("https://app.example/connector", "t.s") == "https://app.example/connector/choice/t.s"
