"""Wire formats: one module per format turns decoded stream events into pieces.

A wire module has ``NAME`` and ``decode(event, kind) -> list of pieces``,
where ``event`` is one JSON value from the stream and ``kind`` is its SSE
``event:`` type (or None). Adding a backend's reply format means adding one
module here and naming it in ``MODULES``; ``for_request`` picks the module
for a request.
"""

import importlib
from dataclasses import dataclass
from urllib.parse import urlsplit

MODULES = {
    "openai_chat": "bridge.wire.openai_chat",
    "completions": "bridge.wire.completions",
    "anthropic": "bridge.wire.anthropic",
}


@dataclass(frozen=True)
class Text:
    """Reply text."""

    text: str


@dataclass(frozen=True)
class Reasoning:
    """Reasoning the server sends apart from the answer."""

    text: str


@dataclass(frozen=True)
class Done:
    """The server says the reply is complete."""

    reason: str | None = None


@dataclass(frozen=True)
class Fail:
    """The server reports an error inside the stream."""

    message: str


@dataclass(frozen=True)
class Meta:
    """Token counts and timings the server reports (OpenAI ``usage``, llama.cpp ``timings``)."""

    usage: dict | None = None
    timings: dict | None = None


def for_request(mode, url):
    """The wire module name for a request of ``mode`` to ``url``."""
    path = urlsplit(url).path.rstrip("/")
    if path.endswith("/messages"):
        return "anthropic"
    return "openai_chat" if mode == "chat" else "completions"


def module(name):
    """Import a wire module by its registry name."""
    return importlib.import_module(MODULES[name])


def error_message(event):
    """The message of an error event in any of the shapes servers use, or None."""
    if isinstance(event, list):
        return next((m for m in map(error_message, event) if m), None)
    if not isinstance(event, dict):
        return None
    error = event.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or error.get("type") or error)
    if isinstance(error, str) and error:
        return error
    if event.get("object") == "error" or event.get("type") == "error":
        return str(event.get("message") or event)
    return None


def _list(value):
    """``value`` if it is a list, else [] (``choices`` may be null or malformed)."""
    return value if isinstance(value, list) else []


def meta(event):
    """A Meta piece for ``usage``/``timings`` in an event, if any."""
    usage, timings = event.get("usage"), event.get("timings")
    if isinstance(usage, dict) or isinstance(timings, dict):
        return [Meta(usage if isinstance(usage, dict) else None, timings if isinstance(timings, dict) else None)]
    return []
