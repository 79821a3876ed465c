"""Servers that stall, misframe, or do not speak HTTP: the real CLI ends each in bounded time with one clear line.

Every case keeps the text streamed before the fault and ends in exactly one
``!error`` line (exit 1) — or, where the reply is complete, exit 0.
"""

import gzip
import json
import time

import pytest

import fakeserver as fs
from fakeserver import HOLD, Pause, Reply
from loopback import HEADER, assert_clean, run, split_error
from rawserver import RawServer

MiB = 1024 * 1024


def chat(url, *directives):
    return "".join(f"{d}\n" for d in directives) + f"!api {url}/v1\n!user\nhi\n"


def content(text):
    """One chat chunk carrying ``text``, a JSON string body given literally (so surrogate escapes stay escapes)."""
    return f'data: {{"choices":[{{"index":0,"delta":{{"content":"{text}"}}}}]}}\n\n'.encode()


# --- the idle timeout -----------------------------------------------------------------------


def test_server_silent_before_the_status_line_times_out():
    with RawServer([], hold=True) as server:
        started = time.monotonic()
        result = run(chat(server.url), "--timeout", "1")
        elapsed = time.monotonic() - started
        assert server.wait_for_disconnect(5)
    assert result.returncode == 1
    before, line = split_error(result.stdout)
    assert before == b""
    assert f"{server.url}/v1/chat/completions" in line
    assert "1 s" in line and "--timeout" in line and "config.toml" in line
    assert elapsed < 15
    assert result.stderr == b""


def test_server_silent_in_the_middle_of_a_reply_times_out(server):
    chunks = fs.openai_chat_stream(["first", " second"])
    server.reply = Reply([*chunks[:2], HOLD])
    result = run(chat(server.url), "--timeout", "1")
    assert result.returncode == 1
    before, line = split_error(result.stdout)
    assert before == HEADER + b"first"
    assert "no data" in line and "1 s" in line and "--timeout" in line and "kept" in line
    assert server.wait_for_disconnect(5)
    assert_clean(result)


def test_timeout_from_config_toml(isolated_config):
    (isolated_config / "config.toml").write_text("timeout = 1.5\n")
    with RawServer([], hold=True) as server:
        result = run(chat(server.url))
    assert result.returncode == 1
    _, line = split_error(result.stdout)
    assert "1.5 s" in line


def test_the_command_line_timeout_beats_config_toml(isolated_config, server):
    (isolated_config / "config.toml").write_text("timeout = 1\n")
    server.reply = Reply([*fs.openai_chat_stream(["a"])[:2], Pause(1.6), *fs.openai_chat_stream(["a"])[2:]])
    result = run(chat(server.url), "--timeout", "5")
    assert (result.stdout, result.returncode) == (HEADER + b"a", 0)


def test_keep_alive_comments_reset_the_idle_timeout(server):
    chunks = fs.openai_chat_stream(["slow", " prompt"])
    keep_alive = [item for _ in range(10) for item in (Pause(0.3), b": keep-alive\n\n")]  # 3 s, never 2 s silent
    server.reply = Reply([*chunks[:2], *keep_alive, *chunks[2:]])
    result = run(chat(server.url), "--timeout", "2")
    assert (result.stdout, result.stderr, result.returncode) == (HEADER + b"slow prompt", b"", 0)


@pytest.mark.parametrize("config, message", [
    ('timeout = "soon"', "timeout must be a number of seconds"),
    ("timeout = -3", "timeout must be a number of seconds"),
    ("timeout = true", "timeout must be a number of seconds"),
])
def test_a_bad_timeout_in_config_toml_is_one_clear_line(isolated_config, config, message):
    (isolated_config / "config.toml").write_text(config + "\n")
    result = run("!api http://127.0.0.1:9/v1\n!user\nhi\n")
    assert result.returncode == 1
    _, line = split_error(result.stdout)
    assert "config.toml" in line and message in line


@pytest.mark.parametrize("value", ["-1", "soon", "inf", "nan"])
def test_a_bad_timeout_option_is_a_usage_error(value):
    result = run("!api http://127.0.0.1:9/v1\n!user\nhi\n", "--timeout", value)
    assert result.returncode == 2
    assert b"--timeout" in result.stderr and b"not a number of seconds" in result.stderr
    assert result.stdout == b""


# --- servers that do not answer in HTTP -------------------------------------------------------


@pytest.mark.parametrize("script, read_request, expected", [
    ([], True, "closed it without answering"),
    ([b"HTTP/1.1 20"], True, "did not answer in HTTP"),
    ([b"HTTP/1.1 2"], True, "did not answer in HTTP"),
    ([b"SSH-2.0-OpenSSH_9.6\r\n"], False, "did not answer in HTTP"),
], ids=["accept-and-close", "half-status-line", "one-digit-status", "not-http"])
def test_a_server_that_does_not_answer_in_http_is_not_told_to_start(script, read_request, expected):
    with RawServer(script, read_request=read_request) as server:
        result = run(chat(server.url))
    assert result.returncode == 1
    before, line = split_error(result.stdout)
    assert before == b""
    assert expected in line
    assert server.url in line
    assert "start a local server" not in line and "refused" not in line
    assert_clean(result)


def test_a_compressed_reply_names_its_content_encoding(server):
    body = gzip.compress(b"".join(fs.openai_chat_stream(["never", " seen"])))
    server.reply = Reply([body], headers={"Content-Type": "text/event-stream", "Content-Encoding": "gzip"}, framing="length")
    result = run(chat(server.url))
    assert result.returncode == 1
    before, line = split_error(result.stdout)
    assert before == b""
    assert "content-encoding: gzip" in line and "accept-encoding: identity" in line
    assert "crashed" not in line
    assert server.requests[0].header("accept-encoding") == "identity"


# --- framing: linear, bounded ------------------------------------------------------------------


def test_one_event_over_the_limit_is_a_clear_error(server):
    chunks = fs.openai_chat_stream(["kept"])
    huge = b"data: " + b"x" * (17 * MiB)  # no line end at all
    server.reply = Reply([*chunks[:2], *(huge[i:i + 65536] for i in range(0, len(huge), 65536)), HOLD])
    started = time.monotonic()
    result = run(chat(server.url), timeout=60)
    assert result.returncode == 1
    before, line = split_error(result.stdout)
    assert before == HEADER + b"kept"
    assert "16 MiB" in line and f"{server.url}/v1/chat/completions" in line
    assert time.monotonic() - started < 30


def test_a_15_mib_line_in_64_kib_pieces_is_read_in_linear_time(server):
    text = "".join(f"{i:07d} " for i in range(15 * MiB // 8))
    event = b"data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": text}}]}).encode() + b"\n\n"
    rest = fs.openai_chat_stream(["!"])[1:]
    server.reply = Reply([*(event[i:i + 65536] for i in range(0, len(event), 65536)), *rest])
    started = time.monotonic()
    result = run(chat(server.url), timeout=60)
    assert result.returncode == 0, result.stdout[-300:]
    assert result.stdout == HEADER + text.encode() + b"!"
    assert time.monotonic() - started < 30


def test_300000_empty_data_lines_are_read_in_linear_time(server):
    # an event of empty data lines is no JSON until its end; joining it again at each line would take minutes
    chunks = fs.openai_chat_stream(["kept", " on"])
    server.reply = Reply([*chunks[:2], b"data:\n" * 300_000 + b"data: \n\n", *chunks[2:]])
    started = time.monotonic()
    result = run(chat(server.url), timeout=60)
    assert (result.stdout, result.stderr, result.returncode) == (HEADER + b"kept on", b"", 0)
    assert time.monotonic() - started < 30


def test_a_json_reply_spread_over_100000_lines_is_parsed_once(server):
    # a server that ignores "stream": true and pretty-prints: one value over many lines, no SSE framing
    body = {"id": "x", "object": "chat.completion", "choices": [{"index": 0, "finish_reason": "stop",
            "message": {"role": "assistant", "content": "whole {reply} [in] \"brackets\""},
            "logprobs": {"tokens": list(range(100_000))}}]}
    server.reply = Reply([json.dumps(body, indent=1).encode()], headers={"Content-Type": "application/json"}, framing="length")
    result = run(chat(server.url), timeout=60)
    assert (result.stdout, result.returncode) == (HEADER + b'whole {reply} [in] "brackets"', 0)


def test_multi_line_data_and_a_stream_without_blank_lines_still_work(server):
    multi = b'data: {"choices": [{"index": 0,\ndata:   "delta": {"content": "two "}}]}\n\n'
    no_blank = b'data: {"choices":[{"index":0,"delta":{"content":"lines"}}]}\n'
    server.reply = Reply([multi, no_blank, b": comment\n", b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n',
                          b"data: [DONE]\n"])
    result = run(chat(server.url))
    assert (result.stdout, result.returncode) == (HEADER + b"two lines", 0)


@pytest.mark.parametrize("shape", ["sse", "ndjson", "unbalanced"])
def test_a_stream_nested_5000_deep_is_a_clear_error(server, shape):
    deep = {"sse": b"data: " + b"[" * 5000 + b"]" * 5000 + b"\n\n",
            "ndjson": b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"\n",
            "unbalanced": b"data: " + b"[" * 5000 + b"\n\n"}[shape]
    chunks = fs.openai_chat_stream(["kept"])
    server.reply = Reply([*chunks[:2], deep, *chunks[2:]])
    result = run(chat(server.url))
    assert result.returncode == 1
    before, line = split_error(result.stdout)
    assert before == HEADER + b"kept"
    assert "deeper than 64" in line and server.url in line
    assert_clean(result)


# --- surrogates split across events ---------------------------------------------------------------


@pytest.mark.parametrize("pieces, expected", [
    (["\\ud83d", "\\ude00"], "\U0001F600"),
    (["a\\ud83d", "\\ude00b"], "a\U0001F600b"),
    (["\\ud83d\\ude00"], "\U0001F600"),
    (["\\ud83d", "x"], "\ufffdx"),
    (["x\\ude00"], "x\ufffd"),
    (["x", "\\ud83d"], "x\ufffd"),  # unpaired at the very end of the reply
])
def test_a_character_split_into_surrogate_escapes_is_written_whole(server, pieces, expected):
    end = fs.openai_chat_stream([])
    server.reply = Reply([end[0], *map(content, pieces), *end[1:]])
    result = run(chat(server.url))
    assert (result.stdout.decode("utf-8"), result.stderr, result.returncode) == ("\n\n!assistant\n\n" + expected, b"", 0)


def test_an_unpaired_surrogate_before_an_error_becomes_a_replacement_character(server):
    server.reply = Reply([content("ok\\ud83d"), fs.sse({"error": {"message": "boom"}})])
    result = run(chat(server.url))
    assert result.returncode == 1
    before, line = split_error(result.stdout)
    assert before == HEADER + "ok\ufffd".encode()
    assert "boom" in line


def test_a_surrogate_in_a_completion_stream_at_its_end(server):
    chunks = fs.llama_stream(["x = "])
    server.reply = Reply([chunks[0], b'data: {"content":"\\ud83d","stop":false}\n\n', *chunks[1:]])
    result = run(f"!api {server.url}\n!completion\nx\n")
    assert (result.stdout.decode(), result.returncode) == ("x = \ufffd", 0)


# --- !stats with what servers really send ----------------------------------------------------------


@pytest.mark.parametrize("timings, usage, expected, absent", [
    ({"prompt_n": None, "predicted_n": 3}, None, None, "server:"),
    ({"prompt_n": 12, "predicted_n": 3, "prompt_ms": None, "predicted_per_second": "fast"}, None,
     "server: prompt 12 tok, generated 3 tok", None),
    ({"prompt_n": True, "predicted_n": 3}, None, None, "server:"),
    ({"prompt_n": 10 ** 400, "predicted_n": 3}, None, None, "server:"),
    ({"prompt_n": 12, "predicted_n": 3, "cache_n": "many"}, None, "server: prompt 12 tok, generated 3 tok", "cached"),
    ({}, {"prompt_tokens": None, "completion_tokens": 2}, None, "usage:"),
    ({}, {"prompt_tokens": 9, "completion_tokens": [1]}, "usage: 9 prompt tokens", None),
    ({}, {"prompt_tokens": {"nested": 1}}, None, "usage:"),
])
def test_stats_with_odd_server_figures_keep_the_reply_complete(server, timings, usage, expected, absent):
    final = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "timings": timings, "usage": usage}
    server.reply = Reply([*fs.openai_chat_stream(["done"], finish=None, done=False), fs.sse(final), fs.DONE])
    result = run(chat(server.url, "!stats"))
    assert result.returncode == 0, result.stdout
    reply, _, note = result.stdout.partition(b"\n\n!note ")
    assert reply == HEADER + b"done"
    assert note.count(b"\n") == 1 and b"tok/s" in note
    if expected:
        assert expected.encode() in note
    if absent:
        assert absent.encode() not in note
