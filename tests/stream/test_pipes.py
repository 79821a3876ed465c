"""Standard output as editors and containers really give it: closed early, non-blocking, full.

The real CLI against loopback servers. The reader going away must reach the
server within a second or two, even when the server is silent; a slow,
non-blocking pipe must get every byte; a failing one, one clear line.
"""

import os
import select
import subprocess
import time

import pytest

import fakeserver as fs
from fakeserver import HOLD, Pause, Reply
from loopback import HEADER, bufbridge_command, child_env
from rawserver import RawServer

DISCONNECT_WITHIN = 3.0  # seconds; bufbridge itself takes milliseconds, the rest is a busy machine's slack


def chat(url):
    return f"!api {url}/v1\n!user\nhi\n"


def assert_quiet_exit(proc):
    stdout, stderr, status = proc.finish()
    assert stderr == b""
    assert status == 1  # the reader is gone: nothing to say, nowhere to say it
    return stdout


def test_reader_gone_while_the_server_has_not_answered(running):
    with RawServer([], hold=True) as server:  # reads the request, then says nothing at all
        proc = running(chat(server.url))
        assert server.wait_for_request(20)  # the whole request is in: bufbridge waits for the status line
        proc.close_stdout()
        closed = time.monotonic()
        assert server.wait_for_disconnect(20), "bufbridge kept the connection open"
        assert server.disconnected_at - closed < DISCONNECT_WITHIN
        assert_quiet_exit(proc)


def test_reader_gone_while_the_server_is_silent_after_its_headers(server, running):
    server.reply = Reply([HOLD])  # headers, then nothing: a long prompt being processed
    proc = running(chat(server.url))
    assert proc.read_until(HEADER) == HEADER
    proc.close_stdout()
    closed = time.monotonic()
    assert server.wait_for_disconnect(20), "bufbridge kept the connection open"
    assert time.monotonic() - closed < DISCONNECT_WITHIN
    assert_quiet_exit(proc)


def test_reader_gone_while_the_server_sends_only_keep_alives(server, running):
    chunks = fs.openai_chat_stream(["first"])
    keep_alive = [item for _ in range(100) for item in (Pause(0.1), b": keep-alive\n\n")]
    server.reply = Reply([*chunks[:2], *keep_alive, *chunks[2:]])
    proc = running(chat(server.url))
    assert proc.read_until(b"first") == HEADER + b"first"
    proc.close_stdout()
    closed = time.monotonic()
    assert server.wait_for_disconnect(20), "bufbridge kept the connection open"
    assert time.monotonic() - closed < DISCONNECT_WITHIN
    assert_quiet_exit(proc)


@pytest.mark.parametrize("unbuffered", ["1", ""])
def test_a_non_blocking_stdout_read_slowly_gets_every_byte(server, unbuffered):
    text = "".join(f"{i:07d}\n" for i in range(131_072))  # 1 MiB
    server.reply = Reply(fs.openai_chat_stream([text[i:i + 8192] for i in range(0, len(text), 8192)]))
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)  # as a container runtime may leave it
    env = child_env(PYTHONUNBUFFERED=unbuffered) if unbuffered else child_env()
    proc = subprocess.Popen(bufbridge_command(), stdin=subprocess.PIPE, stdout=write_end, stderr=subprocess.PIPE, env=env)
    os.close(write_end)
    got = b""
    try:
        proc.stdin.write(chat(server.url).encode())
        proc.stdin.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready, _, _ = select.select([read_end], [], [], 5)
            if not ready:
                continue
            data = os.read(read_end, 4096)
            if not data:
                break
            got += data
            time.sleep(0.002)  # a slow reader: the 64 KiB pipe fills up again and again
        stderr = proc.stderr.read()
        status = proc.wait(20)
    finally:
        os.close(read_end)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    assert (len(got), status, stderr) == (len(HEADER) + len(text), 0, b"")
    assert got == HEADER + text.encode()


def test_a_stdout_that_fails_is_one_line_on_stderr(server):
    server.reply = Reply(fs.openai_chat_stream(["never", " stored"]))
    with open("/dev/full", "wb") as full:
        proc = subprocess.run(bufbridge_command(), input=chat(server.url).encode(), stdout=full, stderr=subprocess.PIPE,
                              env=child_env(), timeout=20)
    assert proc.returncode == 1
    lines = proc.stderr.decode().splitlines()
    assert lines == ["bufbridge: error: cannot write the reply to standard output: No space left on device"]
