"""The fake server itself, checked with the standard library's HTTP client (not with bufbridge)."""

import http.client
import json
import socket
import threading

import pytest

import fakeserver as fs
from fakeserver import CUT, Gate, Reply


def post(server, path="/v1/chat/completions", body=b'{"a": 1}', headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("POST", path, body=body, headers={"content-type": "application/json", **(headers or {})})
    response = conn.getresponse()
    return conn, response


@pytest.mark.parametrize("framing", ["chunked", "close", "length"])
def test_each_framing_delivers_the_script_bytes(framing):
    script = fs.openai_chat_stream(["a", "é"])
    with fs.FakeServer(Reply(script, framing=framing)) as server:
        conn, response = post(server)
        body = response.read()
        conn.close()
        assert response.status == 200
        assert body == b"".join(script)
        assert response.getheader("content-type") == "text/event-stream"
        assert (response.getheader("transfer-encoding") == "chunked") == (framing == "chunked")
        assert (response.getheader("content-length") == str(len(body))) == (framing == "length")
    assert server.requests[0].completed


def test_requests_are_recorded():
    with fs.FakeServer(fs.json_reply(400, {"error": {"message": "no"}})) as server:
        conn, response = post(server, "/x?y=1", body='{"k": "ü"}'.encode(), headers={"X-Thing": "v"})
        assert (response.status, json.loads(response.read())) == (400, {"error": {"message": "no"}})
        conn.close()
    got = server.requests[0]
    assert (got.method, got.target, got.path) == ("POST", "/x?y=1", "/x")
    assert got.header("x-thing") == "v" and got.header("X-THING") == "v"
    assert got.json == {"k": "ü"}
    assert got.raw.endswith(b"\r\n\r\n" + got.body)


def test_routes_and_handler_choose_the_reply():
    routes = {"/infill": fs.text_reply(501, "no fim")}
    with fs.FakeServer(Reply([b"default"], framing="length"), routes=routes) as server:
        assert post(server, "/infill")[1].read() == b"no fim"
        assert post(server, "/other")[1].read() == b"default"
        server.handler = lambda received: fs.text_reply(200, received.path)
        assert post(server, "/echo")[1].read() == b"/echo"


def test_a_gate_holds_the_stream_until_opened():
    gate = Gate()
    with fs.FakeServer(Reply([b"first", gate, b"second"], framing="close")) as server:
        conn, response = post(server)
        assert response.read1(100) == b"first"
        assert gate.wait_reached(5)
        gate.open()
        assert response.read() == b"second"
        conn.close()


def test_cut_leaves_a_chunked_body_incomplete():
    with fs.FakeServer(Reply([b"part", CUT, b"never"])) as server:
        conn, response = post(server)
        with pytest.raises(http.client.IncompleteRead):
            response.read()
        conn.close()


def test_client_closing_early_is_recorded():
    gate = Gate()
    with fs.FakeServer(Reply([b"x", gate, b"y"], framing="close")) as server:
        conn, response = post(server)
        assert response.read1(10) == b"x"
        assert gate.wait_reached(5)
        conn.close()
        response.close()
        assert server.wait_for_disconnect(5)
    assert server.requests[0].disconnected and not server.requests[0].completed


def test_hang_up_without_answering():
    with fs.FakeServer(Reply(status=None)) as server:
        with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
            post(server)


def test_close_releases_a_forgotten_gate_and_joins_every_thread():
    before = set(threading.enumerate())
    server = fs.FakeServer(Reply([b"x", Gate(), b"y"], framing="close"))
    conn, response = post(server)
    assert response.read1(10) == b"x"
    server.close()
    conn.close()
    assert set(threading.enumerate()) == before


def test_closed_port_refuses():
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", fs.closed_port()), timeout=2)
