"""The reply reaches stdout as it arrives, decoded exactly, over a real loopback connection."""

import re

import pytest

import fakeserver as fs
from fakeserver import Gate, Reply
from loopback import assert_clean, run

HEADER = b"\n\n!assistant\n\n"


def chat(url, text="hi", extra=""):
    return f"!api {url}/v1\n{extra}!user\n{text}\n"


# --- tokens are written as soon as they arrive --------------------------------


def _gated(chunks, where):
    """``chunks`` with a Gate inserted after each index in ``where``; returns (script, gates)."""
    script, gates = [], []
    for i, chunk in enumerate(chunks):
        script.append(chunk)
        if i in where:
            gate = Gate()
            gates.append(gate)
            script.append(gate)
    return script, gates


@pytest.mark.parametrize("framing", ["chunked", "close", "length"])
def test_chat_tokens_reach_stdout_while_the_stream_is_held_open(server, running, framing):
    # chunks: role, "Hel", "lo", finish, [DONE]; the server stops after "Hel" and after "lo"
    script, (after_hel, after_lo) = _gated(fs.openai_chat_stream(["Hel", "lo"]), where={1, 2})
    server.reply = Reply(script, framing=framing)
    proc = running(chat(server.url))

    assert proc.read_until(HEADER + b"Hel") == HEADER + b"Hel"
    assert after_hel.wait_reached() and not after_lo.reached.is_set()  # the rest is not even sent yet
    after_hel.open()
    assert proc.read_until(b"lo") == HEADER + b"Hello"
    assert after_lo.wait_reached()  # the server gets there just after its write: wait, do not race it
    after_lo.open()
    stdout, stderr, status = proc.finish()
    assert (stdout, stderr, status) == (HEADER + b"Hello", b"", 0)


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_llama_native_tokens_reach_stdout_while_the_stream_is_held_open(server, running, framing):
    script, (first, second) = _gated(fs.llama_stream(["def", " f():"]), where={0, 1})
    server.reply = Reply(script, framing=framing)
    proc = running(f"!api {server.url}\n!completion\n# a function\n")

    assert proc.read_until(b"def") == b"def"
    first.open()
    assert proc.read_until(b" f():") == b"def f():"
    second.open()
    assert proc.finish() == (b"def f():", b"", 0)
    assert server.requests[0].path == "/completions"


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_a_token_split_across_network_writes_is_written_once_complete(server, running, framing):
    # one SSE event, written in three pieces: the client must wait for its end
    event = fs.sse({"choices": [{"index": 0, "delta": {"content": "Hi"}}]})
    first, second = Gate(), Gate()
    script = [event[:9], first, event[9:-3], second, event[-3:], *fs.openai_chat_stream([], role=False)]
    server.reply = Reply(script, framing=framing)
    proc = running(chat(server.url))
    assert proc.read_until(HEADER) == HEADER
    first.open()
    assert second.wait_reached()
    second.open()
    stdout, stderr, status = proc.finish()
    assert (stdout, stderr, status) == (HEADER + b"Hi", b"", 0)


# --- decoding ----------------------------------------------------------------


def test_multibyte_characters_split_across_writes_come_out_whole(server, running):
    text = "café 😀 ok"
    event = fs.sse({"choices": [{"index": 0, "delta": {"content": text}}]})
    raw = text.encode()
    cut_e = event.index(raw) + raw.index("é".encode()) + 1  # between the two bytes of é
    cut_smiley = event.index(raw) + raw.index("😀".encode()) + 2  # inside the 4-byte emoji
    gates = [Gate(), Gate()]
    script = [event[:cut_e], gates[0], event[cut_e:cut_smiley], gates[1], event[cut_smiley:],
              *fs.openai_chat_stream([], role=False)]
    server.reply = Reply(script)
    proc = running(chat(server.url))
    for gate in gates:
        assert gate.wait_reached()
        gate.open()
    stdout, stderr, status = proc.finish()
    assert (stdout, stderr, status) == (HEADER + text.encode(), b"", 0)
    assert "\ufffd" not in stdout.decode()


def test_sse_comments_event_lines_and_blank_keep_alives_are_skipped(server):
    chunks = fs.openai_chat_stream(["Hel", "lo"])
    server.reply = Reply([
        b": keep-alive\n\n",
        b": OPENROUTER PROCESSING\n\n",
        b"\n\n\n",
        b"retry: 1000\n",
        chunks[0],
        b"event: completion\nid: 7\n" + chunks[1],
        b":\n\n",
        b": keep-alive\r\n\r\n",
        chunks[2],
        b"\n",
        *chunks[3:],
    ])
    result = run(chat(server.url))
    assert (result.stdout, result.stderr, result.returncode) == (HEADER + b"Hello", b"", 0)


def test_crlf_framed_stream_is_decoded(server):
    server.reply = Reply([c.replace(b"\n", b"\r\n") for c in fs.openai_chat_stream(["a\n", "b"])])
    result = run(chat(server.url))
    assert (result.stdout, result.returncode) == (HEADER + b"a\nb", 0)


@pytest.mark.parametrize("ending", [b"data: [DONE]", b"data: [DONE]\n", b"data: [DONE]\r\n"])
def test_done_without_a_trailing_blank_line_ends_the_reply(server, ending):
    server.reply = Reply([*fs.openai_chat_stream(["ok"], done=False), ending], framing="close")
    result = run(chat(server.url))
    assert (result.stdout, result.stderr, result.returncode) == (HEADER + b"ok", b"", 0)


def test_text_after_done_is_ignored(server):
    server.reply = Reply([*fs.openai_chat_stream(["ok"]), fs.sse({"choices": [{"delta": {"content": "LATE"}}]})])
    result = run(chat(server.url))
    assert (result.stdout, result.returncode) == (HEADER + b"ok", 0)


def test_llama_final_chunk_without_blank_line_ends_the_reply(server):
    chunks = fs.llama_stream(["x = ", "1"])
    server.reply = Reply([*chunks[:-1], chunks[-1].rstrip(b"\n")], framing="close")
    result = run(f"!api {server.url}\n!completion\nx\n")
    assert (result.stdout, result.stderr, result.returncode) == (b"x = 1", b"", 0)


def test_openai_completions_stream(server):
    server.reply = Reply(fs.openai_completions_stream(["The", " end."]))
    result = run(f"!api {server.url}/v1\n!completion\nOnce upon a time\n")
    assert (result.stdout, result.stderr, result.returncode) == (b"The end.", b"", 0)
    assert server.requests[0].path == "/v1/completions"


def test_llama_infill_stream(server):
    server.reply = Reply(fs.llama_stream(["    return a + b"]))
    result = run(f"!api {server.url}\ndef add(a, b):\n!infill\nprint(add(1, 2))\n")
    assert (result.stdout, result.stderr, result.returncode) == (b"    return a + b", b"", 0)
    got = server.requests[0]
    assert got.path == "/infill"
    assert (got.json["input_prefix"], got.json["input_suffix"], got.json["prompt"]) == ("def add(a, b):\n", "\nprint(add(1, 2))", "")


def test_anthropic_named_events(server):
    server.reply = Reply(fs.anthropic_stream(["Hello", " there"]))
    result = run(f'!api "{server.url}/v1/messages"\n!user\nhi\n')
    assert (result.stdout, result.stderr, result.returncode) == (HEADER + b"Hello there", b"", 0)
    assert server.requests[0].path == "/v1/messages"


def test_prepend_comes_before_the_streamed_text(server):
    server.reply = Reply(fs.openai_chat_stream(["b"]))
    result = run(chat(server.url, extra='!prepend "A\\n"\n'))
    assert (result.stdout, result.returncode) == (HEADER + b"A\nb", 0)


# --- reasoning -----------------------------------------------------------------


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_openai_reasoning_is_written_inside_think_tags(server, field):
    server.reply = Reply(fs.openai_chat_stream(["Hi", "!"], reasoning=["Let me ", "think."], reasoning_field=field))
    result = run(chat(server.url))
    assert (result.stdout, result.returncode) == (HEADER + b"<think>\nLet me think.\n</think>\n\nHi!", 0)


def test_anthropic_thinking_is_written_inside_think_tags(server):
    server.reply = Reply(fs.anthropic_stream(["Answer."], thinking=["Hmm, ", "so."]))
    result = run(f'!api "{server.url}/v1/messages"\n!user\nhi\n')
    assert (result.stdout, result.returncode) == (HEADER + b"<think>\nHmm, so.\n</think>\n\nAnswer.", 0)


def test_reasoning_only_reply_closes_its_think_tag(server):
    server.reply = Reply(fs.openai_chat_stream([], reasoning=["only thoughts"]))
    result = run(chat(server.url))
    assert (result.stdout, result.returncode) == (HEADER + b"<think>\nonly thoughts\n</think>\n\n", 0)


# --- !stats --------------------------------------------------------------------


def test_stats_note_reports_rate_and_llama_timings(server):
    server.reply = Reply(fs.llama_stream(["a", "b", "c"]))
    result = run(f"!api {server.url}\n!stats\n!completion\nabc\n")
    assert result.returncode == 0, result.stdout
    text, _, note = result.stdout.partition(b"\n\n!note ")
    assert text == b"abc"
    assert re.fullmatch(
        rb"[0-9.e+]+ tok/s, 3 toks, \d+ ms to first byte, \d+ ms to first token; "
        rb"server: prompt 12 tok in 30 ms \(393\.4 tok/s\), generated 3 tok in 60 ms \(50 tok/s\)\n",
        note,
    ), note


def test_stats_in_infill_mode_go_to_stderr_never_into_the_code(server):
    server.reply = Reply(fs.llama_stream(["    return 1"]))
    result = run(f"!api {server.url}\n!stats\ndef f():\n!infill\n")
    assert (result.stdout, result.returncode) == (b"    return 1", 0)
    assert re.search(rb"^bufbridge: [0-9.e+]+ tok/s, 1 toks, .*server: prompt 12 tok", result.stderr, re.M), result.stderr


@pytest.mark.parametrize("where", ["chat", "cursor"])
def test_the_stats_option_adds_the_note_as_the_directive_does(server, where, tmp_path):
    server.reply = Reply(fs.llama_stream(["1"]))
    if where == "chat":
        result = run(f"!api {server.url}\n!completion\nx = ", "--stats")
        text, _, note = result.stdout.partition(b"\n\n!note ")
        assert (text, result.returncode) == (b"1", 0)
    else:
        (tmp_path / "box.profile").write_text(f"!api {server.url}/\n")
        result = run("x = \n", "--stats", "--infill-at", "1:5", "--profile", str(tmp_path / "box.profile"))
        assert (result.stdout, result.returncode) == (b"1", 0), result.stderr
        note = result.stderr.removeprefix(b"bufbridge: ")
    assert re.match(rb"[0-9.e+]+ tok/s, 1 toks, .*server: prompt 12 tok", note), (note, result.stderr)


def test_stats_note_in_chat_reports_usage_and_timings_of_the_last_chunk(server):
    chunks = fs.openai_chat_stream(["x"], usage={"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10})
    last = fs.sse({"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10},
                   "timings": {**fs.LLAMA_TIMINGS, "cache_n": 5}})
    server.reply = Reply([*chunks[:-2], last, chunks[-1]])
    result = run(chat(server.url, extra="!stats\n"))
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith(HEADER + b"x\n\n!note ")
    note = result.stdout.split(b"!note ", 1)[1]
    assert b"1 toks" in note
    assert b"server: prompt 12 tok in 30 ms (393.4 tok/s), 5 cached, generated 3 tok in 60 ms (50 tok/s)" in note
    assert note.endswith(b"; usage: 9 prompt + 1 completion tokens\n")


# --- continuing an interrupted reply --------------------------------------------


def test_buffer_ending_in_assistant_text_is_continued_without_a_new_header(server):
    server.reply = Reply(fs.openai_chat_stream([" 42", "."]))
    result = run(f"!api {server.url}/v1\n!user\nThe answer?\n!assistant\nThe answer is\n")
    assert (result.stdout, result.stderr, result.returncode) == (b" 42.", b"", 0)
    assert server.requests[0].json["messages"][-2:] == [
        {"role": "user", "content": "The answer?"},
        {"role": "assistant", "content": "The answer is"},
    ]


def test_buffer_ending_in_an_empty_assistant_header_gets_the_reply_under_it(server):
    server.reply = Reply(fs.openai_chat_stream(["Hi"]))
    result = run(f"!api {server.url}/v1\n!user\nhello\n!assistant\n\n")
    assert (result.stdout, result.returncode) == (b"\nHi", 0)  # no second !assistant header
    assert server.requests[0].json["messages"][-1] == {"role": "user", "content": "hello"}


def test_no_traceback_on_any_successful_run(server):
    server.reply = Reply(fs.openai_chat_stream(["fine"]))
    result = run(chat(server.url))
    assert_clean(result)
    assert result.returncode == 0
