"""Every fault ends the output with one ``!error`` block, exit status 1, text so far kept, no traceback."""

import json
import subprocess

import pytest

import fakeserver as fs
from fakeserver import CUT, HOLD, Gate, Reply
from loopback import HEADER, assert_clean, bufbridge_command, child_env, run, split_error


def chat(url):
    return f"!api {url}/v1\n!user\nhi\n"


# --- errors inside a 200 stream ------------------------------------------------------

IN_STREAM_ERRORS = {
    "openai": fs.sse({"error": {"message": "upstream model crashed", "type": "server_error", "code": 500}}),
    "openrouter": fs.sse({"id": "gen-1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": ""},
                          "finish_reason": "error"}], "error": {"code": 502, "message": "upstream model crashed"}}),
    "vllm": fs.sse({"object": "error", "message": "upstream model crashed", "type": "BadRequestError", "param": None, "code": 400}),
    "llama.cpp-old": b'error: {"code":500,"message":"upstream model crashed","type":"server_error"}\n\n',
    "llama.cpp-new": b'data: {"error":{"code":500,"message":"upstream model crashed","type":"server_error"}}\n\n',
    "ollama-ndjson": b'{"error":"upstream model crashed"}\n',
}


@pytest.mark.parametrize("shape", IN_STREAM_ERRORS)
def test_error_inside_a_chat_stream(server, shape):
    chunks = fs.openai_chat_stream(["Partial", " answer"])
    server.reply = Reply([*chunks[:3], IN_STREAM_ERRORS[shape], *chunks[3:]])
    result = run(chat(server.url))
    assert result.returncode == 1
    assert result.stderr == b""
    before, line = split_error(result.stdout)
    assert before == HEADER + b"Partial answer"
    assert "upstream model crashed" in line
    assert_clean(result)


def test_multiline_error_message_in_a_stream_stays_one_line(server):
    chunks = fs.openai_chat_stream(["Partial"])
    error = fs.sse({"error": {"message": "Traceback:\n  worker died\n", "type": "server_error"}})
    server.reply = Reply([*chunks[:2], error])
    result = run(chat(server.url))
    assert result.returncode == 1
    before, line = split_error(result.stdout)
    assert before == HEADER + b"Partial"
    assert "worker died" in line


def test_anthropic_error_event(server):
    chunks = fs.anthropic_stream(["Partial"])
    error = fs.sse({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, "error")
    server.reply = Reply([*chunks[:4], error, *chunks[4:]])
    result = run(f'!api "{server.url}/v1/messages"\n!user\nhi\n')
    assert result.returncode == 1
    before, line = split_error(result.stdout)
    assert before == HEADER + b"Partial"
    assert "Overloaded" in line
    assert_clean(result)


def test_error_inside_a_llama_native_stream(server):
    chunks = fs.llama_stream(["x = "])
    error = b'data: {"error":{"code":500,"message":"slot unavailable","type":"server_error"}}\n\n'
    server.reply = Reply([chunks[0], error])
    result = run(f"!api {server.url}\n!completion\nx\n")
    assert result.returncode == 1
    before, line = split_error(result.stdout)
    assert before == b"x = "
    assert "slot unavailable" in line


def test_mistral_finish_reason_error(server):
    chunks = fs.openai_chat_stream(["Par"], finish="error")
    server.reply = Reply(chunks)
    result = run(chat(server.url))
    assert result.returncode == 1
    before, line = split_error(result.stdout)
    assert before == HEADER + b"Par"
    assert "error" in line


# --- streams cut short ----------------------------------------------------------------


@pytest.mark.parametrize("framing", ["chunked", "close", "length"])
def test_stream_cut_before_its_end_marker(server, framing):
    chunks = fs.openai_chat_stream(["Half", " a reply"])
    server.reply = Reply([*chunks[:3], CUT, *chunks[3:]], framing=framing)
    result = run(chat(server.url))
    assert result.returncode == 1
    before, line = split_error(result.stdout)
    assert before == HEADER + b"Half a reply"
    assert "kept" in line  # says the partial text is kept
    assert result.stderr == b""
    assert_clean(result)


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_llama_native_stream_cut_before_stop(server, framing):
    server.reply = Reply([*fs.llama_stream(["abc", "def"], stop=False), CUT], framing=framing)
    result = run(f"!api {server.url}\n!completion\nx\n")
    assert result.returncode == 1
    before, line = split_error(result.stdout)
    assert before == b"abcdef"
    assert f"{server.url}/completions" in line


def test_stream_cut_inside_an_event(server):
    event = fs.sse({"choices": [{"index": 0, "delta": {"content": "never seen"}}]})
    server.reply = Reply([fs.openai_chat_stream(["ok"], finish=None, done=False)[1], event[:20], CUT], framing="close")
    result = run(chat(server.url))
    assert result.returncode == 1
    before, _ = split_error(result.stdout)
    assert before == HEADER + b"ok"


def test_empty_200_reply(server):
    server.reply = Reply([], framing="length")
    result = run(chat(server.url))
    assert result.returncode == 1
    before, _ = split_error(result.stdout)
    assert before == HEADER
    assert_clean(result)


# --- HTTP error statuses ------------------------------------------------------------------


def test_400_with_openai_error_json(server):
    message = "This model's maximum context length is 4096 tokens. However, your messages resulted in 5000 tokens."
    server.reply = fs.json_reply(400, {"error": {"message": message, "type": "invalid_request_error",
                                                 "param": "messages", "code": "context_length_exceeded"}})
    result = run(chat(server.url))
    assert result.returncode == 1
    before, line = split_error(result.stdout)
    assert before == b""  # nothing was streamed: no !assistant header either
    assert message in line
    assert "400" in line
    assert f"{server.url}/v1/chat/completions" in line
    assert result.stderr == b""


def test_500_with_plain_text(server):
    server.reply = fs.text_reply(500, "upstream exploded\n")
    result = run(chat(server.url))
    assert result.returncode == 1
    before, line = split_error(result.stdout)
    assert before == b""
    assert "500" in line and "upstream exploded" in line
    assert_clean(result)


def test_500_with_a_multiline_html_body_stays_one_line(server):
    server.reply = fs.text_reply(502, "<html>\n<body>\n<h1>502 Bad Gateway</h1>\n</body>\n</html>\n")
    result = run(chat(server.url))
    assert result.returncode == 1
    _, line = split_error(result.stdout)
    assert "502" in line and "Bad Gateway" in line


@pytest.mark.parametrize("message", [
    "request (5000 tokens) exceeds the available context size (4096 tokens), try increasing it",
    "the request exceeds the available context size",  # the sizes only in the extra fields
])
def test_llama_exceed_context_size_names_both_sizes(server, message):
    server.reply = fs.json_reply(400, {"error": {"code": 400, "message": message, "type": "exceed_context_size_error",
                                                 "n_prompt_tokens": 5000, "n_ctx": 4096}})
    result = run(chat(server.url))
    assert result.returncode == 1
    before, line = split_error(result.stdout)
    assert before == b""
    assert message in line
    assert "5000" in line.replace(message, "") and "4096" in line.replace(message, "")


def test_501_on_infill_quotes_the_server_and_suggests_a_fim_model(server):
    message = "Infill is not supported by this model: prefix token is missing. "
    server.reply = fs.json_reply(501, {"error": {"code": 501, "message": message, "type": "not_supported_error"}})
    result = run(f"!api {server.url}\ndef f():\n!infill\nreturn 1\n")
    assert result.returncode == 1
    assert server.requests[0].path == "/infill"
    before, line = split_error(result.stdout)
    assert before == b""
    assert message.strip() in line and "501" in line
    assert "FIM" in line or "fim" in line
    assert_clean(result)


def test_gemini_error_array(server):
    server.reply = fs.json_reply(400, [{"error": {"code": 400, "message": "Unknown name \"cache_prompt\"", "status": "INVALID_ARGUMENT"}}])
    result = run(chat(server.url))
    _, line = split_error(result.stdout)
    assert result.returncode == 1
    assert 'Unknown name "cache_prompt"' in line


def test_status_error_with_a_huge_body_is_quoted_briefly(server):
    server.reply = fs.text_reply(500, "x" * 200_000)
    result = run(chat(server.url))
    assert result.returncode == 1
    _, line = split_error(result.stdout)
    assert len(line) < 2000


# --- no server -----------------------------------------------------------------------------


def test_connection_refused_names_the_url_and_how_to_start_a_server():
    url = f"http://127.0.0.1:{fs.closed_port()}/v1"
    result = run(f"!api {url}\n!user\nhi\n")
    assert result.returncode == 1
    before, line = split_error(result.stdout)
    assert before == b""
    assert f"{url}/chat/completions" in line
    assert "refused" in line
    assert "bufbridge serve" in line or "llama-server" in line
    assert result.stderr == b""
    assert_clean(result)


def test_server_that_accepts_then_closes_without_a_reply(server):
    server.reply = Reply(status=None)
    result = run(chat(server.url))
    # the headers were never sent: an HTTP-level failure, not a reply
    assert result.returncode == 1
    before, line = split_error(result.stdout)
    assert before == b""
    assert server.url in line
    assert_clean(result)


# --- the reader goes away ----------------------------------------------------------------


def test_closed_stdout_exits_quietly_and_disconnects_from_the_server(server, running):
    gate = Gate()
    chunks = fs.openai_chat_stream(["first", " second", " third"])
    server.reply = Reply([*chunks[:2], gate, *chunks[2:-2], HOLD])
    proc = running(chat(server.url))
    assert proc.read_until(b"first") == HEADER + b"first"
    proc.close_stdout()
    gate.open()  # the next token makes bufbridge write to the closed pipe
    assert server.wait_for_disconnect(timeout=10), "bufbridge kept the connection open"
    stdout, stderr, status = proc.finish()
    assert stderr == b""
    assert status in (0, 1)  # quiet either way; never a crash status
    assert server.requests[0].disconnected


def test_closed_stdout_before_any_reply_text(server):
    # the reader closes before bufbridge writes anything: bufbridge notices (before or after the request
    # went out) and exits quietly, never writing, never waiting for the reply
    gate = Gate()
    server.reply = Reply([gate, *fs.openai_chat_stream(["a"])])
    proc = subprocess.Popen(bufbridge_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=child_env())
    try:
        proc.stdin.write(chat(server.url).encode())
        proc.stdin.close()
        proc.stdout.close()
        stderr = proc.stderr.read()  # the gate is never opened: bufbridge must end on its own
        assert proc.wait(10) in (0, 1)
        assert stderr == b""
        if server.requests:
            assert server.wait_for_disconnect(timeout=10)
    finally:
        gate.open()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()


def test_closed_stdout_in_process_closes_the_connection_before_main_returns(server):
    """In-process, so process exit cannot be what closes the socket."""
    from bridge.cli import main

    class ReaderGone:
        def __init__(self):
            self.data = b""

        def write(self, data):
            if b"second" in data:
                raise BrokenPipeError(32, "Broken pipe")
            self.data += data

        def flush(self):
            pass

    chunks = fs.openai_chat_stream(["first", " second", " third"])
    server.reply = Reply([*chunks[:-2], HOLD])
    out = ReaderGone()
    import io

    err = io.StringIO()
    status = main([], stdin=io.BytesIO(chat(server.url).encode()), stdout=out, stderr=err, env=child_env())
    assert server.wait_for_disconnect(timeout=5), "the HTTP connection stayed open after stdout closed"
    assert out.data == HEADER + b"first"
    assert status == 1
    assert err.getvalue() == ""


# --- nothing but the buffer's text ----------------------------------------------------------


MALFORMED = [{"choices": "nonsense"}, {"choices": [None]}, {"choices": [{"delta": "text"}]},
             {"choices": [{"delta": {"content": ["not", "text"]}}]}, {"choices": [{"text": 5}]}, {"choices": None},
             [1, 2, 3], "a string", None, 42, {"type": "content_block_delta", "delta": "x"},
             {"type": "content_block_delta", "delta": {"text": {"nested": 1}}}, {"content": 7, "stop": "yes"}]


@pytest.mark.parametrize("api, reply, expected", [
    ("/v1", fs.openai_chat_stream(["ok"]), HEADER + b"ok"),
    ("", [*fs.openai_completions_stream(["ok"])], b"ok"),
    ('"/v1/messages"', fs.anthropic_stream(["ok"]), HEADER + b"ok"),
], ids=["chat", "completions", "anthropic"])
def test_malformed_events_are_skipped_without_a_traceback(server, api, reply, expected):
    server.reply = Reply([*(fs.sse(bad) for bad in MALFORMED), *reply])
    if api.startswith('"'):
        buffer = f'!api "{server.url}{api.strip(chr(34))}"\n!user\nhi\n'
    elif api:
        buffer = f"!api {server.url}{api}\n!user\nhi\n"
    else:
        buffer = f"!api {server.url}\n!completion\nhi\n"
    result = run(buffer)
    assert_clean(result)
    assert (result.stdout, result.stderr, result.returncode) == (expected, b"", 0)


def test_non_sse_json_200_reply_is_read(server):
    # a server that ignores "stream": true and answers with one JSON object
    body = {"id": "x", "object": "chat.completion", "choices": [{"index": 0, "finish_reason": "stop",
            "message": {"role": "assistant", "content": "whole reply"}}]}
    server.reply = Reply([json.dumps(body).encode()], headers={"Content-Type": "application/json"}, framing="length")
    result = run(chat(server.url))
    assert (result.stdout, result.returncode) == (HEADER + b"whole reply", 0)
