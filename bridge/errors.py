"""The error hierarchy. Errors are raised anywhere and printed once, by the CLI.

Every message answers three questions: what failed, where (``source:line``
for buffer and profile errors, the URL for network errors) and, when we know
it, how to fix it.
"""

import re


class BridgeError(Exception):
    """Base of every error bufbridge reports to the user."""

    def __init__(self, message, *, where=None, hint=None):
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def __str__(self):
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text = f"{text}; {self.hint}"
        return text


class DirectiveError(BridgeError):
    """A directive in the buffer or a profile is malformed or cannot be carried out."""


class ProfileError(BridgeError):
    """A profile or FIM template cannot be found or is invalid."""


class BuildError(BridgeError):
    """The directives are valid one by one but do not make a request together."""


class ConnectError(BridgeError):
    """The server could not be reached."""


class HTTPStatusError(BridgeError):
    """The server answered with an HTTP error status."""


class StreamError(BridgeError):
    """The reply stream reported an error or ended before it was complete."""


_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0"}


def _escape(char):
    code = ord(char)
    return _ESCAPES.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(text):
    """``text`` with every control character, line separator and unpaired surrogate shown escaped.

    Error lines and notes echo text from buffers and servers; a raw CR, NUL or
    ESC there would rewrite the user's screen or split the one-line message.
    """
    return _UNPRINTABLE.sub(lambda m: _escape(m.group()), text)

