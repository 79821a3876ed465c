"""Completion streams: OpenAI ``completions`` chunks and llama.cpp's native ``/completion`` and ``/infill``."""

from . import Done, Text, _list, meta

NAME = "completions"


def decode(event, kind=None):
    """Pieces of one chunk: ``choices[0].text`` (OpenAI) or ``content``/``stop`` (llama.cpp)."""
    pieces = []
    if "choices" in event:
        for choice in _list(event.get("choices"))[:1]:
            if not isinstance(choice, dict):
                continue  # a malformed chunk is skipped, like any chunk of unknown shape
            text = choice.get("text")
            if isinstance(text, str) and text:
                pieces.append(Text(text))
            if choice.get("finish_reason"):
                pieces.append(Done(choice["finish_reason"]))
    else:
        content = event.get("content")
        if isinstance(content, str) and content:
            pieces.append(Text(content))
        if event.get("stop") is True:
            pieces.append(Done(event.get("stop_type")))
    return pieces + meta(event)
