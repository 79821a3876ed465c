"""OpenAI Responses (``POST /v1/responses``): the reasoning models' summaries come only here.

Request: ``input`` (the user and assistant messages), the system text as
``instructions``, ``max_tokens`` → ``max_output_tokens``; ``!:reasoning
{"summary": "auto"}`` asks for the summaries. Reply: named events, no
``[DONE]``: ``response.output_text.delta`` is text,
``response.reasoning_summary_text.delta`` and ``response.reasoning_text.delta``
are reasoning, ``response.completed``/``response.incomplete`` end it
(``incomplete_details.reason``), ``response.failed`` and ``error`` are errors.
"""

from . import Cut, Done, Fail, Meta, Reasoning, _dict, _text, move, need_messages, raise_hint, roles, split_system

NAME = "responses"
ENDPOINTS = {"chat": "responses"}
MAPS = {"max_tokens": "max_output_tokens", "system text": "instructions"}
REASONING = ("response.reasoning_summary_text.delta", "response.reasoning_text.delta")


def shape(body, mode, messages, doc):
    move(body, "max_tokens", "max_output_tokens", "max_output_tokens")
    system, rest = split_system(messages)
    if system is not None:
        given = body.get("instructions")
        body["instructions"] = f"{given}\n\n{system}" if isinstance(given, str) and given else system
    need_messages(rest, doc, "user message")
    body["input"] = roles(rest, ("user", "assistant"), "openai-responses")


def decode(event, kind=None):
    kind = event.get("type") or kind
    if kind == "response.output_text.delta" and _text(event.get("delta")):
        return [event["delta"]]
    if kind in REASONING and _text(event.get("delta")):
        return [Reasoning(event["delta"])]
    if kind in ("response.completed", "response.incomplete"):
        response = _dict(event.get("response"))
        usage = response.get("usage")
        pieces = [Meta(usage=usage)] if isinstance(usage, dict) else []
        if kind == "response.incomplete":
            pieces.append(Cut(str(_dict(response.get("incomplete_details")).get("reason") or "unknown")))
        return pieces + [Done(response.get("status") or kind)]
    if kind == "response.failed":
        error = _dict(_dict(event.get("response")).get("error"))
        return [Fail(f"the response failed: {error.get('message') or error.get('code') or 'no reason given'}")]
    return []


def cut_note(cut, body, *, wrote=True, source_file=False):
    if cut.why == "max_output_tokens":
        hint = raise_hint("max_output_tokens", body, source_file, setting="max_tokens")
        return f"the reply was cut at the output limit, reasoning included (incomplete_details.reason max_output_tokens): {hint}"
    return f"the reply is incomplete (incomplete_details.reason {cut.why})"
