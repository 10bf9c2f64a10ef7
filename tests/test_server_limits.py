"""Limits before the app (issue 12, items 12 and 13), against a real server: uvicorn with the guarded
protocol and the configuration ``kbsuggest serve`` uses (``server_config``), on a free port in a thread.

Item 12: a header over the bound is a 431 JSON and the connection closes; a connection that stalls in its
headers is closed after the header timeout; an idle keep-alive connection is closed; normal requests work.
Item 13: ``X-Forwarded-For`` chooses the rate-limit bucket only when the TCP peer is a trusted proxy, and
then the client is the right-most address that is not a trusted proxy (a client cannot spoof past it).
Timeouts are 0.5 s; the only time bound asserted is a generous one (the socket's 10 s timeout).
"""

import json
import socket
import threading
import time
from contextlib import contextmanager

import pytest
import uvicorn
from fastapi.testclient import TestClient

from kbsuggest.http.limits import RateLimit
from kbsuggest.http.server import server_config

from conftest import make_app

GENEROUS = 10.0  # seconds a socket waits before the test fails: far above the 0.5 s under test


@contextmanager
def serving(settings):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(server_config(make_app(settings), settings, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(GENEROUS)


def settings_for(built_settings, tmp_path, **overrides):
    return built_settings.model_copy(update={"db_path": tmp_path / "k.db", "header_timeout_seconds": 0.5,
                                             "keep_alive_seconds": 0.5, **overrides})


@pytest.fixture
def port(built_settings, tmp_path):
    with serving(settings_for(built_settings, tmp_path)) as port:
        yield port


def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=GENEROUS)


def read_response(conn) -> tuple[int, dict, bytes]:
    """One HTTP/1.1 response with a Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536) or b""
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    while len(rest) < int(headers["content-length"]):
        rest += conn.recv(65536)
    return int(lines[0].split()[1]), headers, rest


def closed(conn) -> bool:
    """True when the server closed the connection (EOF or reset); a socket timeout fails the test."""
    try:
        return conn.recv(1) == b""
    except ConnectionResetError:
        return True


def test_a_1_mb_header_is_431_json_and_the_connection_closes(port):
    conn = connect(port)
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 1_000_000 + b"\r\n\r\n"
    sender = threading.Thread(target=lambda: _send_ignoring_close(conn, request))
    sender.start()
    status, headers, body = read_response(conn)
    assert (status, headers["content-type"], headers["connection"]) == (431, "application/json", "close")
    assert json.loads(body) == {"error": "headers_too_large", "field": None,
                                "message": "the request line and headers are over 16384 bytes"}
    assert closed(conn)
    sender.join(GENEROUS)


def _send_ignoring_close(conn, data):
    try:
        conn.sendall(data)
    except OSError:  # the server closed the connection before reading it all: that is the point
        pass


@pytest.mark.parametrize("start", [b"GET /hea", b"GET /healthz HTTP/1.1\r\nHost: x\r\n"])
def test_a_connection_stalled_in_its_headers_is_closed_after_the_header_timeout(port, start):
    conn = connect(port)
    conn.sendall(start)
    assert closed(conn)


def test_a_connection_that_sends_nothing_is_closed(port):
    assert closed(connect(port))


def test_a_normal_request_works_and_an_idle_keep_alive_connection_is_closed(port):
    conn = connect(port)
    for _ in range(2):  # keep-alive: two requests on one connection
        conn.sendall(b"GET /v1/suggest?q=reset+my+password+email HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, body = read_response(conn)
        assert (status, json.loads(body)["suggestions"][0]["article_id"]) == (200, "password-reset")
        assert "connection" not in headers  # kept open
    assert closed(conn)  # then idle past keep_alive_seconds


# -- item 13: trusted proxies only --------------------------------------------------------------------------

@pytest.mark.parametrize("trusted, peer, forwarded, client", [
    ([], "127.0.0.1", "203.0.113.9", "127.0.0.1"),  # nobody is trusted: the peer
    (["10.0.0.0/8"], "127.0.0.1", "203.0.113.9", "127.0.0.1"),  # the peer is not one of them
    (["127.0.0.1"], "127.0.0.1", "203.0.113.9", "203.0.113.9"),
    (["127.0.0.1"], "127.0.0.1", "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # the client wrote the first
    (["127.0.0.1", "10.0.0.0/8"], "127.0.0.1", "203.0.113.9, 10.1.2.3", "203.0.113.9"),  # two proxies
    (["127.0.0.1"], "127.0.0.1", "127.0.0.1", "127.0.0.1"),  # only proxies: the peer
    (["127.0.0.1"], "127.0.0.1", "not an address, 203.0.113.9", "203.0.113.9"),
    (["::1"], "::1", "2001:db8::7", "2001:db8::7"),
])
def test_client_of(trusted, peer, forwarded, client):
    scope = {"client": (peer, 5000), "headers": [(b"x-forwarded-for", forwarded.encode())]}
    assert RateLimit(app=None, rate=1, burst=1, trusted=trusted).client_of(scope) == client


def statuses(client, forwarded_for: list[str]) -> list[int]:
    return [client.get("/v1/suggest", params={"q": "password"}, headers={"X-Forwarded-For": f}).status_code
            for f in forwarded_for]


@pytest.mark.parametrize("trusted, forwarded, expected", [
    ([], ["198.51.100.1", "198.51.100.2", "198.51.100.3"], [200, 200, 429]),  # one bucket: the peer's
    (["127.0.0.1"], ["198.51.100.1", "198.51.100.2", "198.51.100.3"], [200, 200, 200]),  # one per client
    (["127.0.0.1"], ["1.1.1.1, 203.0.113.9", "2.2.2.2, 203.0.113.9", "3.3.3.3, 203.0.113.9"], [200, 200, 429]),
])
def test_the_rate_limit_bucket_through_the_app(tmp_path, built_settings, trusted, forwarded, expected):
    settings = settings_for(built_settings, tmp_path, rate_limit_per_second=0.001, rate_limit_burst=2,
                            trusted_proxies=trusted)
    with TestClient(make_app(settings), client=("127.0.0.1", 50000)) as client:
        assert statuses(client, forwarded) == expected


def test_a_real_server_from_loopback_does_not_trust_forwarded_headers(tmp_path, built_settings):
    """uvicorn itself would take X-Forwarded-For from 127.0.0.1 (its proxy_headers default): the served
    configuration turns that off, so only ``trusted_proxies`` decides."""
    settings = settings_for(built_settings, tmp_path, rate_limit_per_second=0.001, rate_limit_burst=2)
    with serving(settings) as port:
        found = []
        for address in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
            conn = connect(port)
            conn.sendall(f"GET /v1/suggest?q=password HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: {address}\r\n"
                         f"Connection: close\r\n\r\n".encode())
            found.append(read_response(conn)[0])
        assert found == [200, 200, 429]


def test_a_dot_dot_kb_sent_raw_is_a_422_naming_kb(port):
    """HTTP clients resolve ``..`` before sending; a raw request reaches the server as it is."""
    conn = connect(port)
    conn.sendall(b"GET /v1/kbs/../suggest?q=password HTTP/1.1\r\nHost: x\r\n\r\n")
    status, _, body = read_response(conn)
    assert (status, json.loads(body)["field"]) == (422, "kb")
