"""The outbound policy (issue 13, findings 2 and 5): a table of addresses in every spelling, DNS answers
that change between the check and the connection, redirects, the deadline and the size cap."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from connector.errors import OutboundRefused
from connector.outbound import DeadlineExceeded, OutboundPolicy, ResponseTooLarge, guarded_session, read_body
from connector.outbound.addresses import display_url, literal_address

STRICT = OutboundPolicy(allow_loopback=False, resolver=lambda host, port: pytest.fail(f"resolved {host}"))
SANDBOX = OutboundPolicy(allow_loopback=True, resolver=lambda host, port: pytest.fail(f"resolved {host}"))

# (host as written in a URL, what it is)
REFUSED_HOSTS = [
    ("127.0.0.1", "loopback"),
    ("127.1", "loopback"),
    ("2130706433", "loopback"),  # decimal
    ("0177.0.0.1", "loopback"),  # octal
    ("0x7f.0.0.1", "loopback"),  # hex
    ("0x7f000001", "loopback"),
    ("[::1]", "loopback"),
    ("[::ffff:127.0.0.1]", "loopback"),  # IPv4-mapped
    ("[::ffff:7f00:1]", "loopback"),
    ("10.0.0.5", "private"),
    ("012.0.0.5", "private"),  # octal 10.0.0.5
    ("172.16.3.4", "private"),
    ("192.168.1.1", "private"),
    ("3232235777", "private"),  # decimal 192.168.1.1
    ("[fd00::1]", "private"),
    ("[::ffff:10.0.0.5]", "private"),
    ("169.254.169.254", "link-local"),  # cloud metadata
    ("0xa9fea9fe", "link-local"),
    ("[fe80::1]", "link-local"),
    ("[::ffff:169.254.169.254]", "link-local"),
    ("[64:ff9b::a9fe:a9fe]", "link-local"),  # NAT64 of the metadata address
    ("[2002:a9fe:a9fe::]", "link-local"),  # 6to4 of it
    ("100.64.0.1", "carrier-grade NAT"),
    ("100.127.255.254", "carrier-grade NAT"),
    ("224.0.0.1", "multicast"),
    ("[ff02::1]", "multicast"),
    ("0.0.0.0", "unspecified"),
    ("0", "unspecified"),
    ("[::]", "unspecified"),
    ("240.0.0.1", "private"),  # reserved class E: Python counts it private
    ("192.0.2.10", "private"),  # documentation range
    ("198.18.0.1", "private"),  # benchmarking range
    ("255.255.255.255", "private"),
]
PUBLIC_HOSTS = ["93.184.215.14", "1.1.1.1", "[2606:4700:4700::1111]", "[::ffff:8.8.8.8]", "134744072"]


@pytest.mark.parametrize(("host", "kind"), REFUSED_HOSTS)
def test_non_public_addresses_are_refused_in_every_spelling(host: str, kind: str) -> None:
    with pytest.raises(OutboundRefused, match=kind):
        STRICT.check_url(f"https://{host}/wp-json/", source="store URL")
    with pytest.raises(OutboundRefused, match=kind):
        STRICT.vet(host.strip("[]"), 443)


@pytest.mark.parametrize("host", PUBLIC_HOSTS)
def test_public_addresses_pass(host: str) -> None:
    STRICT.check_url(f"https://{host}/feed.csv")
    assert STRICT.vet(host.strip("[]"), 443) == [str(literal_address(host))]


@pytest.mark.parametrize(("host", "allowed"), [("127.0.0.1", True), ("[::ffff:127.0.0.1]", True), ("2130706433", True),
                                               ("[::1]", True), ("10.0.0.5", False), ("169.254.169.254", False),
                                               ("100.64.0.1", False)])
def test_loopback_is_allowed_only_when_configured_and_nothing_else_is(host: str, allowed: bool) -> None:
    if allowed:
        SANDBOX.check_url(f"http://{host}:8082/")
        return
    with pytest.raises(OutboundRefused):
        SANDBOX.check_url(f"https://{host}/")


@pytest.mark.parametrize(("url", "problem"), [
    ("http://shop.example/", "plain http:// is only allowed for a store on this machine"),
    ("http://127.0.0.1.evil.example/", "plain http://"),
    ("ftp://shop.example/", "https://"),
    ("file:///etc/passwd", "https://"),
    ("gopher://127.0.0.1/", "https://"),
    ("https://user:pw@shop.example/", "user name or password"),
    ("https:///feed.csv", "no host name"),
    ("https://shop.example:99999/", "not a valid URL"),
    ("HTTPS://A../", "host name that is not valid"),  # found by the fuzz test: a 500 in the redirect
    ("https://./", "host name that is not valid"),
])
def test_urls_the_policy_refuses(url: str, problem: str) -> None:
    with pytest.raises(OutboundRefused, match=problem) as caught:
        SANDBOX.check_url(url, source="feed URL")
    assert "pw" not in str(caught.value)


def test_plain_http_to_this_machine_needs_the_setting() -> None:
    with pytest.raises(OutboundRefused, match="OUTBOUND_ALLOW_LOOPBACK"):
        STRICT.check_url("http://127.0.0.1:8082/")
    SANDBOX.check_url("http://localhost:8082/")


def test_a_name_is_refused_when_any_of_its_answers_is_not_public() -> None:
    answers = {"shop.example": ["93.184.215.14"], "mixed.example": ["93.184.215.14", "10.1.2.3"],
               "mapped.example": ["::ffff:169.254.169.254"], "empty.example": []}
    policy = OutboundPolicy(resolver=lambda host, port: answers[host])
    assert policy.vet("shop.example", 443) == ["93.184.215.14"]
    with pytest.raises(OutboundRefused, match="private"):
        policy.vet("mixed.example", 443)
    with pytest.raises(OutboundRefused, match="link-local"):
        policy.vet("mapped.example", 443)
    with pytest.raises(OutboundRefused, match="no address"):
        policy.vet("empty.example", 443)


def test_display_url_hides_credentials_and_query_values() -> None:
    shown = display_url("https://bob:s3cret@feeds.example:8443/stock.csv?token=abc123&x=1")
    assert shown == "https://feeds.example:8443/stock.csv?token=***&x=***"


class _Handler(BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
    seen: list[tuple[str, str]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Host", "")))
        status, headers, body = self.routes.get(self.path.split("?", 1)[0], (404, {}, b"no"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, int]]:
    """A plain HTTP server on 127.0.0.2 (loopback, but not what `localhost` resolves to)."""
    _Handler.routes, _Handler.seen = {}, []
    httpd = ThreadingHTTPServer(("127.0.0.2", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield "127.0.0.2", httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_the_connection_goes_to_the_address_that_was_vetted(server: tuple[str, int]) -> None:
    address, port = server
    asked: list[str] = []
    policy = OutboundPolicy(allow_loopback=True, resolver=lambda host, _port: asked.append(host) or [address])
    _Handler.routes["/feed.csv"] = (200, {}, b"sku,available\nA,1\n")
    with guarded_session(policy) as session:
        response = session.get(f"http://localhost:{port}/feed.csv", timeout=5)
    # The system resolver says localhost is 127.0.0.1, where nothing listens: only the vetted 127.0.0.2 answers.
    assert response.content == b"sku,available\nA,1\n"
    assert asked == ["localhost"]
    assert _Handler.seen == [("/feed.csv", f"localhost:{port}")]


def test_an_answer_that_changes_between_check_and_connect_is_refused(server: tuple[str, int]) -> None:
    """DNS rebinding: the first lookup (the check) is harmless, the one at connect time is not."""
    address, port = server
    answers = iter([[address], ["10.0.0.7"]])
    policy = OutboundPolicy(allow_loopback=True, resolver=lambda _host, _port: next(answers))
    assert policy.vet("localhost", port) == [address]
    with guarded_session(policy) as session, pytest.raises(OutboundRefused, match="private"):
        session.get(f"http://localhost:{port}/feed.csv", timeout=5)
    assert _Handler.seen == []


def test_every_redirect_is_checked_again(server: tuple[str, int]) -> None:
    address, port = server
    policy = OutboundPolicy(allow_loopback=True)
    _Handler.routes["/moved"] = (302, {"Location": f"http://{address}:{port}/feed.csv"}, b"")
    _Handler.routes["/feed.csv"] = (200, {}, b"sku\nA\n")
    _Handler.routes["/to-metadata"] = (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"")
    _Handler.routes["/to-https-private"] = (301, {"Location": "https://[::ffff:10.0.0.1]/"}, b"")
    _Handler.routes["/loop"] = (302, {"Location": "/loop"}, b"")
    with guarded_session(policy) as session:
        assert session.get(f"http://{address}:{port}/moved", timeout=5).content == b"sku\nA\n"
        with pytest.raises(OutboundRefused, match="plain http"):
            session.get(f"http://{address}:{port}/to-metadata", timeout=5)
        with pytest.raises(OutboundRefused, match="private"):
            session.get(f"http://{address}:{port}/to-https-private", timeout=5)
        with pytest.raises(requests.TooManyRedirects):
            session.get(f"http://{address}:{port}/loop", timeout=5)
    assert _Handler.seen.count(("/loop", f"{address}:{port}")) == policy.max_redirects + 1


def test_proxies_from_the_environment_are_not_used(server: tuple[str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    address, port = server
    monkeypatch.setenv("HTTP_PROXY", "http://10.9.9.9:3128")
    _Handler.routes["/feed.csv"] = (200, {}, b"sku\n")
    with guarded_session(OutboundPolicy(allow_loopback=True)) as session:
        assert session.get(f"http://{address}:{port}/feed.csv", timeout=5).status_code == 200


def test_the_body_is_capped_and_the_deadline_holds_however_slowly_it_drips(server: tuple[str, int]) -> None:
    address, port = server
    _Handler.routes["/big"] = (200, {}, b"x" * 300_000)
    _Handler.routes["/ok"] = (200, {}, b"x" * 1000)
    policy = OutboundPolicy(allow_loopback=True)
    with guarded_session(policy) as session:
        response = session.get(f"http://{address}:{port}/big", stream=True, timeout=5)
        with pytest.raises(ResponseTooLarge, match="more than 100,000 bytes") as too_large:
            read_body(response, max_bytes=100_000, deadline=1e9, what="feeds.example")
        assert "xxx" not in str(too_large.value)
        ticks = iter(range(100))  # every chunk read moves the clock one second on: a drip past the deadline
        response = session.get(f"http://{address}:{port}/big", stream=True, timeout=5)
        with pytest.raises(DeadlineExceeded, match="within the deadline"):
            read_body(response, max_bytes=10**9, deadline=2, clock=lambda: next(ticks), what="feeds.example")
        response = session.get(f"http://{address}:{port}/ok", stream=True, timeout=5)
        assert read_body(response, max_bytes=1000, deadline=1e9) == b"x" * 1000
        assert response.content == b"x" * 1000


def test_feed_fetches_obey_the_policy_and_never_quote_what_they_read(server: tuple[str, int],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding 5: a feed URL redirected to an internal host, or to anything but a feed, says so and no more."""
    from connector.errors import InputError
    from connector.feeds import importer
    from connector.feeds.importer import fetch

    address, port = server
    base = f"http://{address}:{port}"
    sandbox = OutboundPolicy(allow_loopback=True)
    _Handler.routes["/feed.csv"] = (302, {"Location": "http://169.254.169.254/latest/meta-data/iam"}, b"")
    _Handler.routes["/passwd"] = (200, {}, b"root:x:0:0:root:/root:/bin/bash\n" * 10)
    with pytest.raises(InputError) as redirected:
        fetch(f"{base}/feed.csv?token=t0ps3cret", policy=sandbox)
    assert "refused by the outbound policy" in str(redirected.value)
    assert "t0ps3cret" not in str(redirected.value) and "token=***" in str(redirected.value)
    with pytest.raises(InputError, match="plain http:// is only allowed"):
        fetch(f"{base}/passwd", policy=OutboundPolicy(allow_loopback=False))
    monkeypatch.setattr(importer, "MAX_FEED_BYTES", 10)
    with pytest.raises(InputError, match="more than 10 bytes") as too_big:
        importer.fetch(f"{base}/passwd", policy=sandbox)
    assert "root" not in str(too_big.value)
    monkeypatch.undo()
    assert fetch(f"{base}/passwd", policy=sandbox).data == b"root:x:0:0:root:/root:/bin/bash\n" * 10
