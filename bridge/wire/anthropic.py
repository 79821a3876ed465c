"""Anthropic Messages streams: ``content_block_delta`` text and thinking, ``message_stop``."""

from . import Done, Meta, Reasoning, Text

NAME = "anthropic"


def decode(event, kind=None):
    """Pieces of one event; the event type comes from the JSON ``type`` (repeated in ``event:``)."""
    kind = event.get("type") or kind
    if kind == "content_block_delta":
        delta = event.get("delta")
        delta = delta if isinstance(delta, dict) else {}
        if isinstance(delta.get("thinking"), str) and delta["thinking"]:
            return [Reasoning(delta["thinking"])]
        if isinstance(delta.get("text"), str) and delta["text"]:
            return [Text(delta["text"])]
    elif kind == "message_delta":
        usage = event.get("usage")
        return [Meta(usage=usage)] if isinstance(usage, dict) else []
    elif kind == "message_stop":
        return [Done("message_stop")]
    return []
