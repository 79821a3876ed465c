"""The filter's standard output: reply text only, written as it arrives, never dropped.

Standard output may be a pipe that another process made non-blocking (common
in containers, and with ``PYTHONUNBUFFERED=1`` Python's own layer then passes
short writes through): every byte is written, waiting for the pipe to drain
when it is full. A reader that goes away is ``Closed``; any other failure is
a ``WriteError`` naming the reason. A character that a server sent as two
surrogate escapes in two pieces is written whole; an unpaired surrogate is
written as U+FFFD.

While the reply streams (``per_read``), text is collected and written once per
network read: everything that one read delivered goes out in one write just
before the next read waits on the socket, so nothing that has arrived waits,
and a 200,000-token reply costs one system call per read, not one per token.
"""

import os
import select
import threading
from contextlib import contextmanager

from .errors import BridgeError

_GONE = select.POLLERR | select.POLLHUP | select.POLLNVAL


class Closed(Exception):
    """The reader of standard output went away (the editor stopped the job)."""


class WriteError(BridgeError):
    """Standard output failed for a reason other than its reader going away."""


def _fileno(stream):
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both OSError and ValueError
        return None


def _utf8(text):
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # surrogates: join the pairs, replace the unpaired ones
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace").encode("utf-8")


class Output:
    """Writes text to a binary stream as UTF-8, each write complete before it returns (or, in ``per_read``, at its push)."""

    def __init__(self, stream):
        self.stream = stream
        self.held = ""  # a high surrogate at the end of what was written: its pair may come next
        self.pending = None  # inside per_read: the text written since the last push, else None
        self.fd = _fileno(stream)
        if self.fd is not None:
            stream.flush()  # from here on bytes go to the descriptor itself

    def write(self, text):
        if self.pending is not None:
            self.pending.append(text)
        elif text:
            self._text(text)

    def push(self):
        """Write, in one write, what was collected since the last push."""
        if self.pending:
            text = "".join(self.pending)
            self.pending.clear()
            if text:
                self._text(text)

    def flush(self):
        """Write what is collected, and a half character still held (as U+FFFD): the reply has ended."""
        self.push()
        if self.held:
            self.held = ""
            self._send(_utf8("\ud800"))

    @contextmanager
    def per_read(self, chunks):
        """Inside, ``chunks`` (byte chunks, one per network read) are yielded and what is written meanwhile is
        collected, then pushed as the next chunk is asked for (before the read waits) and on leaving."""

        def reads():
            for chunk in chunks:
                yield chunk
                self.push()

        self.pending = []
        try:
            yield reads()
        finally:
            try:
                self.push()
            finally:
                self.pending = None

    def _text(self, text):
        if self.held:
            text, self.held = self.held + text, ""
        if "\ud800" <= text[-1] <= "\udbff":
            text, self.held = text[:-1], text[-1]
            if not text:
                return
        self._send(_utf8(text))

    def _send(self, data):
        try:
            if self.fd is None:
                self.stream.write(data)
                self.stream.flush()
            else:
                self._write_fd(data)
        except (BrokenPipeError, ConnectionResetError):
            raise Closed() from None
        except OSError as err:
            raise WriteError(f"cannot write the reply to standard output: {err.strerror or err}") from None

    def _write_fd(self, data):
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.fd, view):]
            except BlockingIOError:  # a non-blocking pipe that is full: wait until the reader drains it
                poller = select.poll()
                poller.register(self.fd, select.POLLOUT)
                poller.poll()  # POLLERR (reader gone) wakes it too; the next write then says EPIPE

    @contextmanager
    def reader_watch(self, on_gone):
        """While inside, call ``on_gone()`` (from another thread) as soon as the reader of the output goes away.

        Between two writes nothing else would notice: a server that is silent
        (a long prompt, keep-alive comments) would otherwise keep generating
        for a reader that has left.
        """
        if self.fd is None:
            yield
            return
        wake_r, wake_w = os.pipe()
        thread = threading.Thread(target=self._watch, args=(wake_r, on_gone), name="bufbridge:reader-watch", daemon=True)
        thread.start()
        try:
            yield
        finally:
            os.write(wake_w, b"x")
            thread.join()
            os.close(wake_r)
            os.close(wake_w)

    def _watch(self, wake_r, on_gone):
        poller = select.poll()
        poller.register(self.fd, 0)  # no events asked: only POLLERR/POLLHUP, i.e. the reader closed its end
        poller.register(wake_r, select.POLLIN)
        for fd, events in poller.poll():
            if fd == self.fd and events & _GONE:
                on_gone()
                return
