"""``bufbridge nvim``: the filter, run by the Neovim plugin as an RPC job.

The plugin starts ``jobstart([...g:bufbridge_command..., 'nvim'], {'rpc': v:true})``,
so the command line is ``bufbridge [OPTIONS] nvim``: the OPTIONS (``--allow-env``,
``--profile NAME``, ...) apply to the request the host makes. This process
attaches to Neovim over its standard input and output, asks the plugin which
buffer the job is for and how to read it (for marker infill, the line to put
``!infill`` above; for cursor infill, the arguments ``--infill-at LINE:COL ...``
that the plugin computed from its mark), reads the buffer through the API and
runs the command line's own filter on it. The reply goes to the plugin's
``bufbridge#host_write()`` instead of standard output; the plugin decides
where each piece lands and keeps the reply one undo step, exactly as it does
for the output of a plain job.

Pieces go out as notifications, so neither side waits for the other while
the reply streams; every ``SYNC_EVERY`` seconds one write waits for Neovim's
answer, which bounds what can queue up and tells us when the reply must stop.
The plugin answers 0 when it will write no more of this reply: its buffer
was closed or reloaded, or the user undid or changed the reply's text (see
``autoload/bufbridge/reply.vim``). Then the filter stops and closes its
connection, as it does when the editor closes a plain job's pipe; the plugin
also stops this job, so the connection closes even while the server is
silent.
"""

import io
import sys
import time

NO_PYNVIM = 3  # the plugin falls back to a plain job when the host exits with this
SYNC_EVERY = 0.5  # seconds between writes that wait for Neovim


class BufferStream:
    """A binary output stream whose writes are appended to a Neovim buffer by the plugin."""

    def __init__(self, nvim, clock=time.monotonic):
        self.nvim = nvim
        self.clock = clock
        self.synced = clock()

    def write(self, data):
        text = bytes(data).decode("utf-8", errors="replace")
        if self.clock() - self.synced < SYNC_EVERY:
            self._call(text, async_=True)
        else:
            self.sync(text)
        return len(data)

    def flush(self):
        pass

    def sync(self, text=""):
        """Write ``text`` and wait until Neovim has taken it and every piece before it."""
        if not self._call(text):
            raise BrokenPipeError("the buffer is gone")  # cli's Output turns this into Closed
        self.synced = self.clock()

    def _call(self, text, **kwargs):
        try:
            return self.nvim.call("bufbridge#host_write", self.nvim.channel_id, text, **kwargs)
        except (OSError, EOFError) as err:  # Neovim went away
            raise BrokenPipeError(str(err)) from None


def buffer_text(nvim, job):
    """The buffer of ``job`` as the filter reads it: an ``!infill`` line above ``job['line']`` when it is set, else the lines as they are."""
    lines = nvim.api.buf_get_lines(job["buffer"], 0, -1, True)
    if job.get("line"):
        lines.insert(job["line"] - 1, "!infill")
    return "".join(line + "\n" for line in lines)


def main(argv, *, env):
    """Serve one reply for the Neovim plugin; return the exit status. ``argv`` is ``[OPTIONS...] nvim``."""
    from .cli import main as filter_main

    if argv[-1:] != ["nvim"]:
        print(f"bufbridge: nvim must be the last argument (bufbridge [OPTIONS] nvim), not: {' '.join(argv)}", file=sys.stderr)
        return 2
    try:
        import pynvim
    except ImportError:
        print(f"bufbridge: pynvim is not installed for {sys.executable} (pip install pynvim)", file=sys.stderr)
        return NO_PYNVIM
    if sys.stdin.isatty():
        print("bufbridge nvim is started by the Neovim plugin (:BufBridge), not by hand", file=sys.stderr)
        return 2
    nvim = pynvim.attach("stdio")
    try:
        return serve(nvim, env, filter_main, argv[:-1])
    except Exception as err:  # a bug or a broken channel: one line, no traceback unless asked for
        if env.get("BUFBRIDGE_DEBUG"):
            raise
        print(f"bufbridge: the Neovim host failed: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    finally:
        try:
            nvim.close()
        except Exception:  # Neovim is already gone
            pass


def serve(nvim, env, filter_main, options=()):
    """Run the filter, with ``options`` and the plugin's arguments, on the buffer the plugin names; return its exit status."""
    job = nvim.call("bufbridge#host_start", nvim.channel_id)
    if not job:
        print("bufbridge nvim: the plugin has no job for this channel", file=sys.stderr)
        return 2
    stdin = io.BytesIO(buffer_text(nvim, job).encode("utf-8", errors="surrogateescape"))
    stream = BufferStream(nvim)
    argv = [*options, *job.get("args", [])]
    status = filter_main(argv, stdin=stdin, stdout=stream, stderr=sys.stderr, env=env)
    try:
        stream.sync()  # every piece is in the buffer before the job ends
    except BrokenPipeError:
        pass
    return status
