"""Anthropic Messages (``POST /v1/messages``): named SSE events, thinking blocks, ``stop_reason``.

Request: the system text at the top level (``system``; joined after a
``!:system`` the profile or buffer set), only ``user`` and ``assistant``
messages, ``max_tokens`` required, ``stop`` sent as ``stop_sequences``. An
interrupted ``!assistant`` reply is the last message: Anthropic continues it
(assistant prefill; trailing whitespace, which the API refuses there, is
left off). Reply: ``content_block_delta`` text and thinking, ``message_delta``
with the ``stop_reason`` and usage, ``message_stop``; ``ping`` is skipped,
``error`` events end the reply with an error.
"""

from . import Cut, Done, Fail, Meta, Reasoning, _dict, move, need_messages, raise_hint, roles, shorten_hint, split_system
from ..errors import BuildError

NAME = "anthropic"
ENDPOINTS = {"chat": "messages"}
MAPS = {"max_tokens": "max_tokens (required)", "stop": "stop_sequences", "system text": "system"}
CUTS = ("max_tokens", "model_context_window_exceeded", "refusal", "pause_turn")


def shape(body, mode, messages, doc):
    if "max_tokens" not in body:
        raise BuildError("the anthropic wire format needs max_tokens, and the request has none",
                         hint="set it with `!:max_tokens N` (a `!:max_tokens` line with no value deletes it)")
    move(body, "stop", "stop_sequences", "stop_sequences")
    system, rest = split_system(messages)
    if system is not None:
        given = body.get("system")
        if isinstance(given, list):  # text blocks (cache_control and all): the buffer's text is one more
            body["system"] = [*given, {"type": "text", "text": system}]
        else:
            body["system"] = f"{given}\n\n{system}" if isinstance(given, str) and given else system
    need_messages(rest, doc, "user message")
    body["messages"] = roles(rest, ("user", "assistant"), "anthropic")
    if rest and rest[-1].role == "assistant":
        body["messages"][-1]["content"] = rest[-1].content.rstrip()


def decode(event, kind=None):
    """Pieces of one event; its type comes from the JSON ``type`` (repeated in ``event:``)."""
    kind = event.get("type") or kind
    if kind == "content_block_delta":
        delta = _dict(event.get("delta"))
        if isinstance(delta.get("thinking"), str) and delta["thinking"]:
            return [Reasoning(delta["thinking"])]
        if isinstance(delta.get("text"), str) and delta["text"]:
            return [delta["text"]]
    elif kind == "message_start":
        usage = _dict(_dict(event.get("message")).get("usage"))
        return [Meta(usage=usage)] if usage else []
    elif kind == "message_delta":
        pieces = []
        reason = _dict(event.get("delta")).get("stop_reason")
        if reason in CUTS:
            pieces.append(Cut(reason))
        usage = event.get("usage")
        return pieces + ([Meta(usage=usage)] if isinstance(usage, dict) else [])
    elif kind == "message_stop":
        return [Done("message_stop")]
    elif kind == "error":
        error = _dict(event.get("error"))
        return [Fail(f"{error.get('type', 'error')}: {error.get('message', '')}".rstrip(": "))]
    return []


def cut_note(cut, body, *, wrote=True, source_file=False):
    if cut.why == "max_tokens":
        thinking = " (thinking.budget_tokens counts against it)" if isinstance(body.get("thinking"), dict) else ""
        return f"the reply was cut at the output limit (stop_reason max_tokens): {raise_hint('max_tokens', body, source_file)}{thinking}"
    if cut.why == "model_context_window_exceeded":
        return f"the reply was cut because the conversation filled the model's context window (stop_reason model_context_window_exceeded): {shorten_hint(source_file)}"
    if cut.why == "refusal":
        return "the model declined to continue (stop_reason refusal)"
    return "the server paused the turn (stop_reason pause_turn): send again to let it continue"
