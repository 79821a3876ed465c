"""Run a ``hostile.Case`` through the real ``bridge.cli.main`` in-process, and judge what the user would see.

The promise checked (``violations``): exit status 0, or 1 with exactly one
clear error line (the ``!error`` block's line; in cursor-infill mode the
``bufbridge: error:`` line on standard error); never ``internal error`` or a
traceback; no raw control character in an error or note line; standard
output valid UTF-8; never longer than the time limit. Usage errors that
argparse reports (exit 2) count as clear errors too.

The server's answer comes from ``ScriptedTransport``: the same
``open(request) -> response`` / ``response.chunks()`` interface as
``send.RequestsTransport``, with the case's bytes, so nothing reaches a
network and thousands of cases run per minute. ``test_loopback.py`` runs
the same kind of streams through the real transport over loopback HTTP.
"""

import contextlib
import io
import os
import re
import signal
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from bridge import cli
from bridge.errors import ConnectError

BRIDGE = str(Path(cli.__file__).resolve().parent)
CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")  # a tab is allowed
ERROR_MARK = "\n\n!error\n\n"


class Timeout(BaseException):
    """The case ran past its wall-clock limit (a BaseException: ``main`` must not catch it as a bug of its own)."""


class ScriptedResponse:
    def __init__(self, status, chunks):
        self.status = status
        self.headers = {"content-type": "text/event-stream"}
        self._chunks = chunks
        self.closed = False

    def chunks(self):
        for chunk in self._chunks:
            if self.closed:
                return
            yield chunk

    def read_all(self, limit=65536):
        return b"".join(self._chunks)[:limit]

    def close(self, complete=False):
        self.closed = True


class ScriptedTransport:
    """Answers the one request with the case's status and chunks; counts the requests."""

    def __init__(self, status, chunks):
        self.status, self.chunks, self.requests = status, chunks, []

    def open(self, request):
        self.requests.append(request)
        if self.chunks is None:
            raise ConnectError(f"cannot connect to {request.url}: nothing to answer (a dry-run case sent a request)")
        return ScriptedResponse(self.status, self.chunks)


@dataclass
class Result:
    status: int | None
    stdout: bytes
    stderr: str
    seconds: float  # CPU seconds
    escaped: BaseException | None = None  # an exception that got out of main()
    site: str = ""  # where a bug is: "Type at bridge/x.py:LINE"


@contextlib.contextmanager
def wall_limit(seconds):
    """Raise Timeout in the main thread after ``seconds`` of wall time (a hang fails instead of hanging)."""
    if seconds is None or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise Timeout(f"over {seconds} s of wall time")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


SCRIPTED = "scripted"


def run(case, env, *, transport=SCRIPTED, wall=60.0, debug=False):
    """Run ``case`` through ``cli.main``; return a Result.

    ``transport``: by default a ScriptedTransport with the case's answer;
    None lets ``cli.main`` use the real ``send.RequestsTransport``. ``debug``
    sets BUFBRIDGE_DEBUG, so a bug raises and its traceback can be read.
    """
    stdout, stderr = io.BytesIO(), io.StringIO()
    transport = ScriptedTransport(case.status, case.chunks) if transport is SCRIPTED else transport
    env = dict(env, **({"BUFBRIDGE_DEBUG": "1"} if debug else {}))
    escaped, status = None, None
    started = time.process_time()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(stderr):  # argparse writes to sys.std*
        try:
            with wall_limit(wall):
                status = cli.main(case.argv, stdin=io.BytesIO(case.stdin), stdout=stdout, stderr=stderr, env=env, transport=transport)
        except SystemExit as err:  # argparse: --help, --version (0) or a usage error (2)
            status = err.code if isinstance(err.code, int) else 2
        except BaseException as err:  # noqa: BLE001 - judged by violations()
            escaped = err
    result = Result(status, stdout.getvalue(), stderr.getvalue(), time.process_time() - started, escaped)
    if escaped is not None:
        result.site = crash_site(escaped)
    return result


def crash_site(err):
    """``Type at bridge/FILE.py:LINE``: the innermost frame inside the bridge package."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename.startswith(BRIDGE)]
    where = f"{os.path.relpath(frames[-1].filename, os.path.dirname(BRIDGE))}:{frames[-1].lineno}" if frames else "outside bridge/"
    return f"{type(err).__name__} at {where}"


def error_lines(case, result):
    """The error lines the user sees: ``bufbridge: error:`` lines on stderr in infill mode, else each ``!error`` block's text."""
    if case.infill:
        return [line for line in result.stderr.splitlines() if line.startswith("bufbridge: error:")]
    text = result.stdout.decode("utf-8", errors="replace")
    return [block.split("\n", 1)[0] for block in text.split(ERROR_MARK)[1:]]


def violations(case, result, *, cpu_limit):
    """What breaks the promise in this run (empty: the run kept it)."""
    found = []
    if result.escaped is not None:
        return [f"an exception got out of main(): {result.site}: {result.escaped!r}"[:500]]
    try:
        text = result.stdout.decode("utf-8")
    except UnicodeDecodeError as err:
        found.append(f"standard output is not UTF-8: {err}")
        text = result.stdout.decode("utf-8", errors="replace")
    if result.status not in (0, 1, 2):
        found.append(f"exit status {result.status}")
    errors = error_lines(case, result)
    usage = [line for line in result.stderr.splitlines() if line.startswith("bufbridge: error:")] if result.status == 2 else []
    for line in errors + usage:
        if "internal error" in line:
            found.append(f"internal error: {line[:300]}")
        if CONTROL.search(line):
            found.append(f"a raw control character in the error line: {line[:300]!r}")
        if not line.strip() or "Traceback" in line:
            found.append(f"not a clear error line: {line[:300]!r}")
    if result.status == 1:
        if case.infill and len(errors) != 1:
            found.append(f"exit 1 with {len(errors)} 'bufbridge: error:' lines on stderr")
        if not case.infill and not (text.endswith("\n") and ERROR_MARK in text and "\n" not in text.rpartition(ERROR_MARK)[2][:-1]):
            found.append(f"exit 1 without exactly one line in a final !error block: {text[-300:]!r}")
    if result.status == 2 and len(usage) != 1:
        found.append(f"exit 2 without one 'bufbridge: error:' usage line: {result.stderr[-300:]!r}")
    if result.status == 0 and errors and case.infill:
        found.append("exit 0 with an error line")
    for line in result.stderr.splitlines():
        if line.startswith("bufbridge:") and CONTROL.search(line):
            found.append(f"a raw control character in a message on stderr: {line[:300]!r}")
    if case.chunks is None or "--debug" in case.argv:
        for line in text.split("\n"):
            if line.startswith("!note ") and CONTROL.search(line):
                found.append(f"a raw control character in a !note line: {line[:300]!r}")
    if "Traceback (most recent call last)" in text + result.stderr:
        found.append("a traceback reached the user")
    if result.seconds > cpu_limit:
        found.append(f"took {result.seconds:.1f} s of CPU (limit {cpu_limit} s)")
    return found


def describe(case, result, env, problems):
    """A failure message: the problems, the case, and the traceback of a bug (rerun with BUFBRIDGE_DEBUG=1)."""
    lines = [*problems, f"argv={case.argv!r}", f"stdin={case.stdin[:2000]!r}", f"status={case.status} chunks={(case.chunks or [])[:40]!r}"[:3000]]
    if any(p.startswith("internal error") for p in problems):
        again = run(case, env, debug=True)
        if again.escaped is not None:
            lines.append("crash site: " + again.site)
            lines.append("".join(traceback.format_exception(again.escaped))[-3000:])
    return "\n".join(lines)


def site_of(case, result, env, problems):
    """The crash site of an internal error (by rerunning with BUFBRIDGE_DEBUG=1), or the first problem's kind."""
    if result.escaped is not None:
        return result.site
    if any(p.startswith("internal error") for p in problems):
        again = run(case, env, debug=True)
        return again.site if again.escaped is not None else "internal error (not reproduced with BUFBRIDGE_DEBUG=1)"
    return problems[0].split(":")[0]

