"""Give the buffer language its meaning: read lines into a Document.

The buffer and every profile go through ``Loader.load_text``; only the
``Source`` differs (its name for error locations, whether it is the buffer,
whether ``$VAR`` may be expanded in it). Profiles are loaded where their
``!profile`` line stands, so their text lines join the message being written
there, exactly as in Illume. What wins when sources disagree is decided
later, by ``resolve.py``, from the settings recorded here in load order.
"""

import re
from dataclasses import dataclass, field

from . import cache, embed, envvars, files, fimtemplate, jsonsafe, profiles, urls, wire
from .errors import BridgeError, BuildError, DirectiveError, ProfileError
from .interpolate import interpolate
from .parse import classify, key_of, near_miss, scan
from .resolve import DELETE, Setting, resolve_api, resolve_body

MAX_DEPTH = 16
DEFAULT_PROFILE = "llama.cpp"
UNBOUND = "unbound"  # a header that may go to any origin


@dataclass(frozen=True)
class Source:
    """Where lines come from: the buffer (depth 0) or a profile."""

    name: str
    depth: int = 0
    expand_env: bool = False  # ``$VAR`` is expanded (security rule 1)
    trusted: bool = False  # the user's own or a built-in profile: may read anywhere (rule 5) and route (rule 3)

    @property
    def is_buffer(self):
        return self.depth == 0


@dataclass(frozen=True)
class Message:
    role: str
    content: str


@dataclass
class Header:
    """One ``!>NAME VALUE`` line as read; ``value`` None deletes the header."""

    name: str
    value: str | None
    where: str
    source: str
    expansion: envvars.Expansion | None = None
    binding: urls.Origin | str | None = UNBOUND  # the origin the header is bound to, or None: bound to nothing
    unbound_why: str = ""  # why it is bound to nothing
    pending: bool = False  # binding decided when its profile finishes loading


@dataclass
class Document:
    """Everything the directives said, in load order, before precedence is applied."""

    messages: list = field(default_factory=list)
    role: str = ""
    content: list = field(default_factory=list)
    roles_used: list = field(default_factory=list)  # (role, where) of !user/!assistant lines
    mode: str = "chat"
    infill_at: str | None = None
    fim: fimtemplate.Template | None = None  # the FIM template in force, as loaded
    settings: list = field(default_factory=list)
    apis: list = field(default_factory=list)  # (url, from_buffer)
    api_lines: list = field(default_factory=list)  # where each of ``apis`` was read
    wires: list = field(default_factory=list)  # (name, from_buffer, where) of !wire lines: resolved as !api
    headers: list = field(default_factory=list)
    prepend: str = ""
    exclude: str | None = None
    excluding: bool = False
    in_error: bool = False  # inside an !error block, which is never sent
    debug: bool = False
    stats: bool = False
    gpt_oss: bool = False
    heuristics: list = field(default_factory=list)  # (on, from_buffer) of each !heuristics line: the FIM stop heuristics
    notes: list = field(default_factory=list)
    profile_loaded: bool = False
    loading: list = field(default_factory=list)  # profile files being loaded, for loop detection

    def flush(self, role):
        """End the message being written and start one of ``role``."""
        text = "".join(line + "\n" for line in self.content).strip("\r\n")
        if text:
            self.messages.append(Message(self.role or "system", text))
        self.role = role
        self.content = []

    def finish(self):
        """The final list of messages (the message being written included)."""
        self.flush("")
        return list(self.messages)


def default_profile_name(env, option=None):
    """The profile loaded when the buffer names none, and where that choice came from."""
    for value, origin in (
        (option, "--profile"),
        (env.get("BUFBRIDGE_PROFILE"), "$BUFBRIDGE_PROFILE"),
        (env.get("ILLUME_PROFILE"), "$ILLUME_PROFILE"),
    ):
        if value:
            return value, origin
    return DEFAULT_PROFILE, "the built-in default"


class Loader:
    """Reads buffer and profile text into a Document."""

    def __init__(self, env, *, allow_env=False, allow_files=False, cwd=None):
        self.env = env
        self.allow_env = allow_env
        self.files = files.Policy.here(env, allow_outside=allow_files, cwd=cwd)

    def load_buffer(self, text, *, default_profile=None):
        """Load the buffer, then the default profile if no ``!profile`` line loaded one."""
        doc = Document()
        self.load_text(doc, text, Source("<stdin>", 0, expand_env=self.allow_env))
        if not doc.profile_loaded:
            name, origin = default_profile_name(self.env, default_profile)
            try:
                self.load_profile(doc, name, Source("<stdin>", 0), path_trusted=True)
            except (ProfileError, DirectiveError) as err:
                err.where = err.where or f"default profile {name!r} (from {origin})"
                raise
        return doc

    def load_text(self, doc, text, source):
        for lineno, raw in scan(text):
            if self._excluded(doc, raw):
                continue
            line = classify(lineno, raw)
            where = f"{source.name}:{lineno}"
            if line.word is None:
                if not doc.in_error:
                    doc.content.append(line.text)
                    if source.is_buffer:
                        self._near_miss(doc, raw, where)
                continue
            doc.in_error = line.word == "!error"  # an error block runs to the next directive line
            if line.word == "!end":
                break
            elif not doc.in_error:
                try:
                    self._directive(doc, line, source, where)
                except BridgeError as err:
                    if err.where is None:
                        err.where = where
                    raise
        doc.in_error = False  # an error block ends with the text it is in

    @staticmethod
    def _near_miss(doc, raw, where):
        meant = near_miss(raw)
        if meant:
            shown = raw if len(raw) <= 40 else raw[:40] + "…"
            doc.notes.append(f"{where}: `{shown}` is not a directive, so it was sent as text; did you mean `{meant}`?")

    @staticmethod
    def _excluded(doc, raw):
        if not doc.exclude:
            return False
        if doc.excluding:
            doc.excluding = raw != f"</{doc.exclude}>"
            return True
        if raw == f"<{doc.exclude}>":
            doc.excluding = True
            return True
        return False

    def _directive(self, doc, line, source, where):
        word, args = line.word, line.args
        if word == "!profile":
            name = args.strip()
            if not name:
                raise DirectiveError("!profile needs a name", hint="see `bufbridge --list-profiles`")
            self.load_profile(doc, name, source)
        elif word in ("!user", "!assistant"):
            doc.roles_used.append((word, where))
            doc.flush(word[1:])
        elif word == "!api":
            url = args.strip()
            if not url:
                raise DirectiveError("!api needs a URL", hint="e.g. !api http://localhost:8080/v1")
            if "{" not in url or urls.is_literal(url):
                urls.origin(url[1:-1] if urls.is_literal(url) else url)  # refused here, at its line, when it needs no {key}
            doc.apis.append((url, source.is_buffer))
            doc.api_lines.append(where)
        elif word == "!wire":
            doc.wires.append((wire.check_name(args.strip()), source.is_buffer, where))
        elif word == "!:":
            doc.settings.append(Setting(key_of(line), _json_value(args.strip()), where, source.is_buffer))
        elif word == "!>":
            doc.headers.append(self._header(doc, key_of(line), args.strip(), source, where))
        elif word == "!infill":
            self._infill(doc, args, where)
        elif word in ("!context", "!reddit", "!reddit!", "!github"):
            self._embed(doc, word, args, source, where)
        else:
            self._simple(doc, word, args, source)

    def _simple(self, doc, word, args, source):
        if word == "!completion":
            doc.mode = "completion"
        elif word in ("!debug", "!stats", "!gpt-oss"):
            setattr(doc, word[1:].replace("-", "_"), True)
        elif word == "!prepend":
            doc.prepend = _prepend_value(args)
        elif word == "!heuristics":
            doc.heuristics.append((_on_off(word, args), source.is_buffer))
        elif word == "!exclude":
            doc.exclude = args.strip() or None
        elif word == "!begin":
            doc.messages, doc.role, doc.content, doc.roles_used = [], "", [], []
        # !note: a comment, nothing to do

    def _embed(self, doc, word, args, source, where):
        reader = self.files.reader(confined=not source.trusted)
        if word == "!context":
            text, skipped = embed.context(args, reader)
            if skipped:
                doc.notes.append(f"{where}: {files.skipped_note(word, skipped)}")
        elif word == "!github":
            text = embed.github(args, reader)
        else:
            text = embed.reddit(args, reader, word == "!reddit")
        doc.content.extend(_as_lines(text))

    def _infill(self, doc, args, where):
        if args:
            doc.fim = fimtemplate.Template("!infill", args)
            return
        if doc.infill_at is not None:
            raise DirectiveError(f"a second !infill marker (the first is at {doc.infill_at})", hint="keep one !infill line where the text is to be filled in")
        doc.infill_at = where
        doc.mode = "infill"
        doc.flush("infill")

    def _header(self, doc, name, value, source, where):
        _check_header(name, value, source)
        if not value:
            return Header(name.lower(), None, where, source.name)
        names = envvars.references(value)
        if names and not source.expand_env:
            doc.notes.append(
                f"{where}: {', '.join('$' + n for n in names)} in !>{name} was sent literally: "
                "the buffer may not read the environment; run with --allow-env (or set allow_env in the config file) to expand it"
            )
            return Header(name.lower(), value, where, source.name)
        expansion = envvars.expand(value, self.env) if names else None
        credential = name.lower() in CREDENTIAL_HEADERS
        header = Header(name.lower(), expansion.value if expansion else value, where, source.name, expansion)
        if not source.is_buffer and (names or credential):
            header.pending = True
        return header

    def load_profile(self, doc, name, parent, *, path_trusted=False):
        """Load profile ``name`` at the current position of ``doc``."""
        # A path is trusted when the user named it (--profile, $BUFBRIDGE_PROFILE) or a trusted
        # profile did; a path the buffer names is not, even with --allow-env, which only lets it
        # (and the profiles it names) expand $VAR.
        found = profiles.find(name, self.env, path_trusted=path_trusted or parent.trusted)
        if parent.depth + 1 > MAX_DEPTH or str(found.path) in doc.loading:
            chain = " -> ".join(doc.loading + [str(found.path)])
            raise ProfileError(f"profiles load each other in a loop: {chain}", hint="remove one of the !profile lines")
        doc.profile_loaded = True
        source = Source(found.name, parent.depth + 1, expand_env=found.trusted or parent.expand_env, trusted=found.trusted)
        doc.loading.append(str(found.path))
        start = len(doc.apis), len(doc.settings), len(doc.headers)
        try:
            if found.kind == "fim":
                self._load_template(doc, found, source)
            else:
                text = self._profile_text(found, source)
                self.load_text(doc, text, source)
        finally:
            doc.loading.pop()
        pending = [header for header in doc.headers[start[2]:] if header.pending]
        if pending:
            binding, why = _binding(doc.apis[start[0]:], doc.settings[start[1]:])
            for header in pending:
                header.binding, header.unbound_why, header.pending = binding, why, False

    def _profile_text(self, found, source):
        reader = self.files.reader(confined=not source.trusted)
        if not source.trusted:  # a file the buffer named: read, and checked, every time
            return reader.read(str(found.path), "!profile")
        return cache.by_file("profile", found.path, lambda path: reader.read(str(path), "!profile"))

    @staticmethod
    def _load_template(doc, found, source):
        template = cache.by_file(("template", found.name), found.path, lambda path: fimtemplate.load(path, found.name))
        doc.fim = template
        if template.stop:
            doc.settings.append(Setting("stop", list(template.stop), f"{found.path}", False))


CREDENTIAL_HEADERS = frozenset({"authorization", "x-api-key", "api-key", "x-goog-api-key", "proxy-authorization"})
# The HTTP library frames the request (RFC 9110 and 9112: length, connection, hop-by-hop fields):
# a value from any source could only make the request mean something else to some server or proxy.
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive", "te", "trailer", "upgrade", "expect"})
# Fields that choose who reads the request: a trusted profile may set them, a buffer may not.
ROUTING_HEADERS = frozenset({"host"})
TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 field name
# RFC 9110 field value: visible ASCII, with spaces and tabs inside; no CR, LF, NUL or other control.
FIELD_VALUE_BAD = re.compile(r"[^\t\x20-\x7e]")


def _check_header(name, value, source):
    """Refuse a header that would change how the request is framed or routed, or that cannot be sent as written."""
    lower = name.lower()
    if not TOKEN.fullmatch(name):
        raise DirectiveError(f"!>{name}: a header name is letters, digits and !#$%&'*+-.^_`|~ only", hint="fix the name")
    routing = lower in ROUTING_HEADERS or lower.startswith("proxy-")
    if lower in FRAMING_HEADERS or (routing and (source.is_buffer or not source.trusted)):
        who = "any buffer or profile" if lower in FRAMING_HEADERS else "a buffer or a profile it names by path"
        raise DirectiveError(
            f"!>{name} cannot be set from {who}: it decides how the request is framed or where it goes",
            hint="remove the line" + ("" if lower in FRAMING_HEADERS else "; a profile in your configuration folder may set it"),
        )
    bad = FIELD_VALUE_BAD.search(value)
    if bad:
        raise DirectiveError(
            f"!>{name}: the value has {envvars.describe(bad.group())}, which cannot be sent in a header",
            hint="header values are one line of printable ASCII",
        )


def _binding(apis, settings):
    """The origin a profile's credentials go to: its own !api (or the first a profile it loaded set), filled from its own settings."""
    url = resolve_api(apis)
    if url is None:
        return None, "its profile sets no !api, so the credential is bound to no server; add !api to the profile"
    try:
        url = url[1:-1] if urls.is_literal(url) else interpolate(url, resolve_body({}, settings))
    except BuildError as err:
        return None, f"its profile's !api {url} cannot be resolved from the profile's own settings ({err.message}); set the value in that profile"
    try:
        return urls.origin(url), ""
    except BuildError as err:
        return None, f"its profile's !api is not a usable URL ({err.message})"


def _json_value(text):
    """``!:KEY VALUE``: VALUE as JSON, else as a string; empty deletes the key.

    Text that is JSON but nested too deeply to be sent is an error rather than
    a string nobody meant. A number beyond a double and NaN are not JSON here,
    so they are strings, as in Illume; half a character becomes U+FFFD
    (``jsonsafe``).
    """
    if not text:
        return DELETE
    try:
        return jsonsafe.loads(text)
    except jsonsafe.JSONError as err:
        if err.syntax:
            return text
        raise DirectiveError(f"the value cannot be sent: {err.reason}", hint='quote it to send it as a string, e.g. !:KEY "text"') from None


def _on_off(word, args):
    value = args.strip()
    if value not in ("on", "off"):
        shown = f"{word} {value}" if value else word
        raise DirectiveError(f"{shown}: expected on or off", hint=f"write `{word} off` or `{word} on`")
    return value == "on"


def _prepend_value(args):
    if len(args) > 1 and args.startswith('"'):
        try:
            value = jsonsafe.loads(args)
        except jsonsafe.JSONError as err:
            raise DirectiveError(f"!prepend: {args} is not a JSON string ({err.reason})", hint='write it as "text\\n" or without quotes') from None
        if not isinstance(value, str):
            raise DirectiveError("!prepend: the quoted value is not a single JSON string")
        return value
    return args


def _as_lines(text):
    """Text pulled in by a directive, as buffer lines (the last newline ends a line)."""
    if text.endswith("\n"):
        text = text[:-1]
    return text.split("\n")
