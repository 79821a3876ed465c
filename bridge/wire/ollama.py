"""Ollama native: ``/api/chat`` and ``/api/generate``, newline-delimited JSON.

Request: ``model``, ``messages`` (chat) or ``prompt`` (completion: ``raw``;
``!infill``: ``prompt`` and ``suffix``, the model's own template; a FIM
template: ``raw``), the neutral sampling keys in ``options`` (``max_tokens``
→ ``num_predict``). Ollama cuts a prompt longer than its context without a
word, and its default context is small on small GPUs, so ``options.num_ctx``
is sized to the prompt plus the output budget (Ollama caps it at the model's
own context) unless the user set it. Reply: one JSON object per line,
``message.content``/``response``, ``thinking``, ``done`` with ``done_reason``
and ``prompt_eval_count``, which tells a prompt cut on the server.
"""

from . import Cut, Done, Meta, Reasoning, _dict, _text, infill_texts, move, need_messages, no_roles, prompt_suffix, raise_hint, render_template, shorten_hint

NAME = "ollama"
ENDPOINTS = {"chat": "api/chat", "completion": "api/generate", "infill": "api/generate", "fim": "api/generate"}
OPTIONS = {"max_tokens": "num_predict", "temperature": "temperature", "top_p": "top_p", "top_k": "top_k", "min_p": "min_p",
           "stop": "stop", "seed": "seed", "repeat_penalty": "repeat_penalty", "presence_penalty": "presence_penalty",
           "frequency_penalty": "frequency_penalty"}
MAPS = {**{k: f"options.{v}" for k, v in OPTIONS.items()}, "(prompt size)": "options.num_ctx"}
CHARS_PER_TOKEN = 3  # an estimate on the generous side: the context is sized from it
MIN_CTX = 8192
FEWEST_CHARS_PER_TOKEN = 10  # fewer tokens than characters / 10 is no tokenizer's doing: the prompt was cut


def shape(body, mode, messages, doc):
    if mode != "chat":
        no_roles(doc, mode)
    need_messages(messages, doc, "text")
    if mode == "chat":
        body["messages"] = [{"role": m.role, "content": m.content} for m in messages]
    elif mode == "completion":
        body["prompt"] = messages[0].content if messages else ""
        body.setdefault("raw", True)
    elif mode == "infill":
        body["prompt"], body["suffix"] = infill_texts(messages)
    else:
        body["prompt"] = render_template(doc, messages)
        body.setdefault("raw", True)
    size_options(body)


def fields(body, given):
    """Cursor infill: the server's own template with ``suffix``, or a FIM template's prompt sent raw."""
    body.update(prompt_suffix(given))
    if "suffix" not in body:
        body.setdefault("raw", True)
    size_options(body)


def size_options(body):
    """The neutral keys into ``options``, and ``num_ctx`` sized to the prompt and the output budget."""
    for key, name in OPTIONS.items():
        move(body, key, name, name, into="options")
    options = body.get("options")
    if not isinstance(options, dict):
        return
    output = options.get("num_predict")
    output = output if isinstance(output, int) and not isinstance(output, bool) and output > 0 else 2048
    needed = -(-prompt_chars(body) // CHARS_PER_TOKEN) * 5 // 4 + output
    size = MIN_CTX
    while size < needed:
        size *= 2  # powers of two: a new num_ctx makes Ollama reload the model, so few distinct values
    options.setdefault("num_ctx", size)


def prompt_chars(body):
    """Characters of the prompt the body carries."""
    texts = [m.get("content") for m in body.get("messages", []) if isinstance(m, dict)] if isinstance(body.get("messages"), list) else []
    texts += [body.get("prompt"), body.get("suffix"), body.get("system")]
    return sum(len(t) for t in texts if isinstance(t, str))


def decode(event, kind=None):
    """Pieces of one line: ``message`` (chat) or ``response``/``thinking`` (generate), then ``done``."""
    message = _dict(event.get("message"))
    thinking = _text(message.get("thinking")) or _text(event.get("thinking"))
    text = _text(message.get("content")) or _text(event.get("response"))
    pieces = ([Reasoning(thinking)] if thinking else []) + ([text] if text else [])
    if event.get("done") is True:
        count = event.get("prompt_eval_count")
        if isinstance(count, int) and not isinstance(count, bool):
            pieces.append(Cut("prompt_eval_count", {"count": count}))
        if event.get("done_reason") == "length":
            pieces.append(Cut("length"))
        pieces.append(Meta(usage={"input_tokens": count, "output_tokens": event.get("eval_count")}))
        pieces.append(Done(event.get("done_reason") or "done"))
    return pieces


def cut_note(cut, body, *, wrote=True, source_file=False):
    if cut.why == "length":
        hint = raise_hint("options.num_predict", body, source_file, shown="options.num_predict", setting="max_tokens")
        return f"the reply was cut at the output limit or a full context (done_reason length): {hint}"
    count, chars = cut.detail["count"], prompt_chars(body)
    if count * FEWEST_CHARS_PER_TOKEN >= chars:
        return None
    num_ctx = _dict(body.get("options")).get("num_ctx")
    return (f"the server read only {count} prompt tokens of a {chars}-character prompt: it dropped the start of the "
            f"prompt to fit its context (options.num_ctx {num_ctx}); raise num_ctx with `!:options {{\"num_ctx\": N}}` "
            f"(the model's own maximum is in `ollama show MODEL`) or {shorten_hint(source_file)}")
