"""Run the real ``bufbridge`` command against a fake server: helpers shared by the loopback tests."""

import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

TIMEOUT = 20  # seconds; a hung bufbridge fails the test instead of the run


def bufbridge_command():
    """The installed console script next to this interpreter, else ``python -m bridge``."""
    script = Path(sys.executable).parent / "bufbridge"
    if script.exists():
        return [str(script)]
    found = shutil.which("bufbridge")
    return [found] if found else [sys.executable, "-m", "bridge"]


def child_env(**extra):
    """The environment for a bufbridge subprocess: the test's (with its BUFBRIDGE_CONFIG_DIR), no proxies."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and k not in ("BUFBRIDGE_DEBUG",)}
    env["NO_PROXY"] = "*"
    env.update(extra)
    return env


def run(buffer, *args, env=None, timeout=TIMEOUT):
    """Run ``bufbridge ARGS`` with ``buffer`` (str or bytes) on stdin; return the CompletedProcess (bytes)."""
    data = buffer.encode("utf-8") if isinstance(buffer, str) else buffer
    return subprocess.run(bufbridge_command() + list(args), input=data, capture_output=True,
                          env=child_env(**(env or {})), timeout=timeout)


class Running:
    """A bufbridge subprocess whose stdout is read bit by bit while the server waits."""

    def __init__(self, buffer, *args, env=None):
        data = buffer.encode("utf-8") if isinstance(buffer, str) else buffer
        self.proc = subprocess.Popen(bufbridge_command() + list(args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=child_env(**(env or {})))
        self.proc.stdin.write(data)
        self.proc.stdin.close()
        self.seen = b""

    def read_until(self, expected, timeout=TIMEOUT):
        """Read stdout until it ends with ``expected`` (bytes); return everything read so far."""
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while not self.seen.endswith(expected):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {expected!r}; stdout so far: {self.seen!r}")
            readable, _, _ = select.select([fd], [], [], left)
            if readable:
                data = os.read(fd, 65536)
                if not data:
                    raise AssertionError(f"stdout ended before {expected!r}; got {self.seen!r}; stderr: {self.proc.stderr.read()!r}")
                self.seen += data
        return self.seen

    def close_stdout(self):
        """The reader goes away, as when the editor stops the job's output."""
        self.proc.stdout.close()

    def finish(self, timeout=TIMEOUT):
        """Wait for the exit; return (stdout, stderr, status) with stdout counting what read_until saw."""
        rest = b"" if self.proc.stdout.closed else self.proc.stdout.read()
        stderr = self.proc.stderr.read()
        status = self.proc.wait(timeout)
        self.proc.stderr.close()
        if not self.proc.stdout.closed:
            self.proc.stdout.close()
        return self.seen + rest, stderr, status

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if not stream.closed:
                stream.close()




def assert_clean(completed_or_stderr, stdout=b""):
    """No Python traceback anywhere the user can see."""
    stderr = completed_or_stderr if isinstance(completed_or_stderr, bytes) else completed_or_stderr.stderr
    stdout = stdout if isinstance(completed_or_stderr, bytes) else completed_or_stderr.stdout
    for stream in (stdout, stderr):
        assert b"Traceback" not in stream
        assert b'File "' not in stream


HEADER = b"\n\n!assistant\n\n"
ERROR = b"\n\n!error\n\n"


def split_error(stdout):
    """(text before the error block, the error line); the block must be the one and only, at the end."""
    assert stdout.count(ERROR) == 1, stdout
    before, _, line = stdout.partition(ERROR)
    assert line.endswith(b"\n") and line.count(b"\n") == 1, f"the error must be one line: {line!r}"
    return before, line.decode("utf-8")


class Recorder:
    """A binary stdout that keeps every write, so a test can count streamed chunks."""

    def __init__(self):
        self.writes = []

    def write(self, data):
        self.writes.append(bytes(data))
        return len(data)

    def flush(self):
        pass

    @property
    def text(self):
        return b"".join(self.writes).decode("utf-8")
