"""`bufbridge serve` as a user runs it: a separate process, stopped by a signal."""

import contextlib
import os
import re
import select
import signal
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from bridge.localserver import parent_death_signal

from .support import buffer, bufbridge

pytestmark = pytest.mark.e2e

READY_TIMEOUT = 60.0


@contextlib.contextmanager
def serve(*argv, env=None):
    """`bufbridge serve ARGV` as a process; on exit it is gone and its pipes are closed."""
    command = [sys.executable, "-m", "bridge", "serve", *argv]
    # parent_death_signal: a killed test run takes this serve (and so its llama-server) with it
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                          preexec_fn=parent_death_signal()) as process:
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()


def read_api_line(process):
    """The first stdout line of a `bufbridge serve` that came up, else fail with its stderr."""
    ready, _, _ = select.select([process.stdout], [], [], READY_TIMEOUT)
    line = process.stdout.readline() if ready else ""
    if not line:
        process.kill()
        pytest.fail(f"bufbridge serve printed no !api line; stderr:\n{process.stderr.read()}")
    return line.rstrip("\n")


def server_pid(stderr):
    match = re.search(r"started llama-server \(pid (\d+)\)", stderr)
    assert match, stderr
    return int(match.group(1))


def gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


class Api:
    """Enough of a LocalServer for support.buffer: the !api line and its URL."""

    def __init__(self, line):
        self.api_line = line
        self.url = line.split(" ", 1)[1]


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 0), (signal.SIGHUP, 129)],
                         ids=["ctrl-c", "sigterm", "sighup"])
def test_serve_prints_the_api_line_serves_and_stops_cleanly(signum, status, tmp_path):
    temp = tmp_path / "temp"  # where llama-server's log folder goes while it runs
    temp.mkdir()
    with serve("--port", "0", env={**os.environ, "TMPDIR": str(temp)}) as process:
        line = read_api_line(process)
        assert re.fullmatch(r"!api http://127\.0\.0\.1:\d+/", line)
        run = bufbridge(buffer(Api(line), "!:max_tokens 4", "!user", "Hi"))
        assert run.status == 0, run.out.strip()
        process.send_signal(signum)
        assert process.wait(timeout=15) == status
        stderr, stdout = process.stderr.read(), process.stdout.read()
    assert "Traceback" not in stderr
    assert "ready after" in stderr and "stopped" in stderr
    pid = server_pid(stderr)
    assert gone(pid), f"llama-server (pid {pid}) is still running after bufbridge serve exited"
    assert stdout == "", "stdout carries the !api line only"
    assert list(temp.iterdir()) == [], "the log folder is removed when the server stops"


def test_serve_on_a_port_in_use_says_so(llama):
    port = urlsplit(llama.url).port
    with serve("--port", str(port)) as process:
        assert process.wait(timeout=15) == 1
        stderr, stdout = process.stderr.read(), process.stdout.read()
    assert f"port {port} on 127.0.0.1 is already in use" in stderr
    assert "--port 0" in stderr and "Traceback" not in stderr
    assert stdout == ""


def test_serve_with_a_broken_model_shows_the_servers_log(tmp_path):
    model = tmp_path / "broken.gguf"
    model.write_bytes(b"GGUF\x03\x00\x00\x00 truncated")
    with serve("--port", "0", "--model", str(model)) as process:
        assert process.wait(timeout=30) == 1
        stderr = process.stderr.read()
    assert "last lines of the llama-server log" in stderr
    assert "llama-server exited during start-up" in stderr and "--model" in stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize("host, message", [
    ("no-such-host.invalid", "--host 'no-such-host.invalid' does not resolve to an address"),
    ("192.0.2.1", "--host 192.0.2.1 is not an address of this machine"),  # TEST-NET-1: never local
])
def test_serve_on_a_host_it_cannot_listen_on_says_why(host, message):
    with serve("--port", "0", "--host", host) as process:
        assert process.wait(timeout=30) == 1
        stderr = process.stderr.read()
    assert message in stderr
    assert "Traceback" not in stderr and "in use" not in stderr
    assert len(stderr.strip().splitlines()) <= 2  # the warning about a non-loopback host at most, then the error
