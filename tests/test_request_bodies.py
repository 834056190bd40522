"""Request bodies over real HTTP (uvicorn on a free port): a size limit that holds before the
body is read and while a chunked body streams, and malformed bodies answered 400 with a code."""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from c360.app import create_app

ME = "{ me { subject } }"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(settings, sample_graph) -> Iterator[tuple[str, int]]:
    """The app behind a real uvicorn, as `c360 serve` runs it; yields (host, port)."""
    port = _free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.1)
    try:
        yield "127.0.0.1", port
    finally:
        server.should_exit = True
        thread.join(30)


def _head(auth: dict[str, str], *extra: str) -> bytes:
    lines = [
        "POST /graphql HTTP/1.1",
        "Host: localhost",
        "Content-Type: application/json",
        f"Authorization: {auth['Authorization']}",
        "Connection: close",
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _read_response(sock: socket.socket) -> tuple[int, dict]:
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def _assert_too_large(status: int, body: dict, limit: int) -> None:
    assert status == 413
    assert body["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert str(limit) in body["errors"][0]["message"]


def test_a_body_over_the_limit_is_refused_by_its_length_before_it_is_read(
    served, auth_header, settings
):
    host, port = served
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(_head(auth_header(), "Content-Length: 67108864"))  # 64 MB announced, none sent
        status, body = _read_response(sock)
    _assert_too_large(status, body, settings.max_body_bytes)
    # A body within the limit is served as before.
    padded = {"query": ME, "extensions": {"pad": "x" * (settings.max_body_bytes // 2)}}
    resp = httpx.post(f"http://{host}:{port}/graphql", json=padded, headers=auth_header())
    assert resp.status_code == 200 and resp.json()["data"]["me"]["subject"]


def test_a_chunked_body_is_counted_as_it_streams(served, auth_header, settings):
    """No Content-Length: the bytes are counted as they arrive, and the answer comes once the
    limit is passed, while the client is still sending."""
    host, port = served
    piece = b"a" * 65536
    document = json.dumps({"query": ME, "extensions": {"pad": ""}}).encode()
    opening, closing = document[:-3], document[-3:]  # the pad string opens ...: "  |  "}}
    sent = 0
    with socket.create_connection((host, port), timeout=20) as sock:
        sock.sendall(_head(auth_header(), "Transfer-Encoding: chunked"))
        for chunk in [opening, *[piece] * 64, closing]:  # 4 MB in all
            if select.select([sock], [], [], 0)[0]:
                break  # answered: stop sending
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
            time.sleep(0.005)
        else:
            sock.sendall(b"0\r\n\r\n")
        status, body = _read_response(sock)
    _assert_too_large(status, body, settings.max_body_bytes)
    assert sent < 2 * settings.max_body_bytes  # refused while streaming, not after


DEEP = 2000  # levels; the bodies below are 4-8 KB


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("nested arrays", b"[" * DEEP + b"]" * DEEP),
        (
            "nested variables",
            b'{"query": "{ me { subject } }", "variables": {"v": '
            + b'{"a": ' * DEEP
            + b"1"
            + b"}" * DEEP
            + b"}}",
        ),
        ("a JSON string", b'"{ me { subject } }"'),
        ("null", b"null"),
        ("a number", b"42"),
        ("not UTF-8", b'{"query": "{ me { subject } }", "operationName": "\xff\xfe"}'),
        ("not JSON", b'{"query": '),
    ],
)
def test_a_malformed_body_is_400_bad_user_input(served, auth_header, name, body):
    host, port = served
    resp = httpx.post(
        f"http://{host}:{port}/graphql",
        content=body,
        headers={**auth_header(), "Content-Type": "application/json"},
    )
    assert resp.status_code == 400, (name, resp.status_code, resp.text[:200])
    [error] = resp.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Traceback" not in error["message"]


def test_a_lone_surrogate_in_a_variable_is_bad_user_input(served, auth_header):
    """JSON can escape half a UTF-16 pair; it is no character, and the caller's to fix."""
    host, port = served
    body = (
        b'{"query": "query($id: ID!) { customer(id: $id) { id } }", "variables": {"id": "\\ud800"}}'
    )
    resp = httpx.post(
        f"http://{host}:{port}/graphql",
        content=body,
        headers={**auth_header(), "Content-Type": "application/json"},
    )
    [error] = resp.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "variables" in error["message"]
