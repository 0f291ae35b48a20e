"""webhooks.headers: a delivery's kept headers read the same straight from the WSGI environ as through werkzeug."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import EnvironHeaders, Headers

from webhooks.headers import MAX_HEADER_VALUE, header, kept_headers

NAMES = ("Shopify-Topic", "Shopify-Webhook-Id", "WC-Webhook-Topic")
HEADER_VALUES = st.one_of(st.none(), st.sampled_from(["", "  ", " orders/create ", "x" * (MAX_HEADER_VALUE + 20)]),
                          st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30))


def environ_of(sent: dict[str, str]) -> dict[str, str]:
    return {"HTTP_" + name.upper().replace("-", "_"): value for name, value in sent.items()}


@given(prefixed=st.tuples(*[HEADER_VALUES] * len(NAMES)), bare=st.tuples(*[HEADER_VALUES] * len(NAMES)))
def test_the_environ_path_keeps_what_the_generic_path_keeps(prefixed: tuple[str | None, ...],
                                                           bare: tuple[str | None, ...]) -> None:
    sent = {f"X-{name}": value for name, value in zip(NAMES, prefixed, strict=True) if value is not None}
    sent |= {name: value for name, value in zip(NAMES, bare, strict=True) if value is not None}
    from_environ = kept_headers(EnvironHeaders(environ_of(sent)), NAMES)
    assert from_environ == kept_headers(Headers(list(sent.items())), NAMES)
    assert from_environ == {f"X-{name}": value[:MAX_HEADER_VALUE] for name in NAMES
                            if (value := header(Headers(list(sent.items())), name)) is not None}


def test_the_prefixed_header_wins_and_values_are_stripped_and_bounded() -> None:
    environ = environ_of({"X-Shopify-Topic": " orders/paid ", "Shopify-Topic": "orders/create",
                          "Shopify-Webhook-Id": "w" * (MAX_HEADER_VALUE + 5), "X-WC-Webhook-Topic": "   "})
    assert kept_headers(EnvironHeaders(environ), NAMES) == {"X-Shopify-Topic": "orders/paid",
                                                            "X-Shopify-Webhook-Id": "w" * MAX_HEADER_VALUE}
