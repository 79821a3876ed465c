"""One write per network read: what arrives together goes out together, and nothing that has arrived waits.

A reply whose events all arrive in one piece is written in a handful of
writes, not one per token, through the command line and through the editor
host alike; a piece that arrives alone is written before the next one is
waited for; characters split across events or reads still come out whole.
"""

import io
import json
import os
import select
import subprocess
import time

import pytest

import fakeserver as fs
from bridge import cli
from fakeserver import Gate, Reply
from loopback import TIMEOUT, Recorder, bufbridge_command, child_env

HEADER = b"\n\n!assistant\n\n"
TOKENS = [f" t{i}" for i in range(2000)]  # about 300 KB of SSE: a few reads of 64 KiB
MAX_WRITES = 40  # one per read, and a few for the header and the end; one per token would be 2000


def chat(url):
    return f"!api {url}/v1\n!user\nhi\n"


@pytest.mark.parametrize("mode", ["chat", "cursor-infill"])
def test_a_reply_that_arrives_at_once_is_written_in_a_few_writes(server, monkeypatch, isolated_config, mode):
    monkeypatch.setenv("NO_PROXY", "*")
    if mode == "chat":
        server.reply = Reply([b"".join(fs.openai_chat_stream(TOKENS))])  # one write by the server
        args, buffer, expected = [], chat(server.url), HEADER + "".join(TOKENS).encode()
    else:
        (isolated_config / "profiles").mkdir()
        (isolated_config / "profiles" / "local.profile").write_text(f"!api {server.url}/\n")
        lines = [f"x{i} = {i}\n" for i in range(len(TOKENS))]  # the stop filter passes code on line by line
        server.reply = Reply([b"".join(fs.llama_stream(lines))])
        args, buffer = ["--infill-at", "2:12", "--profile", "local", "--no-stop", "all"], "def f(x):\n    return \n"
        expected = "".join(lines).encode()
    out, err = Recorder(), io.StringIO()
    status = cli.main(args, stdin=io.BytesIO(buffer.encode()), stdout=out, stderr=err, env=child_env())
    assert (status, err.getvalue()) == (0, "")
    assert b"".join(out.writes) == expected
    assert len(out.writes) <= MAX_WRITES


def test_the_host_sends_a_reply_that_arrives_at_once_in_a_few_text_events(server):
    server.reply = Reply([b"".join(fs.openai_chat_stream(TOKENS))])
    proc = subprocess.Popen(bufbridge_command() + ["host"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=child_env())
    try:
        proc.stdin.write(json.dumps([1, {"method": "request", "text": chat(server.url)}]).encode() + b"\n")
        proc.stdin.flush()
        events = read_events(proc, until=lambda message: message[1].get("event") == "done")
    finally:
        proc.stdin.close()
        proc.wait(TIMEOUT)
        proc.stdout.close()
        proc.stderr.close()
    texts = [e["text"] for e in events if e.get("event") == "text"]
    assert events[-1]["status"] == 0
    assert "".join(texts).encode() == HEADER + "".join(TOKENS).encode()
    assert len(texts) <= MAX_WRITES


def read_events(proc, until):
    """The host's event messages, up to and including the first that ``until`` accepts."""
    pending, events = b"", []
    deadline = time.monotonic() + TIMEOUT
    while True:
        while b"\n" not in pending:
            ready, _, _ = select.select([proc.stdout], [], [], max(deadline - time.monotonic(), 0))
            assert ready, f"the host said nothing for {TIMEOUT} s; events so far: {events[-3:]}"
            data = os.read(proc.stdout.fileno(), 65536)
            assert data, f"the host closed its output; stderr: {proc.stderr.read()!r}"
            pending += data
        line, pending = pending.split(b"\n", 1)
        message = json.loads(line)
        if message[0] == 0:
            events.append(message[1])
            if until(message):
                return events


def test_what_arrived_is_written_before_the_next_read_waits(server, running):
    first, rest = fs.openai_chat_stream(["one", " two", " three"]), fs.openai_chat_stream([" four"], role=False)
    gate = Gate()
    server.reply = Reply([b"".join(first[:-2]), gate, *rest])  # three tokens in one write, then the server waits
    proc = running(chat(server.url))
    assert proc.read_until(b"one two three") == HEADER + b"one two three"
    assert gate.wait_reached()
    gate.open()
    assert proc.finish() == (HEADER + b"one two three four", b"", 0)


@pytest.mark.parametrize("together", [True, False], ids=["in-one-read", "across-reads"])
def test_a_character_in_two_surrogate_escapes_is_whole_however_the_reads_fall(server, running, together):
    def content(escaped):
        return f'data: {{"choices":[{{"index":0,"delta":{{"content":"{escaped}"}}}}]}}\n\n'.encode()

    start, *end = fs.openai_chat_stream([])
    pieces = [content("a\\ud83d"), content("\\ude00b"), content("\\ud83d"), content("c")]
    gate = Gate()
    script = [start, b"".join(pieces), *end] if together else [start, pieces[0], gate, *pieces[1:], *end]
    server.reply = Reply(script)
    proc = running(chat(server.url))
    if not together:
        assert proc.read_until(HEADER + b"a") == HEADER + b"a"  # the half character waits for its other half
        assert gate.wait_reached()
        gate.open()
    assert proc.finish() == (HEADER + "a\U0001F600b\ufffdc".encode(), b"", 0)
