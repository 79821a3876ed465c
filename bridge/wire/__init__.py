"""Wire formats: one module per format owns both halves of it.

A format module has:

* ``NAME`` (the word a profile gives to ``!wire``) and ``ENDPOINTS``: the path
  appended to a non-literal ``!api`` URL for each mode it speaks (``chat``,
  ``completion``, ``infill``: the server's own fill-in-the-middle, ``fim``: a
  FIM template); a mode it lacks is an error at build time;
* ``shape(body, mode, messages, doc)``: turn the resolved body (the ``!:`` keys,
  the default ``max_tokens``, ``"stream": true``) and the messages into this
  format's request body, mapping the neutral keys it knows (``MAPS``, what the
  README documents) and leaving every other key as the user wrote it;
* ``decode(event, kind) -> [pieces]``: one JSON object of the reply stream
  (and its SSE ``event:`` type, or None) as pieces: reply text is a plain
  ``str`` (the piece nearly every event carries, so it costs nothing to
  build); the rare ones are ``Reasoning``, ``Done``, ``Cut``, ``Meta`` and
  ``Fail``. Error events in any shape a server uses are caught before
  ``decode`` sees them (``error_message``, tested per event by the cheap
  ``may_be_error``);
* ``cut_note(cut, body, *, wrote, source_file)``: the ``!note`` for a ``Cut``.

Optional: ``url(base, mode, body)`` when the endpoint depends on the body
(Gemini puts the model in the path) and ``fields(body, fields)`` to put the
cursor infill fields (llama.cpp ``/infill`` fields or a template's ``prompt``)
into its own body. ``FORMATS`` maps each ``!wire`` name to its module; without a ``!wire``
line a request is shaped as Illume shapes it (``DEFAULT``).
"""

import importlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..errors import BuildError

MODULES = {
    "openai_chat": "bridge.wire.openai_chat",
    "completions": "bridge.wire.completions",
    "anthropic": "bridge.wire.anthropic",
    "gemini": "bridge.wire.gemini",
    "ollama": "bridge.wire.ollama",
    "responses": "bridge.wire.responses",
    "codestral": "bridge.wire.codestral",
    "deepseek_fim": "bridge.wire.deepseek_fim",
}
# ``!wire NAME`` -> module; "openai" is the Illume default: chat/completions, completions, llama.cpp /infill.
FORMATS = {
    "openai": None,
    "anthropic": "anthropic",
    "gemini": "gemini",
    "ollama": "ollama",
    "openai-responses": "responses",
    "codestral": "codestral",
    "deepseek-fim": "deepseek_fim",
}
DEFAULT = "openai"
MODE_WORDS = {"chat": "chat", "completion": "!completion", "infill": "!infill", "fim": "!infill with a FIM template"}


@dataclass(frozen=True, slots=True)
class Reasoning:
    """Reasoning the server sends apart from the answer."""

    text: str


@dataclass(frozen=True, slots=True)
class Done:
    """The server says the reply is complete."""

    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Cut:
    """The server says the reply stopped short of its natural end: ``why`` is the format's own code."""

    why: str
    detail: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class Fail:
    """The server reports an error inside the stream."""

    message: str


@dataclass(frozen=True, slots=True)
class Meta:
    """Token counts and timings the server reports (OpenAI ``usage``, llama.cpp ``timings``)."""

    usage: dict | None = None
    timings: dict | None = None


def module(name):
    """Import a wire module by its registry name."""
    return importlib.import_module(MODULES[name])


def check_name(name):
    """The ``!wire`` NAME, or BuildError naming the formats there are."""
    if not name:
        raise BuildError("!wire needs the name of a wire format", hint="use one of: " + ", ".join(FORMATS))
    if name not in FORMATS:
        raise BuildError(f"!wire {name}: no such wire format", hint="use one of: " + ", ".join(FORMATS))
    return name


def shaper(name, mode):
    """The registry name of the module that shapes the body for ``!wire name`` (None: Illume's way, by mode)."""
    if name is None or name == DEFAULT:
        return "openai_chat" if mode == "chat" else "completions"
    return FORMATS[name]


def for_request(mode, url):
    """The decoder for a request shaped the default way: Anthropic's reply when the URL is its ``/messages`` (as Illume)."""
    path = urlsplit(url).path.rstrip("/")
    if path.endswith("/messages"):
        return "anthropic"
    return "openai_chat" if mode == "chat" else "completions"


def endpoint(mod, mode):
    """The path ``mod`` appends for ``mode``, or BuildError saying which modes it speaks."""
    path = mod.ENDPOINTS.get(mode)
    if path is None:
        modes = ", ".join(MODE_WORDS[m] for m in mod.ENDPOINTS)
        name = next((k for k, v in FORMATS.items() if v == mod.NAME), mod.NAME)
        raise BuildError(f"the {name} wire format has no {MODE_WORDS[mode]} mode (it speaks: {modes})",
                         hint="use a profile for a server that speaks this mode, or remove the mode directive")
    return path


# --- shared by the formats ----------------------------------------------------


def may_be_error(event):
    """False when ``error_message(event)`` is surely None: a stream's test of every event, much cheaper than the message."""
    return event.__class__ is not dict or "error" in event or event.get("type") == "error" or event.get("object") == "error"


def error_message(event):
    """The message of an error event in any of the shapes servers use, or None."""
    if isinstance(event, list):
        return next((m for m in map(error_message, event) if m), None)
    if not isinstance(event, dict):
        return None
    error = event.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or error.get("type") or error)
    if isinstance(error, str) and error:
        return error
    if event.get("object") == "error" or event.get("type") == "error":
        return str(event.get("message") or event)
    return None


def _list(value):
    """``value`` if it is a list, else [] (``choices`` may be null or malformed)."""
    return value if isinstance(value, list) else []


def _dict(value):
    """``value`` if it is an object, else {}."""
    return value if isinstance(value, dict) else {}


def _text(value):
    """``value`` if it is a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def meta(event):
    """A Meta piece for ``usage``/``timings`` in an event, if any."""
    usage, timings = event.get("usage"), event.get("timings")
    if isinstance(usage, dict) or isinstance(timings, dict):
        return [Meta(usage if isinstance(usage, dict) else None, timings if isinstance(timings, dict) else None)]
    return []


def move(body, key, to, name, *, into=None):
    """Move neutral ``key`` to ``name`` (inside ``body[into]`` when given), unless the user already set that one."""
    if key not in body:
        return
    value = body.pop(key)
    if into is None:
        body.setdefault(name, value)
    elif isinstance(body.get(into, {}), dict):
        body[into] = {name: value, **body.get(into, {})}  # a copy: the user's object is not changed in place


def roles(messages, allowed, fmt):
    """Messages as role/content objects; a role ``fmt`` does not take is an error naming it."""
    for m in messages:
        if m.role not in allowed:
            raise BuildError(f"the {fmt} wire format has no {m.role} role", hint="use !user and !assistant lines")
    return [{"role": m.role, "content": m.content} for m in messages]


def split_system(messages):
    """(the system text, or None; the other messages)."""
    system = [m.content for m in messages if m.role == "system"]
    return ("\n\n".join(system) if system else None), [m for m in messages if m.role != "system"]


def no_roles(doc, mode):
    """Role lines are an error outside chat: the whole text is one prompt (or a prefix and a suffix)."""
    if doc.roles_used:
        word, where = doc.roles_used[0]
        raise BuildError(f"{word} cannot be used in {'!completion' if mode == 'completion' else '!infill'} mode", where=where,
                         hint="remove the role lines, or drop the mode directive to chat")


def need_messages(messages, doc, what="message"):
    """Refuse an empty conversation (a dry run may show one)."""
    if not messages and not doc.debug:
        raise BuildError(f"nothing to send: the buffer has no {what}", hint="write a question after a `!user` line")


def render_template(doc, messages):
    """The prompt of a FIM template (``!infill TEMPLATE``, ``fim:NAME``) with the buffer's prefix and suffix filled in."""
    from .. import fimtemplate

    try:
        return fimtemplate.render(doc.fim.template, *infill_texts(messages))
    except BuildError as err:
        err.message = f"!infill template: {err.message}"
        raise


def infill_texts(messages):
    """(prefix, suffix) of a buffer's ``!infill``: the prefix gets a newline, the suffix a leading one."""
    texts = {m.role: m.content for m in messages}
    prefix = texts["system"] + "\n" if "system" in texts else ""
    suffix = "\n" + texts["infill"] if "infill" in texts else ""
    return prefix, suffix


def prompt_suffix(fields):
    """Cursor infill fields as a FIM API's ``prompt`` and ``suffix`` (the server applies the model's template).

    Such APIs have no field for other files: the extra files llama.cpp would
    get as ``input_extra`` go before the prefix, each under a comment naming
    it (in its own language's comment syntax), so no context is dropped.
    """
    fields = dict(fields)
    extras = fields.pop("input_extra", None)
    if "input_prefix" in fields:
        fields["prompt"] = _extra_blocks(extras) + fields.pop("input_prefix") + fields.get("prompt", "")
        fields["suffix"] = fields.pop("input_suffix", "")
    for key in ("n_indent", "t_max_predict_ms"):  # llama.cpp /infill only
        fields.pop(key, None)
    return fields


def _extra_blocks(extras):
    from ..stops import language

    blocks = []
    for extra in extras or ():
        marker = language(extra["filename"])[0][0]
        text = extra["text"] if extra["text"].endswith("\n") else extra["text"] + "\n"
        blocks.append(f"{marker} {extra['filename']}\n{text}\n")
    return "".join(blocks)


def raise_hint(key, body, source_file, *, shown=None, setting=None):
    """How to raise the limit held by body ``key`` (dotted: nested): its value and the ``!:SETTING N`` that raises it."""
    where = "in the profile (cursor infill reads no directives)" if source_file else "in the buffer"
    value = _lookup(body, key)
    shown = shown or key
    now = f"{shown} is {value}" if value is not None else f"{shown} was not sent, so the server's default applied"
    return f"{now}; raise it with `!:{setting or key} N` {where}"


def _lookup(body, dotted):
    value = body
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def shorten_hint(source_file):
    if source_file:
        return "send less of the file with --ctx-tokens N and --extra-tokens N"
    return "shorten the buffer (!begin drops earlier text)"
