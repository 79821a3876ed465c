"""DeepSeek FIM (beta): ``POST /beta/completions`` with ``prompt`` and ``suffix``, no template.

OpenAI legacy-completions shaped: ``!infill`` sends ``prompt`` and
``suffix``, ``!completion`` a ``prompt`` alone; the keys keep their names.
Reply: ``choices[0].text``, ``finish_reason`` ``length`` a cut, ``[DONE]``.
"""

from . import infill_texts, prompt_suffix
from .completions import decode  # noqa: F401  (the reply is completions-shaped)
from .openai_chat import length_note
from ..errors import BuildError

NAME = "deepseek_fim"
ENDPOINTS = {"completion": "completions", "infill": "completions"}
MAPS = {}
LIMIT_KEYS = ("max_tokens",)


def shape(body, mode, messages, doc):
    if doc.roles_used:
        word, where = doc.roles_used[0]
        raise BuildError(f"{word} cannot be used in {'!completion' if mode == 'completion' else '!infill'} mode", where=where, hint="remove the role lines")
    if mode == "completion":
        body["prompt"] = messages[0].content if messages else ""
    else:
        body["prompt"], body["suffix"] = infill_texts(messages)


def fields(body, given):
    if "input_prefix" not in given:
        raise BuildError("the deepseek-fim wire format fills in the middle itself: it takes no FIM template",
                         hint="drop --fim (and $BUFBRIDGE_FIM) for this profile")
    body.update(prompt_suffix(given))


def cut_note(cut, body, *, wrote=True, source_file=False):
    return length_note(cut, body, source_file, LIMIT_KEYS)
