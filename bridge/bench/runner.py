"""Ask each profile each task, through the very path the editor's requests take.

A FIM task goes through ``fim.plan`` (what ``bufbridge --infill-at`` runs)
and ``cli.run``; a chat task through ``cli.plan`` and ``cli.run``, as a
buffer piped by the editor. The runner only watches: the ``stream.Stats``
that ``cli.run`` fills (time to first token, finish reason, usage, timings),
the text the stop filter is fed (tokens generated) and the text written
(tokens kept). A failure is the one line ``bufbridge`` would print, kept in
the result; the next task goes on.
"""

import io
import os
import re
import shlex
import subprocess
import tempfile
import time
from dataclasses import dataclass

from .. import cli
from ..errors import BridgeError, printable
from ..output import Output
from . import scoring

CHECK_TIMEOUT = 120  # seconds a chat task's check script may run


@dataclass(frozen=True)
class Profile:
    """A profile to bench: ``label`` as the user wrote it, ``argv`` the bufbridge options it stands for."""

    label: str
    argv: tuple

    @classmethod
    def parse(cls, spec):
        """``NAME [OPTIONS]``: a profile name or path, then cursor-infill options (``--fim qwen``, ``--no-stop all``)."""
        try:
            words = shlex.split(spec)
        except ValueError as err:
            raise BridgeError(f"bench --profile {spec!r}: {err}", hint="write NAME, or NAME followed by options in one quoted argument") from None
        if not words or words[0].startswith("-"):
            raise BridgeError(f"bench --profile {spec!r}: expected a profile name or path first", hint="e.g. --profile 'llama.cpp --fim qwen'")
        argv = ("--profile", words[0], *words[1:])
        try:
            args = cli.parser().parse_args(argv)
        except cli.UsageError as err:
            raise BridgeError(f"bench --profile {spec!r}: {err}") from None
        if args.file is not None:
            raise BridgeError(f"bench --profile {spec!r}: {args.file!r} is not an option", hint="after the profile come only options, e.g. --fim qwen")
        return cls(spec, argv)


class Seen:
    """Stands between the reply and the stop filter: records each piece of text it is fed."""

    def __init__(self, stops):
        self.stops = stops
        self.pieces = []

    def feed(self, text):
        self.pieces.append(len(text))
        return self.stops.feed(text)

    def __getattr__(self, name):  # everything else is the stop filter's own (finish, reason, empty_note, ...)
        return getattr(self.stops, name)


def kept_pieces(pieces, kept_chars):
    """How many of the pieces (their lengths, in order) the kept text reaches into."""
    count = start = 0
    for length in pieces:
        if start >= kept_chars:
            break
        count, start = count + 1, start + length
    return count


def ask(profile, text, env, timeout, *, infill_at=None, filename=None, repo=None, cwd=None, transport=None):
    """Send ``text`` as the editor would (cursor infill at ``infill_at``, else a chat buffer); return the observed run."""
    from ..stream import Stats

    argv = list(profile.argv)
    if infill_at:
        argv += ["--infill-at", infill_at, "--filename", filename, "--repo", repo]
    args = cli.parser().parse_args(argv)
    args.timeout = timeout
    seen = None
    stderr, sink = io.StringIO(), io.BytesIO()
    stats = Stats(started=time.monotonic())
    observed = {"error": None, "model": None, "notes": [], "request_chars": 0}
    request = None
    try:
        if infill_at:
            from ..fim import plan

            request, stops = plan(text, env, args, cwd)
            seen = Seen(stops)
        else:
            request, stops = cli.plan(text, env, args, cwd), None
        observed["model"] = request.json.get("model") if isinstance(request.json, dict) else None
        observed["request_chars"] = len(request.body)
        stats.started = time.monotonic()
        cli.run(request, Output(sink), stderr, args, transport, seen, stats=stats)
    except BridgeError as err:
        observed["error"] = printable(cli.redact(str(err), request.secrets if request else ()))
    except Exception as err:  # a bug on our side: one line in the result, as bufbridge itself would print it, and the bench goes on
        if env.get("BUFBRIDGE_DEBUG"):
            raise
        observed["error"] = printable(f"internal error: {type(err).__name__}: {err}; rerun with BUFBRIDGE_DEBUG=1 to see the traceback, and please report it")
    notes = [printable(note) for note in (request.notes if request else ())] + _stderr_notes(stderr.getvalue())
    observed["notes"] = list(dict.fromkeys(notes))  # infill writes the request's notes to stderr too
    observed["output"] = sink.getvalue().decode("utf-8", errors="replace")
    observed["stats"] = stats
    observed["pieces"] = seen.pieces if seen else None
    observed["stop"] = seen.reason if seen else None
    return observed


def _stderr_notes(text):
    return [line.removeprefix("bufbridge: ") for line in text.splitlines() if line.strip()]


def _timing(observed):
    """Time to first token (ms), tokens per second, the finish reason and the context used, from the run's Stats."""
    stats = observed["stats"]
    ttft = (stats.first_piece - stats.started) * 1000 if stats.first_piece is not None else None
    rate = None
    if stats.first_piece is not None and stats.pieces > 1 and stats.finished > stats.first_piece:
        rate = (stats.pieces - 1) / (stats.finished - stats.first_piece)
    context = scoring.prompt_tokens(stats.usage, stats.timings)
    return {
        "ttft_ms": round(ttft, 1) if ttft is not None else None,
        "tokens_per_s": round(rate, 2) if rate is not None else None,
        "finish": stats.finish_reason,
        "context": context if context is not None else -(-observed["request_chars"] // 4),
        "context_from": "server" if context is not None else "estimate",
        "truncated": scoring.truncations(stats.finish_reason, observed["notes"]),
    }


def run_hole(hole, profile, env, timeout, transport=None):
    """The result of one FIM task for one profile."""
    observed = ask(profile, hole.text, env, timeout, infill_at=f"{hole.line}:{hole.col}", filename=hole.path,
                   repo=os.path.basename(os.path.abspath(hole.root)), transport=transport)
    got = observed["output"]
    pieces = observed["pieces"] or []
    scores = scoring.failed() if observed["error"] else scoring.score_fim(hole.expected, got)
    return {
        "task": hole.id, "kind": hole.kind, "profile": profile.label, "got": got, **scores,
        "generated": len(pieces), "kept": kept_pieces(pieces, len(got)), "stop": observed["stop"],
        **_common(observed),
    }


def run_chat(task, profile, env, timeout, transport=None):
    """The result of one chat task for one profile: its reply and whether the check passed."""
    observed = ask(profile, task.text, env, timeout, cwd=task.folder, transport=transport)
    reply = reply_text(observed["output"])
    passed, why = (False, None) if observed["error"] else check(task, reply)
    return {
        "task": task.id, "kind": "chat", "profile": profile.label, "got": reply, "passed": passed, "check_output": why,
        "generated": observed["stats"].pieces, "kept": observed["stats"].pieces, **_common(observed),
    }


def _common(observed):
    return {"error": observed["error"], "model": observed["model"], "notes": observed["notes"], **_timing(observed)}


_HEADER = re.compile(r"\A\n(?:\n!assistant\n\n)?")
_NOTES = re.compile(r"(?:\n\n!note [^\n]*\n)+\Z")


def reply_text(output):
    """The reply in a chat run's output: without the ``!assistant`` header before it and the ``!note`` lines after it."""
    return _NOTES.sub("", _HEADER.sub("", output, count=1), count=1)


def check(task, reply):
    """(passed, what the check said) for a chat reply."""
    if task.check == "expect":
        return reply.strip() == task.spec.strip(), None
    if task.check == "regex":
        return re.search(task.spec.strip("\n"), reply, re.MULTILINE) is not None, None
    return _run_check(task, reply)


def _run_check(task, reply):
    """Run ``NAME.check`` with ``sh`` in the task's folder, the reply on stdin and in ``$BUFBRIDGE_REPLY``."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", prefix="bufbridge-reply-", encoding="utf-8", delete=False) as f:
        f.write(reply)
    try:
        done = subprocess.run(["sh", task.spec], input=reply.encode("utf-8"), capture_output=True, cwd=task.folder,
                              env={**os.environ, "BUFBRIDGE_REPLY": f.name}, timeout=CHECK_TIMEOUT)
        said = (done.stdout + done.stderr).decode("utf-8", errors="replace").strip().splitlines()
        return done.returncode == 0, printable(said[-1]) if said else None
    except subprocess.TimeoutExpired:
        return False, f"the check ran longer than {CHECK_TIMEOUT} s"
    except OSError as err:
        return False, f"cannot run the check: {err.strerror}"
    finally:
        os.unlink(f.name)
