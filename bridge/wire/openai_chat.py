"""OpenAI ``chat/completions`` (also llama.cpp, Ollama ``/v1``, vLLM, OpenRouter, DeepSeek, Gemini compat).

The body is Illume's: the messages with their roles, every ``!:`` key as
written (no neutral key is renamed). The reply: ``choices[0].delta``.
"""

from . import Cut, Done, Fail, Reasoning, meta, need_messages, raise_hint

NAME = "openai_chat"
ENDPOINTS = {"chat": "chat/completions"}
MAPS = {}  # every key goes into the body as written
LIMIT_KEYS = ("max_completion_tokens", "max_tokens", "n_predict")


def shape(body, mode, messages, doc):
    need_messages(messages, doc)
    body["messages"] = [{"role": m.role, "content": m.content} for m in messages]


def decode(event, kind=None):
    """Pieces of one chunk: ``choices[0].delta`` (or ``.message`` when not streamed)."""
    pieces = []
    choices = event.get("choices")
    if isinstance(choices, list) and choices:
        choice = choices[0]
        delta = (choice.get("delta") or choice.get("message") or {}) if isinstance(choice, dict) else None
        if isinstance(delta, dict):  # else a malformed chunk, skipped like any chunk of unknown shape
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if isinstance(reasoning, str) and reasoning:
                pieces.append(Reasoning(reasoning))
            content = delta.get("content")
            if isinstance(content, str) and content:
                pieces.append(content)
            reason = choice.get("finish_reason")
            if reason:
                pieces += finish(reason)
    if "usage" in event or "timings" in event:
        pieces += meta(event)
    return pieces


def finish(reason):
    """Pieces for an OpenAI-style ``finish_reason``: Done, with a Cut when it stopped short."""
    if reason == "error":  # Mistral's in-stream error signal
        return [Fail("the server ended the reply with finish_reason \"error\"")]
    if not reason:
        return []
    if reason in ("length", "content_filter"):
        return [Cut(reason), Done(reason)]
    return [Done(reason)]


def cut_note(cut, body, *, wrote=True, source_file=False):
    return length_note(cut, body, source_file, LIMIT_KEYS, llama=True)


def length_note(cut, body, source_file, keys, *, llama=False):
    """The note for an OpenAI-style ``finish_reason`` of ``length`` or ``content_filter``."""
    if cut.why == "content_filter":
        return "the server's content filter stopped the reply (finish_reason content_filter)"
    key = next((k for k in keys if k in body), keys[0])
    note = f"the reply was cut at the output limit (finish_reason length): {raise_hint(key, body, source_file)}"
    if llama:  # llama.cpp says "length" for every limit it has
        note += "; on llama.cpp a full context or its time limit also ends a reply this way"
    return note
