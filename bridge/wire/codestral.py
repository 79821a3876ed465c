"""Mistral Codestral fill-in-the-middle (``POST /v1/fim/completions``): ``prompt`` and ``suffix``, no template.

The server applies the model's FIM template, so only ``!infill`` without a
template is spoken. ``max_tokens``, ``stop``, ``temperature``, ``top_p`` have
the API's own names. Reply: chat-style chunks (``choices[0].delta.content``),
``finish_reason`` ``length`` a cut and ``error`` a failure, ``[DONE]``.
"""

from . import infill_texts, no_roles, prompt_suffix
from .openai_chat import decode, length_note  # noqa: F401  (the reply is chat-shaped)

NAME = "codestral"
ENDPOINTS = {"infill": "fim/completions"}
MAPS = {}
LIMIT_KEYS = ("max_tokens",)


def shape(body, mode, messages, doc):
    no_roles(doc, mode)
    body["prompt"], body["suffix"] = infill_texts(messages)


def fields(body, given):
    """Cursor infill: the server's own FIM, with ``prompt`` and ``suffix``."""
    body.update(prompt_suffix(given))


def cut_note(cut, body, *, wrote=True, source_file=False):
    return length_note(cut, body, source_file, LIMIT_KEYS)
