"""Completions: OpenAI's ``completions`` (``prompt``) and llama.cpp's native ``/infill`` and ``/completion``.

The body is Illume's: ``prompt`` (the buffer, or a FIM template filled in)
for ``completions``; ``input_prefix``, ``input_suffix`` and an empty
``prompt`` for ``/infill``; every ``!:`` key as written. The reply:
``choices[0].text`` (OpenAI) or ``content`` with a final ``stop`` chunk
whose ``stop_type`` and ``truncated`` say why it ended (llama.cpp).
"""

from . import Cut, Done, _list, infill_texts, meta, no_roles, render_template, raise_hint, shorten_hint
from .openai_chat import finish, length_note
from ..errors import BuildError

NAME = "completions"
ENDPOINTS = {"completion": "completions", "infill": "infill", "fim": "completions"}
MAPS = {}
LIMIT_KEYS = ("n_predict", "max_tokens", "max_completion_tokens")


def shape(body, mode, messages, doc):
    no_roles(doc, mode)
    if mode == "completion":
        if not messages and not doc.debug:
            raise BuildError("nothing to complete: the buffer has no text", hint="write the text to be continued after !completion")
        body["prompt"] = messages[0].content if messages else ""
        return
    if mode == "infill":
        body["prompt"] = ""
        body["input_prefix"], body["input_suffix"] = infill_texts(messages)
    else:
        body["prompt"] = render_template(doc, messages)


def decode(event, kind=None):
    """Pieces of one chunk: ``choices[0].text`` (OpenAI) or ``content``/``stop`` (llama.cpp)."""
    pieces = []
    if "choices" in event:
        for choice in _list(event.get("choices"))[:1]:
            if not isinstance(choice, dict):
                continue  # a malformed chunk is skipped, like any chunk of unknown shape
            text = choice.get("text")
            if isinstance(text, str) and text:
                pieces.append(text)
            pieces += finish(choice.get("finish_reason"))
    else:
        content = event.get("content")
        if isinstance(content, str) and content:
            pieces.append(content)
        if event.get("stop") is True:
            if event.get("stop_type") == "limit" or event.get("truncated") is True:
                detail = {k: event.get(k) for k in ("truncated", "tokens_predicted", "tokens_evaluated")}
                pieces.append(Cut("limit", detail))
            pieces.append(Done(event.get("stop_type")))
    if "usage" in event or "timings" in event:
        pieces += meta(event)
    return pieces


def cut_note(cut, body, *, wrote=True, source_file=False):
    if cut.why != "limit":
        return length_note(cut, body, source_file, LIMIT_KEYS, llama=True)
    return limit_note(cut.detail, body, source_file)


def limit_note(detail, body, source_file):
    """llama.cpp's ``stop_type: limit``, told apart by what the server says and what was asked for."""
    if detail.get("truncated") is True:
        evaluated = detail.get("tokens_evaluated")
        size = f" ({evaluated} prompt tokens)" if isinstance(evaluated, int) else ""
        return (f"the reply was cut because the server's context filled up{size}: {shorten_hint(source_file)}, "
                "or restart the server with a larger context (bufbridge serve --ctx-size N, llama-server -c N)")
    key = next((k for k in LIMIT_KEYS if k in body), None)
    cap = body.get(key) if key else None
    predicted = detail.get("tokens_predicted")
    if isinstance(cap, int) and not isinstance(cap, bool) and isinstance(predicted, int) and 0 <= cap <= predicted:
        return f"the reply was cut at the output limit (stop_type limit, {predicted} tokens): {raise_hint(key, body, source_file)}"
    if "n_indent" in body:
        return None  # the server stopped at a line indented less than the cursor's: the end of the block, as asked
    if "t_max_predict_ms" in body:
        how = "raise --max-ms MS" if source_file else "raise or remove `!:t_max_predict_ms`"
        return f"the reply was cut at the server's time limit (t_max_predict_ms {body['t_max_predict_ms']}): {how}"
    return f"the reply was cut at a server limit (stop_type limit): {raise_hint(key or 'n_predict', body, source_file)}, or the server's own -n"
