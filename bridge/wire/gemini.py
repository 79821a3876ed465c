"""Google Gemini native (``models/MODEL:streamGenerateContent?alt=sse``).

Request: ``contents`` of ``user`` and ``model`` turns with ``parts``, the
system text as ``systemInstruction``, the neutral keys in
``generationConfig`` (``max_tokens`` → ``maxOutputTokens``, ``temperature``,
``top_p`` → ``topP``, ``top_k`` → ``topK``, ``stop`` → ``stopSequences``,
``seed``), the model in the URL. Gemini refuses fields it does not know, so
``model`` and ``stream`` are not in the body. Reply: one
``GenerateContentResponse`` per event, no ``[DONE]``; parts with
``"thought": true`` are reasoning; ``finishReason`` on the last; an error
may arrive as bare (pretty-printed) JSON without ``data:``.
"""

from urllib.parse import quote

from . import Cut, Done, Fail, Meta, Reasoning, _dict, _list, _text, move, need_messages, raise_hint, roles, split_system
from ..errors import BuildError

NAME = "gemini"
ENDPOINTS = {"chat": "models/{model}:streamGenerateContent?alt=sse"}
CONFIG = {"max_tokens": "maxOutputTokens", "temperature": "temperature", "top_p": "topP", "top_k": "topK",
          "stop": "stopSequences", "seed": "seed"}
MAPS = {**{k: f"generationConfig.{v}" for k, v in CONFIG.items()}, "system text": "systemInstruction", "model": "the URL path"}
ROLES = {"user": "user", "assistant": "model"}
OK = ("STOP", "FINISH_REASON_UNSPECIFIED")


def url(base, mode, body):
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise BuildError("the gemini wire format needs a model name for its URL, and the request has none",
                         hint="set it with `!:model gemini-2.5-pro`")
    return base + ENDPOINTS[mode].replace("{model}", quote(model.removeprefix("models/"), safe="-._~"))


def shape(body, mode, messages, doc):
    body.pop("model", None)
    body.pop("stream", None)
    for key, name in CONFIG.items():
        move(body, key, name, name, into="generationConfig")
    system, rest = split_system(messages)
    if system is not None:
        given = body.get("systemInstruction")
        parts = given.get("parts") if isinstance(given, dict) else None
        parts = parts if isinstance(parts, list) else []
        body["systemInstruction"] = {**(given if isinstance(given, dict) else {}), "parts": [*parts, {"text": system}]}
    need_messages(rest, doc, "user message")
    turns = roles(rest, ROLES, "gemini")
    body["contents"] = [{"role": ROLES[t["role"]], "parts": [{"text": t["content"]}]} for t in turns]


def decode(event, kind=None):
    """Pieces of one ``GenerateContentResponse``."""
    pieces = []
    blocked = _dict(event.get("promptFeedback")).get("blockReason")
    if blocked and not _list(event.get("candidates")):
        return [Fail(f"Gemini blocked the prompt (promptFeedback.blockReason {blocked})")]
    for candidate in _list(event.get("candidates"))[:1]:
        candidate = _dict(candidate)
        for part in _list(_dict(candidate.get("content")).get("parts")):
            part = _dict(part)
            text = _text(part.get("text"))
            if text:
                pieces.append(Reasoning(text) if part.get("thought") is True else text)
        reason = candidate.get("finishReason")
        if isinstance(reason, str) and reason:
            usage = _dict(event.get("usageMetadata"))
            if reason not in OK:
                pieces.append(Cut(reason, {"thoughts": usage.get("thoughtsTokenCount")}))
            pieces.append(Done(reason))
    usage = event.get("usageMetadata")
    if isinstance(usage, dict):
        pieces.append(Meta(usage={"input_tokens": usage.get("promptTokenCount"),
                                  "output_tokens": usage.get("candidatesTokenCount"), **usage}))
    return pieces


def cut_note(cut, body, *, wrote=True, source_file=False):
    if cut.why != "MAX_TOKENS":
        return f"Gemini stopped the reply early (finishReason {cut.why})"
    hint = raise_hint("generationConfig.maxOutputTokens", body, source_file, shown="maxOutputTokens", setting="max_tokens")
    thoughts = cut.detail.get("thoughts")
    if not wrote and isinstance(thoughts, int) and thoughts > 0:
        return (f"thinking used up the output budget ({thoughts} thought tokens) and left the answer empty "
                f"(finishReason MAX_TOKENS): {hint}, or lower generationConfig.thinkingConfig.thinkingBudget")
    return f"the reply was cut at the output limit (finishReason MAX_TOKENS): {hint}"
