"""DeepSeek FIM (beta): ``POST /beta/completions`` with ``prompt`` and ``suffix``, no template.

OpenAI legacy-completions shaped: ``!infill`` sends ``prompt`` and
``suffix``, ``!completion`` a ``prompt`` alone; the keys keep their names.
Reply: ``choices[0].text``, ``finish_reason`` ``length`` a cut, ``[DONE]``.
"""

from . import infill_texts, no_roles, prompt_suffix
from .completions import decode  # noqa: F401  (the reply is completions-shaped)
from .openai_chat import length_note

NAME = "deepseek_fim"
ENDPOINTS = {"completion": "completions", "infill": "completions"}
MAPS = {}
LIMIT_KEYS = ("max_tokens",)


def shape(body, mode, messages, doc):
    no_roles(doc, mode)
    if mode == "completion":
        body["prompt"] = messages[0].content if messages else ""
    else:
        body["prompt"], body["suffix"] = infill_texts(messages)


def fields(body, given):
    """Cursor infill: the server's own FIM, with ``prompt`` and ``suffix``."""
    body.update(prompt_suffix(given))


def cut_note(cut, body, *, wrote=True, source_file=False):
    return length_note(cut, body, source_file, LIMIT_KEYS)
