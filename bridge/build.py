"""Turn a loaded Document into one frozen Request (what ``!debug`` prints)."""

import json
from dataclasses import dataclass, field

from . import urls, wire
from .envvars import VAR, redact
from .errors import BuildError
from .interpolate import interpolate
from .load import CREDENTIAL_HEADERS, UNBOUND, Header
from .resolve import resolve_api, resolve_body, resolve_headers

DEFAULT_BODY = {"max_tokens": 2000}
DEFAULT_HEADERS = (("content-type", "application/json"),)


@dataclass(frozen=True)
class Request:
    """One HTTP request and how to present its reply."""

    url: str
    headers: tuple  # ((name, value), ...) as sent
    body: str  # JSON text
    mode: str  # chat, completion, infill or fim
    wire: str  # name of the wire module that decodes the reply
    shown_headers: tuple = ()  # ((name, value-with-secrets-redacted), ...)
    secrets: tuple = ()
    notes: tuple = ()  # told to the user with the reply
    header_line: bool = True  # write "!assistant" before the reply
    header_there: bool = False  # the buffer already ends in an empty "!assistant": start on a new line under it
    continues: str = ""  # the assistant text this reply continues (assistant prefill), if any
    prepend: str = ""
    stats: bool = False
    gpt_oss: bool = False
    debug: bool = False
    problems: tuple = field(default=(), compare=False)  # errors that only a real send reports
    source_file: bool = False  # cursor infill: the text is a source file, so hints name options, not directives

    @property
    def json(self):
        return json.loads(self.body)

    def render(self):
        """The request as ``!debug`` writes it, secrets redacted."""
        lines = [f"POST {self.url} HTTP/1.1"]
        lines += [f"{name}: {value}" for name, value in self.shown_headers]
        return "\n".join(lines) + "\n\n" + self.body + "\n"


def build(doc, fields=None):
    """Build the Request for a loaded Document.

    ``fields`` (cursor infill, ``fim.py``) are the body's text fields,
    computed from a source file; the buffer's own text is then not used.
    The wire format (``!wire``, else Illume's) shapes the body and names the
    decoder of the reply.
    """
    header_there = doc.role == "assistant" and not "".join(doc.content).strip()
    messages = doc.finish()
    mode = "fim" if doc.mode == "infill" and doc.fim is not None else doc.mode
    body = resolve_body(DEFAULT_BODY, doc.settings)
    url, strict = _url(doc, body)
    name = resolve_api([(word, from_buffer) for word, from_buffer, _ in doc.wires])
    shaper = wire.module(wire.shaper(name, mode))
    path = wire.endpoint(shaper, mode)
    if not strict:
        url = shaper.url(url, mode, body) if hasattr(shaper, "url") else url + path
    # Illume's way reads the reply by the URL (an Anthropic URL, Anthropic's reply); a chosen format reads its own
    decoder = wire.for_request(mode, url) if name in (None, wire.DEFAULT) else shaper.NAME
    body["stream"] = True
    if fields is None:
        shaper.shape(body, mode, messages, doc)
    elif hasattr(shaper, "fields"):
        shaper.fields(body, fields)
    else:
        body.update(fields)
    headers, shown, secrets, notes, problems = _headers(doc, _origin(doc, url))
    continuing = mode == "chat" and bool(messages) and messages[-1].role == "assistant"
    return Request(
        url=url,
        headers=headers,
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True),
        mode=mode,
        wire=decoder,
        shown_headers=shown,
        secrets=secrets,
        notes=tuple(redact(note, secrets) for note in tuple(doc.notes) + notes),
        header_line=mode == "chat" and not continuing,
        header_there=header_there,
        source_file=fields is not None,
        continues=messages[-1].content if continuing else "",
        prepend=doc.prepend,
        stats=doc.stats,
        gpt_oss=doc.gpt_oss,
        debug=doc.debug,
        problems=problems,
    )


def _url(doc, body):
    api = resolve_api(doc.apis)
    if api is None:
        raise BuildError("no API URL: neither the buffer nor a profile has an !api line", hint="add `!api http://localhost:8080/` or `!profile llama.cpp`")
    if urls.is_literal(api):
        return api[1:-1], True  # used literally
    try:
        api = interpolate(api, body)
    except BuildError as err:
        err.message = f"interpolating the !api URL {api}: {err.message}"
        raise
    return (api if api.endswith("/") else api + "/"), False


def _origin(doc, url):
    """Where the request goes; a URL that parsers would read differently is an error at its !api line."""
    try:
        return urls.origin(url)
    except BuildError as err:
        api = resolve_api(doc.apis)
        err.where = next((where for (line, _), where in zip(doc.apis, doc.api_lines) if line == api), None)
        if "{" in api and not urls.is_literal(api):
            err.message = f"!api {api}: {err.message}"
        raise


def _headers(doc, to):
    defaults = [(name, Header(name, value, "default", "default")) for name, value in DEFAULT_HEADERS]
    final = resolve_headers(defaults + [(h.name, h if h.value is not None else None) for h in doc.headers])
    secrets = [secret for header in doc.headers for secret in _secrets(header)]  # every one read, sent or not
    headers, shown, notes, problems = [], [], [], []
    for name, header in final.items():
        withheld = _withheld_reason(header, to)
        if withheld:
            notes.append(withheld)
            continue
        problem = _unsendable(header)
        if problem:
            problems.append(problem)
        if header.expansion:
            display = header.expansion.redacted()
        elif name in CREDENTIAL_HEADERS:
            display = _redact_literal(header.value)
        else:
            display = header.value
        headers.append((name, header.value))
        shown.append((name, display))
    return tuple(headers), tuple(shown), tuple(dict.fromkeys(s for s in secrets if s)), tuple(notes), tuple(problems)


def _secrets(header):
    if header.value is None:
        return []
    if header.expansion:
        return list(header.expansion.secrets)
    return _credential_parts(header.value) if header.name in CREDENTIAL_HEADERS else []


def _unsendable(header):
    """The error for a header that cannot go out as expanded: a variable unset, or its value not sendable (named, never quoted)."""
    expansion = header.expansion
    if expansion is None:
        return None
    label = f"!>{header.name}"
    if expansion.missing:
        missing = ", ".join("$" + n for n in expansion.missing)
        return BuildError(f"{label} needs {missing}, which is not set", where=header.where, hint=f"export {expansion.missing[0]}=… before starting the editor, or remove the header with `{label}`")
    for name, what in expansion.unsendable():
        return BuildError(f"{label} cannot be sent: ${name} has {what} in its value", where=header.where, hint=f"fix the value of {name} (a key file saved with CRLF ends in a carriage return)")
    if expansion.value != expansion.value.strip(" \t"):
        names = ", ".join("$" + n for n in expansion.names)
        return BuildError(f"{label} cannot be sent: with {names} expanded the value starts or ends with a space", where=header.where, hint="remove the spaces around the variable's value")
    return None


def _withheld_reason(header, to):
    if header.binding == UNBOUND:
        return None
    label = f"!>{header.name} from {header.where}"
    if header.binding is None:
        return f"{label} was withheld: {header.unbound_why}"
    if header.binding == to:
        return None
    return f"{label} was withheld: it belongs to {header.binding} and this request goes to {to}; use a profile whose !api names this server"


def _credential_parts(value):
    """The secret parts of a literal credential: the whole value, and the token after a scheme word (not a ``$VAR`` left as written)."""
    scheme, space, token = value.partition(" ")
    token = token.strip()
    return [value, token] if space and token and not VAR.fullmatch(token) else [value]


def _redact_literal(value):
    scheme, space, rest = value.partition(" ")
    return f"{scheme} [redacted]" if space and rest else "[redacted]"
