"""The filter's standard output: reply text only, flushed as it arrives."""


class Closed(Exception):
    """The reader of standard output went away (the editor stopped the job)."""


class Output:
    """Writes text to a binary stream as UTF-8 and flushes after every write."""

    def __init__(self, stream):
        self.stream = stream
        self.written = 0

    def write(self, text):
        if not text:
            return
        try:
            self.stream.write(text.encode("utf-8"))
            self.stream.flush()
        except (BrokenPipeError, ConnectionResetError):
            raise Closed() from None
        except OSError as err:
            if err.errno in (32, 104):  # EPIPE, ECONNRESET
                raise Closed() from None
            raise
        self.written += len(text)
