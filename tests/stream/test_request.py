"""What reaches the server, byte for byte: it is exactly what ``!debug`` prints."""

import json

import pytest

import fakeserver as fs
from fakeserver import Reply
from loopback import run

# headers that the HTTP client adds by itself; everything else must come from the buffer/profile/defaults
TRANSPORT_HEADERS = {"host", "user-agent", "accept-encoding", "accept", "connection", "content-length"}


def parse_debug(stdout):
    """(url, [(name, value)], body bytes) from the ``--debug`` output."""
    assert stdout.startswith(b"\n\nPOST "), stdout
    head, _, rest = stdout[2:].partition(b"\n\n")
    request_line, *header_lines = head.decode().split("\n")
    method, url, version = request_line.split(" ")
    assert (method, version) == ("POST", "HTTP/1.1")
    headers = [tuple(line.split(": ", 1)) for line in header_lines]
    body = rest.split(b"\n", 1)[0]
    return url, headers, body


BUFFERS = {
    "chat": (
        "!api {url}/v1\n!:temperature 0.2\n!>x-custom foo bar\nYou are terse.\n!user\nhi ü 😀\n",
        "/v1/chat/completions",
        {"cache_prompt": True, "max_tokens": 2000, "stream": True, "temperature": 0.2, "stop": ["<|im_end|>"],
         "messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "hi ü 😀"}]},
        {"content-type": "application/json", "x-custom": "foo bar"},
    ),
    "completion": (
        "!api {url}\n!completion\n!:n_predict 16\n!:max_tokens\nOnce upon\na time\n",
        "/completions",
        {"cache_prompt": True, "n_predict": 16, "stream": True, "stop": ["<|im_end|>"], "prompt": "Once upon\na time"},
        {"content-type": "application/json"},
    ),
    "infill": (
        '!api {url}/\n!:input_extra [{{"filename": "a.py", "text": "x = 1\\n"}}]\ndef f():\n!infill\n    return x\n',
        "/infill",
        {"cache_prompt": True, "max_tokens": 2000, "stream": True, "stop": ["<|im_end|>"], "prompt": "",
         "input_prefix": "def f():\n", "input_suffix": "\n    return x", "input_extra": [{"filename": "a.py", "text": "x = 1\n"}]},
        {"content-type": "application/json"},
    ),
    "literal-url": (
        '!api "{url}/custom/path?key=1"\n!>Content-Type application/json; charset=utf-8\n!user\nhi\n',
        "/custom/path?key=1",
        {"cache_prompt": True, "max_tokens": 2000, "stream": True, "stop": ["<|im_end|>"],
         "messages": [{"role": "user", "content": "hi"}]},
        {"content-type": "application/json; charset=utf-8"},
    ),
    "interpolated-url": (
        "!api {url}/models/{{model}}\n!:model m-1\n!user\nhi\n!assistant\nHello\n!user\nagain\n",
        "/models/m-1/chat/completions",
        {"cache_prompt": True, "max_tokens": 2000, "stream": True, "stop": ["<|im_end|>"], "model": "m-1",
         "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello"},
                      {"role": "user", "content": "again"}]},
        {"content-type": "application/json"},
    ),
}


def reply_for(path):
    if path.endswith("/completions") and "chat" not in path:
        return Reply(fs.openai_completions_stream(["ok"]))
    if path == "/infill":
        return Reply(fs.llama_stream(["    ok"]))  # indented: the body of def f(), which the stop heuristics keep
    return Reply(fs.openai_chat_stream(["ok"]))


@pytest.mark.parametrize("name", BUFFERS)
def test_the_request_sent_is_the_request_debug_prints(server, name):
    template, target, body, headers = BUFFERS[name]
    buffer = template.format(url=server.url)
    server.reply = reply_for(target.split("?")[0])

    debug = run(buffer, "--debug")
    assert (debug.returncode, debug.stderr) == (0, b"")
    url, debug_headers, debug_body = parse_debug(debug.stdout)
    assert server.requests == []  # a dry run sends nothing

    result = run(buffer)
    assert result.returncode == 0, result.stdout
    assert result.stdout.endswith(b"ok")
    (got,) = server.requests
    # what was sent is what --debug printed ...
    assert got.method == "POST"
    assert server.url + got.target == url
    assert got.body == debug_body
    for key, value in debug_headers:
        assert got.header(key) == value, key
    assert set(got.header_names()) == TRANSPORT_HEADERS | {key.lower() for key, _ in debug_headers}
    # ... and it is what the buffer says
    assert got.target == target
    assert got.json == body
    assert {key.lower(): value for key, value in debug_headers} == headers
    assert got.header("content-length") == str(len(got.body))
    assert got.header("accept-encoding") == "identity"
    assert got.header("user-agent").startswith("bufbridge/")


@pytest.mark.parametrize("name", BUFFERS)
def test_crlf_buffers_send_exactly_the_same_request(server, name):
    template, target, _, _ = BUFFERS[name]
    buffer = template.format(url=server.url)
    server.reply = reply_for(target.split("?")[0])
    lf = run(buffer)
    crlf = run(buffer.replace("\n", "\r\n"))
    assert lf.returncode == crlf.returncode == 0
    assert lf.stdout == crlf.stdout
    first, second = server.requests
    assert second.raw == first.raw
    assert b"\r" not in first.body


def test_crlf_debug_line_is_still_a_dry_run(server):
    server.reply = Reply(fs.openai_chat_stream(["sent!"]))
    result = run(f"!api {server.url}/v1\r\n!debug\r\n!user\r\nhi\r\n")
    assert result.returncode == 0
    assert result.stdout.startswith(b"\n\nPOST ")
    assert server.requests == []


def test_a_buffer_cannot_turn_streaming_off(server):
    server.reply = Reply(fs.openai_chat_stream(["ok"]))
    run(f"!api {server.url}/v1\n!:stream false\n!user\nhi\n")
    assert server.requests[0].json["stream"] is True


def test_body_is_compact_json_with_raw_utf8(server):
    server.reply = Reply(fs.openai_chat_stream(["ok"]))
    run(f"!api {server.url}/v1\n!user\nnaïve ☃\n")
    got = server.requests[0]
    assert "naïve ☃".encode() in got.body
    assert b"\\u" not in got.body
    assert json.dumps(got.json, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode() == got.body
