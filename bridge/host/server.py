"""``bufbridge host``: one long-lived process per editor, many requests, each cancellable.

The editor starts it once and talks to it over its standard input and output
(``protocol.py``). Each ``request`` runs the command line's own pipeline
(``cli.main``) in a thread of its own, so the host sends byte-identical
requests and writes byte-identical replies; only the ends differ: the buffer
comes from the message instead of standard input, and the reply goes out as
``text`` events instead of standard output. ``cancel`` closes the request's
connection at once (the server stops generating) and its writes are dropped.

The host ends when its standard input closes (the editor exited or was
killed): whatever still runs is cancelled first, so no process outlives its
editor.
"""

import io
import sys
import threading

from .. import __version__
from . import protocol

CANCEL_WAIT = 2.0  # seconds a cancelled request may take to notice before the host exits anyway


class Cancelled(BrokenPipeError):
    """Raised into a cancelled request's writes; the pipeline treats it as a reader that went away."""


class Job:
    """One request: its thread, and the Cancel that stops it."""

    def __init__(self, host, ident, params):
        from ..fim import Extra
        from ..send import Cancel

        self.host, self.id = host, ident
        # Context for cursor infill, inline (no temporary file); fim.plan withholds secret-looking names (rule 6).
        self.extra = tuple(Extra(name, text) for name, text in protocol.extra_items(params.get("extra")))
        self.argv = [*host.options, *(str(arg) for arg in params.get("args", []))]
        self.text = params.get("text", "")
        self.cwd = params.get("cwd") if isinstance(params.get("cwd"), str) else None
        self.stop = Cancel()  # fired: the connection is shut down at once, from this or any thread
        self.thread = threading.Thread(target=self.run, name=f"bufbridge request {ident}", daemon=True)

    @property
    def cancelled(self):
        return self.stop.fired

    def run(self):
        stderr = JobStderr(self)
        status = 1
        try:
            status = self.host.pipeline(
                self.argv, stdin=io.BytesIO(self.text.encode("utf-8", errors="surrogatepass")),
                stdout=JobStdout(self), stderr=stderr, env=self.host.env, transport=self.host.transport,
                cwd=self.cwd, cancel=self.stop, extra=self.extra,
            )
        except BaseException as err:  # a bug: reported as the request's end, never the host's
            stderr.write(f"bufbridge: internal error: {type(err).__name__}: {err}; please report it\n")
        finally:
            stderr.flush()
            self.host.finished(self, status)

    def cancel(self):
        """Stop the request: its writes fail from now on and its connection closes at once."""
        self.stop.fire()


class JobStdout:
    """The pipeline's standard output: each write becomes a ``text`` event."""

    def __init__(self, job):
        self.job = job

    def write(self, data):
        if self.job.cancelled:
            raise Cancelled("the request was cancelled")
        text = bytes(data).decode("utf-8", errors="replace")
        self.job.host.tell(protocol.event("text", self.job.id, text=text))
        return len(data)

    def flush(self):
        pass


class JobStderr(io.StringIO):
    """The pipeline's standard error, sent as one ``stderr`` event per complete line."""

    def __init__(self, job):
        super().__init__()
        self.job = job

    def write(self, text):
        super().write(text)
        value = self.getvalue()
        if "\n" in value:
            lines, _, rest = value.rpartition("\n")
            self.seek(0)
            self.truncate()
            super().write(rest)
            self.job.host.tell(protocol.event("stderr", self.job.id, text=lines + "\n"))
        return len(text)

    def flush(self):
        rest = self.getvalue()
        if rest:
            self.seek(0)
            self.truncate()
            self.job.host.tell(protocol.event("stderr", self.job.id, text=rest + "\n"))


class Host:
    """Reads asks from ``stdin``, runs requests, writes answers and events to ``stdout`` (binary streams)."""

    def __init__(self, stdin, stdout, env, *, options=(), pipeline=None, transport=None):
        from ..cli import main

        self.stdin, self.stdout, self.env = stdin, stdout, env
        self.options = list(options)  # command-line options that go before every request's own
        self.pipeline = pipeline or main
        self.transport = transport  # None: each request's own, with its --timeout and its Cancel
        self.jobs = {}
        self.jobs_lock = threading.Lock()
        self.out_lock = threading.Lock()
        self.gone = threading.Event()  # the editor stopped reading

    def serve(self):
        """Answer asks until standard input closes; return the exit status."""
        try:
            for line in self.stdin:
                if line.strip():
                    self.handle(line)
                if self.gone.is_set():
                    break
        finally:
            self.shutdown()
        return 0

    def handle(self, line):
        try:
            ask = protocol.decode(line)
        except protocol.ProtocolError as err:
            self.tell(protocol.event("protocol-error", 0, message=str(err)))
            return
        method = getattr(self, "do_" + ask.method.replace("-", "_"), None)
        if method is None:
            self.tell(protocol.answer(ask.id, {"error": f"no method {ask.method!r}"}))
            return
        result = method(ask)
        if isinstance(result, Job):  # answered first, so that the editor knows the id before any event
            self.tell(protocol.answer(ask.id, {"started": ask.id}))
            result.thread.start()
            return
        self.tell(protocol.answer(ask.id, result))

    def do_version(self, ask):
        return {"version": __version__, "protocol": protocol.VERSION}

    def do_request(self, ask):
        try:
            job = Job(self, ask.id, ask.params)
        except protocol.ProtocolError as err:
            return {"error": str(err)}
        with self.jobs_lock:
            if ask.id in self.jobs:
                return {"error": f"request {ask.id} is already running"}
            self.jobs[ask.id] = job
        return job

    def do_cancel(self, ask):
        with self.jobs_lock:
            job = self.jobs.get(ask.params.get("request"))
        if job is None:
            return {"cancelled": False}
        job.cancel()
        return {"cancelled": True}

    def finished(self, job, status):
        with self.jobs_lock:
            self.jobs.pop(job.id, None)
        self.tell(protocol.event("done", job.id, status=status, cancelled=job.cancelled))

    def tell(self, line):
        """Write one message line; when the editor has gone, stop everything."""
        if self.gone.is_set():
            return
        with self.out_lock:
            try:
                self.stdout.write(line)
                self.stdout.flush()
            except (OSError, ValueError):  # EPIPE, or the stream was closed
                self.gone.set()
        if self.gone.is_set():
            self.cancel_all()

    def cancel_all(self):
        with self.jobs_lock:
            jobs = list(self.jobs.values())
        for job in jobs:
            job.cancel()
        return jobs

    def shutdown(self):
        """Cancel what still runs and give it a moment to close its connections."""
        for job in self.cancel_all():
            job.thread.join(CANCEL_WAIT)


def main(options, *, env):
    """``bufbridge [OPTIONS] host``: serve the editor on standard input and output until it closes them.

    OPTIONS (``--profile NAME``, ``--allow-env`` ...) go before the arguments of every request.
    """
    if sys.stdin.isatty():
        print("bufbridge host is started by the editor plugin, not by hand (see doc/host-protocol.md)", file=sys.stderr)
        return 2
    from ..send import keep_connections

    keep_connections()  # many requests to the same few servers: reuse their connections
    return Host(sys.stdin.buffer, sys.stdout.buffer, env, options=options).serve()
