"""Stop heuristics for fill-in-the-middle: decide, as the text streams in, where the insertion ends.

A FIM model asked for one line of a function writes the line, then repeats
the code after the cursor, then invents the next function. ``StopFilter``
watches the completion line by line, in the context of the file around the
cursor (``Context``), and cuts it where a programmer would stop: at the
template's stop strings, where the text starts repeating what follows the
cursor, at a line indented less than the cursor's block, at a new definition
after a finished body, at a bracket that closes a scope the code after the
cursor already closes, or at a line or time budget. When it says stop, the
caller closes the connection, which is what stops the server generating.

The time budget is checked as each piece of text arrives, not only at line
ends, so one endless line cannot outlast it. When it runs out inside a line,
the lines already complete are kept and the unfinished one is dropped; when
the completion has no complete line yet, its first line is kept up to its
last word boundary (a name or number still being written goes), so a slow
one-line suggestion still gives what it has.

A line is written only once it is complete and has passed every check, so
nothing written ever has to be taken back; blank lines wait for the next
kept line (trailing ones are dropped). Each heuristic has a name
(``NAMES``) and can be turned off in a FIM template's ``heuristics`` field or
with ``bufbridge --no-stop NAME``.
"""

import functools
import re
import time
from dataclasses import dataclass, field, replace

from .errors import BridgeError
from .fimopts import DEFAULT_MAX_LINES, DEFAULT_MAX_MS

NAMES = (
    "stop-strings",  # the template's (and profile's) stop strings, matched across chunks
    "suffix-repeat",  # the completion repeats the text after the cursor
    "dedent",  # a line indented less than the cursor's block
    "new-definition",  # def/func/function/class at the enclosing level after a finished body
    "brackets",  # a closing bracket for a scope the text after the cursor closes
    "max-lines",  # a line budget
    "max-time",  # a time budget, checked as each piece of text arrives
    "trim",  # trailing whitespace and trailing blank lines removed
    "drop-empty",  # a whitespace-only suggestion becomes nothing
)

OPENERS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = {")": "(", "]": "[", "}": "{"}

# Line comment markers by file extension; unknown files get both common ones.
_HASH = ("#",)
_SLASH = ("//",)
_DASH = ("--",)
COMMENTS = {
    **dict.fromkeys(("py", "pyi", "sh", "bash", "zsh", "rb", "pl", "r", "yaml", "yml", "toml", "cfg", "conf", "mk", "cmake", "nim", "jl", "ex", "exs", "tf"), _HASH),
    **dict.fromkeys(("c", "h", "cc", "cpp", "cxx", "hpp", "hh", "m", "mm", "js", "mjs", "cjs", "jsx", "ts", "tsx", "go", "rs", "java", "kt", "kts", "scala", "swift", "cs", "dart", "zig", "php", "v", "glsl", "proto"), _SLASH),
    **dict.fromkeys(("lua", "sql", "hs", "elm", "ada", "adb", "ads"), _DASH),
    **dict.fromkeys(("lisp", "el", "clj", "scm", "rkt", "asm", "s"), (";",)),
}
BLOCK_COMMENT_LANGS = frozenset(_ext for _ext, _marks in COMMENTS.items() if _marks == _SLASH)

# The start of a definition, in the languages people run FIM on. Every
# pattern here runs in time linear in the line: the heuristics see lines a
# model or a file makes up, and a pattern with nested or adjacent overlapping
# repeats (``[\w*\s]*[\s*]+\**``) takes tens of seconds on a line of 3,000 ``*``.
# So the C-like function header, the one shape that needs a search, is
# recognised by a function (``_c_function``) instead of a pattern.
_CONTROL = re.compile(r"(?:if|for|while|switch|return|else|do|case|sizeof|new|delete|throw|catch|await|yield|elif|with|assert|print)\b")
_KEYWORD_DEFINITION = re.compile(
    r"""\s*(?:
        (?:async\s+)?def\s+\w                                   # Python
      | class\s+\w                                              # Python, JS, Java, C++
      | @\w                                                     # decorator, annotation
      | func\s                                                  # Go
      | (?:export\s+)?(?:default\s+)?(?:async\s+)?function\b    # JavaScript
      | (?:export\s+)?(?:const|let|var)\s+\w+\s*=\s*(?:async\s*)?(?:\([^)]*\)|\w+)\s*=>  # arrow function
      | (?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?(?:unsafe\s+)?fn\s+\w   # Rust
      | (?:pub\s+)?(?:impl|trait|struct|enum|interface|type)\b[^=;]*$  # type definitions: no "=" or ";" follows
    )""",
    re.VERBOSE,
)
_HEADER_CHARS = re.compile(r"[\w:<>,*&\s]*")  # what may stand before a C-like function's "("
_NAME_CHARS = re.compile(r"[\w:]")
_BARE_OPENER = re.compile(r"^\s*[{(\[]\s*$")
_PY_DEF = re.compile(r"\s*(?:async\s+)?def\b")
_ARROW = re.compile(r"\)\s*->")
_SPACES = re.compile(r"\s*")


@dataclass(frozen=True)
class Context:
    """The file around the insertion point: whole lines above and below, and the cursor line split at the cursor."""

    before: tuple = ()  # lines above the cursor line
    line_prefix: str = ""  # the cursor line, left of the cursor
    line_suffix: str = ""  # the cursor line, right of the cursor
    after: tuple = ()  # lines below the cursor line
    comments: tuple = ("#", "//")  # line comment markers of the file's language
    block_comments: bool = False  # /* ... */ comments


@dataclass(frozen=True)
class Rules:
    """Which heuristics are on, and their parameters."""

    enabled: frozenset = frozenset(NAMES)
    stop: tuple = ()
    max_lines: int = DEFAULT_MAX_LINES
    max_ms: int = DEFAULT_MAX_MS

    def on(self, name):
        return name in self.enabled


def language(filename):
    """(line comment markers, has block comments) for a file name; both common markers when unknown."""
    ext = (filename or "").rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    return COMMENTS.get(ext, ("#", "//")), ext in BLOCK_COMMENT_LANGS or ext == ""


def parse_names(values):
    """Heuristic names from ``--no-stop`` values (repeatable, comma-separated, ``all``)."""
    names = set()
    for value in values or ():
        for name in filter(None, (part.strip() for part in value.split(","))):
            if name == "all":
                names.update(NAMES)
            elif name in NAMES:
                names.add(name)
            else:
                raise BridgeError(f"--no-stop {name}: no such stop heuristic", hint="choose from all, " + ", ".join(NAMES))
    return frozenset(names)


def rules(template=None, *, disabled=(), max_lines=None, max_ms=None, stop=()):
    """Rules from defaults, then a template's ``heuristics`` field, then command-line options (which win)."""
    enabled = set(NAMES)
    params = {"max_lines": DEFAULT_MAX_LINES, "max_ms": DEFAULT_MAX_MS}
    for name, value in (template or {}).items():
        on = value.get("enabled", True) if isinstance(value, dict) else bool(value)
        (enabled.add if on else enabled.discard)(name)
        if isinstance(value, dict):
            params["max_lines"] = value.get("lines", params["max_lines"])
            params["max_ms"] = value.get("ms", params["max_ms"])
    for name, value, key in (("max-lines", max_lines, "max_lines"), ("max-time", max_ms, "max_ms")):
        if value is not None:
            params[key] = value
            enabled.add(name)
    enabled -= set(disabled)
    return Rules(frozenset(enabled), tuple(s for s in stop if s) if "stop-strings" in enabled else (), **params)


# --- small pure helpers ------------------------------------------------------


def indent_of(line):
    """Width of the leading whitespace (a tab counts 1, as llama.cpp's n_indent does)."""
    return len(line) - len(line.lstrip(" \t"))


def is_blank(line):
    return not line.strip()


def first_nonblank(lines):
    return next((line for line in lines if line.strip()), None)


def is_definition(line):
    """``line`` starts a definition: a keyword form, or a C-like function header."""
    return bool(_KEYWORD_DEFINITION.match(line)) or _c_function(line)


def _c_function(line):
    """A C-like function header: two words (or more) before the line's first ``(``, no ``;`` after it, no control keyword first.

    Spelled out, it is: after the indentation, a letter or ``_``; then only
    word characters, ``:<>,*&`` and spaces up to an identifier (``[A-Za-z_][\\w:]*``)
    that follows a space, ``*`` or ``&``; optional spaces; ``(``; no ``;``
    after it. Every step looks at each character once.
    """
    paren = line.find("(")
    if paren < 0 or ";" in line[paren:]:
        return False
    head = line[:paren]
    start = len(head) - len(head.lstrip())
    if start == len(head) or not (head[start] == "_" or head[start].isascii() and head[start].isalpha()):
        return False
    if _CONTROL.match(line, start) or _HEADER_CHARS.match(head, start).end() != len(head):
        return False
    end = len(head.rstrip())
    name = end
    while name > start and _NAME_CHARS.match(head, name - 1):
        name -= 1
    # the name: a letter or "_" first, at least one character before it, and that one a space, "*" or "&"
    return end > name > start and (head[name] == "_" or head[name].isascii() and head[name].isalpha()) and (head[name - 1].isspace() or head[name - 1] in "*&")


def has_body(line):
    """A definition that is complete on its line: ``f = (a) => a;``, ``int f() { return 1; }``, ``def f(): return 1``."""
    text = line.rstrip()
    return text.endswith((";", "}")) or _py_one_liner(text)


def _py_one_liner(text):
    """``def f(...) [-> T]: body`` on one line: a ``)``, optional spaces and ``-> T``, ``:``, then code (not a comment).

    Checked colon by colon, each part of the line once: a colon ends a one-line
    header when code follows it and the text since the previous colon ends in
    ``)`` (spaces aside) or holds ``)``, spaces, ``->``.
    """
    match = _PY_DEF.match(text)
    if not match:
        return False
    previous = match.end() - 1  # a ")" must come after "def"
    colon = text.find(":", previous + 1)
    while colon >= 0:
        segment = text[previous + 1: colon]
        code = _SPACES.match(text, colon + 1).end()  # the first character after the colon's spaces
        if code < len(text) and text[code] != "#" and (segment.rstrip().endswith(")") or _ARROW.search(segment)):
            return True
        previous, colon = colon, text.find(":", colon + 1)
    return False


def is_comment(line, markers):
    text = line.lstrip()
    return text.startswith(tuple(markers) + ("/*", "* ", "*/")) if text else False


def scan_brackets(line, markers, in_block=False):
    """Bracket positions in ``line`` outside strings and comments, and whether a ``/*`` block is still open at its end.

    Plain text between the characters that matter is skipped by a search
    (``_special``), so a long line costs one pass at C speed.
    """
    found, quote, i, special = [], None, 0, _special(tuple(markers))
    while i < len(line):
        if in_block:
            end = line.find("*/", i)
            if end < 0:
                break
            in_block, i = False, end + 2
            continue
        if quote:
            match = _QUOTE_END[quote].search(line, i)
            if match is None:
                break
            i = match.end() + (match.group() == "\\")  # a backslash hides the next character
            quote = None if match.group() == quote else quote
            continue
        match = special.search(line, i)
        if match is None:
            break
        i, ch = match.start(), match.group()
        if any(line.startswith(m, i) for m in markers):
            break
        if line.startswith("/*", i) and "//" in markers:
            in_block, i = True, i + 2
            continue
        if ch in "\"'`":
            quote = ch
        elif ch in OPENERS or ch in CLOSERS:
            found.append((i, ch))
        i += 1
    return found, in_block


_QUOTE_END = {q: re.compile(r"[\\%s]" % q) for q in "\"'`"}


@functools.lru_cache(maxsize=None)
def _special(markers):
    """The characters ``scan_brackets`` stops at: brackets, quotes, ``/`` and the first character of each comment marker."""
    return re.compile("[%s]" % re.escape("()[]{}\"'`/" + "".join(m[0] for m in markers if m)))


@dataclass
class Opener:
    """An open bracket: its character, the indentation of its line, and who opened it."""

    char: str
    indent: int
    own: bool = False  # opened by the completion
    closed_later: bool = False  # the text after the cursor closes it


def open_brackets(lines, markers, block_comments=False):
    """The brackets still open at the end of ``lines`` (the text before the cursor)."""
    stack, in_block = [], False
    for line in lines:
        found, in_block = scan_brackets(line, markers, in_block and block_comments)
        for _, ch in found:
            if ch in OPENERS:
                stack.append(Opener(ch, indent_of(line)))
            elif stack and stack[-1].char == CLOSERS[ch]:
                stack.pop()
    return stack


def mark_closed_later(stack, cursor_line, offset, rest, markers, block_comments=False):
    """Mark the openers in ``stack`` that the text after the cursor closes.

    The text after the cursor is ``cursor_line`` from ``offset`` (scanned whole,
    so a string open at the cursor stays a string), then the lines ``rest``.
    A closer that starts its line goes to the opener whose line has the same
    indentation when there is one (so ``}`` at the function's level closes the
    function, not an ``if`` left open inside it); others to the nearest match.
    """
    local, in_block, open_ = [], False, _OpenIndex(stack)
    for number, line in enumerate((cursor_line,) + tuple(rest)):
        found, in_block = scan_brackets(line, markers, in_block and block_comments)
        for pos, ch in found:
            if number == 0 and pos < offset:
                continue
            if ch in OPENERS:
                local.append(ch)
            elif local and local[-1] == CLOSERS[ch]:
                local.pop()
            else:
                starts_line = number > 0 and not line[:pos].strip()
                open_.close(CLOSERS[ch], indent_of(line) if starts_line else None)
    return stack


class _OpenIndex:
    """The openers of a stack not yet marked closed, nearest first, by bracket and by bracket and indentation.

    ``close`` marks the nearest one of a bracket kind (of the given
    indentation, when there is one) as closed later. Each list is read from
    its top down and an opener never reopens, so every opener is passed over
    at most once per list: a whole file of brackets costs its length.
    """

    def __init__(self, stack):
        self.lists = {}
        for opener in stack:
            self.lists.setdefault(opener.char, []).append(opener)
            self.lists.setdefault((opener.char, opener.indent), []).append(opener)

    def _nearest(self, key):
        openers = self.lists.get(key, [])
        while openers and openers[-1].closed_later:
            openers.pop()
        return openers[-1] if openers else None

    def close(self, char, indent):
        target = (self._nearest((char, indent)) if indent is not None else None) or self._nearest(char)
        if target is not None:
            target.closed_later = True


def enclosing_definitions(lines, level):
    """Indentations of the definitions above that enclose code at ``level``, innermost first.

    Walks up the ancestors (lines indented less than everything seen since);
    a line holding only an opening bracket is skipped (K&R-style ``{``).
    """
    for line in reversed(lines):
        if is_blank(line) or _BARE_OPENER.match(line):
            continue
        width = indent_of(line)
        if width < level:
            if is_definition(line):
                yield width
            if width == 0:
                return
            level = width


def enclosing_definition(lines, level):
    """Indentation of the nearest definition above that encloses code at ``level``, or None."""
    return next(enclosing_definitions(lines, level), None)


def home_definition(ctx, brackets):
    """Indentation of the definition whose body holds the cursor, as far as the file tells; None when it does not.

    With text left of the cursor (code, or only the indentation typed so
    far), that is the nearest definition indented less. On an empty line
    nothing is typed to tell, so it is the nearest definition whose body
    the file shows going on past the cursor: the next line with code is
    indented more than the definition, or the definition's bracket is still
    open at the cursor. An empty line after a finished body has none.
    """
    if ctx.line_prefix:
        return enclosing_definition(ctx.before, indent_of(ctx.line_prefix))
    below = first_nonblank((ctx.line_suffix,) + tuple(ctx.after))
    open_at = {opener.indent for opener in brackets}
    for width in enclosing_definitions(ctx.before, float("inf")):
        if width in open_at or (below is not None and indent_of(below) > width):
            return width
    return None


# --- streaming ---------------------------------------------------------------


class StopStrings:
    """Find stop strings in a stream of text, holding back a tail that may be the start of one."""

    def __init__(self, stops):
        self.stops = tuple(s for s in stops if s)
        self.held = ""

    def feed(self, text):
        """(text before any stop string, whether one was found)."""
        data = self.held + text
        hits = [i for i in (data.find(s) for s in self.stops) if i >= 0]
        if hits:
            self.held = ""
            return data[: min(hits)], True
        keep = max((n for s in self.stops for n in range(min(len(s) - 1, len(data)), 0, -1) if data.endswith(s[:n])), default=0)
        self.held = data[len(data) - keep:]
        return data[: len(data) - keep], False

    def flush(self):
        text, self.held = self.held, ""
        return text



@dataclass(frozen=True)
class Cut:
    """Cut a line at ``at``; ``drop_held`` also drops the lines held before it (they lead into what is cut)."""

    at: int
    drop_held: bool = False


@dataclass(frozen=True)
class Held:
    """An accepted line not yet written: its number in the completion, its text, and whether a cut right after it drops it."""

    number: int
    text: str
    tentative: bool = False

    def written(self):
        return ("\n" if self.number else "") + self.text


@dataclass
class Scope:
    """What the filter knows of the block structure, updated as lines are accepted."""

    floor: int | None = None  # a line indented less than this ends the block
    home: int | None = None  # indentation of the definition whose body holds the cursor: a line at it or less leaves the body
    definition: int | None = None  # indentation of the definition the completion is in
    body_seen: bool = False  # that definition has a body line already
    brackets: list = field(default_factory=list)  # open brackets, the cursor's first
    in_block: bool = False  # inside a /* comment */


def initial_scope(ctx):
    """The scope at the cursor: open brackets (marked when the text after the cursor closes them), and the block when the cursor line has code."""
    stack = open_brackets(ctx.before + (ctx.line_prefix,), ctx.comments, ctx.block_comments)
    line, offset = ctx.line_prefix + ctx.line_suffix, len(ctx.line_prefix)
    scope = Scope(brackets=mark_closed_later(stack, line, offset, ctx.after, ctx.comments, ctx.block_comments))
    scope.home = home_definition(ctx, scope.brackets)
    if ctx.line_prefix.strip():
        enter_block(scope, ctx.before, ctx.line_prefix)
    return scope


def enter_block(scope, before, line):
    """Fix the block from its first line with code (the cursor line, or the completion's first): indentation floor and definition."""
    scope.floor = indent_of(line)
    if is_definition(line):
        scope.definition, scope.body_seen = indent_of(line), has_body(line)
    else:
        scope.definition = enclosing_definition(before, indent_of(line))
        scope.body_seen = scope.definition is not None


class StopFilter:
    """Feed completion text as it streams; get back the text to write and whether the completion is done.

    ``feed(text) -> (text, done)``: when ``done`` is True the caller stops
    reading and closes the connection. ``finish()`` returns what is still
    held when the stream ends by itself. ``empty_note()`` then says why
    nothing was written, if nothing was; ``off`` is how the user turns a
    heuristic off there (``{name}`` is replaced by its name).
    """

    def __init__(self, context, rules=Rules(), *, clock=time.monotonic, off="--no-stop {name}"):
        self.ctx = context
        self.off = off
        self.received = 0  # characters of completion text that came
        self.emitted = False  # some text was returned to be written
        self.rules = rules
        self.clock = clock
        self.strings = StopStrings(rules.stop)
        self.pending = []  # the line being received, in pieces
        self.index = 0  # number of that line in the completion (0 continues the cursor line)
        self.held = []  # Held lines
        self.written = False  # a line with code was written
        self.started = None
        self.done = False
        self.reason = None  # the heuristic that ended the completion
        self.next_line = first_nonblank(context.after)
        self.scope = initial_scope(context)

    def feed(self, text):
        if self.done:
            return "", True
        if self.started is None:
            self.started = self.clock()
        self.received += len(text)
        text, hit = self.strings.feed(text)
        out = []
        if "\n" in text:  # only new text is searched, and a line is joined once: a long line costs its length
            *lines, rest = ("".join(self.pending) + text).split("\n")
            self.pending = [rest]
            for line in lines:
                out.append(self._line(line, last=False))
                if self.done:
                    break
        else:
            self.pending.append(text)
        if hit and not self.done:
            self.reason = "stop-strings"
            out.append(self._end())
        if not self.done and self._time_up():
            out.append(self._expire())
        return self._emit("".join(out)), self.done

    def finish(self):
        """What is still held when the stream ends by itself."""
        if self.done:
            return ""
        self.pending.append(self.strings.flush())
        return self._emit(self._end())

    def empty_note(self):
        """One line saying why nothing is inserted (which heuristic, or the server sent nothing); None when text was written."""
        if self.emitted:
            return None
        if not self.received:
            return "nothing to insert: the server sent no text"
        size = f"{self.received} character{'s' if self.received != 1 else ''}"
        if self.reason is None:
            return f"nothing to insert: the model wrote only whitespace ({size})"
        off = self.off.format(name=self.reason)
        return f"nothing to insert: the {self.reason} heuristic cut the model's {size} to nothing ({_WHY[self.reason]}); {off} keeps them"

    def _emit(self, text):
        self.emitted = self.emitted or bool(text)
        return text

    # lines

    def _end(self):
        line, self.pending = "".join(self.pending), []
        out = self._line(line, last=True)
        if not self.done:
            self.done = True
            out += self._close()
        return out

    def _line(self, line, last):
        number, self.index = self.index, self.index + 1
        cut = self._cut(line, number)
        if cut is not None:
            self.done = True
            if cut.drop_held:
                self.held = [replace(h, tentative=True) for h in self.held]
            line = line[: cut.at]
        out = self._accept(line, number, last or self.done)
        if not self.done and self._over_budget():
            self.done = True
        return out + (self._close() if self.done else "")

    def _expire(self):
        """The time budget ran out inside a line: end with the complete lines, or with the first line up to its last word boundary."""
        line, self.pending = "".join(self.pending), []
        self.strings.held = ""  # it may be the start of a stop string
        if self.written:
            self.done, self.reason = True, "max-time"
            return self._close()
        return self._line(_without_last_word(line), last=True)  # checked like any line; the budget then ends it

    def _over_budget(self):
        if self.rules.on("max-lines") and self.index >= self.rules.max_lines:
            self.reason = "max-lines"
            return True
        if self._time_up():
            self.reason = "max-time"
            return True
        return False

    def _time_up(self):
        return self.rules.on("max-time") and self._elapsed_ms() >= self.rules.max_ms

    def _elapsed_ms(self):
        """Time since the first text; none has passed when the completion is empty (no text ever came)."""
        return 0 if self.started is None else (self.clock() - self.started) * 1000

    def _accept(self, line, number, last):
        if self.rules.on("trim") and (not last or trims_end(self.ctx)):
            line = line.rstrip()
        full = self._full(line, number)
        tentative = self._tentative(full)
        self._track(full, number)
        if is_blank(line) or (tentative and not last):
            self.held.append(Held(number, line, tentative))
            return ""
        out = "".join(h.written() for h in self.held) + Held(number, line).written()
        self.held = []
        self.written = True
        return out

    def _close(self):
        """The held lines at the end: tentative ones dropped, blank ones too when trimming or when nothing else was written."""
        held, self.held = self.held, []
        keep = [h for h in held if not h.tentative]
        if self.rules.on("trim"):
            keep = []  # only blank lines can be left: they trail
        if not self.written and self.rules.on("drop-empty"):
            keep = []
        return "".join(h.written() for h in keep)

    def _full(self, line, number):
        """The line as it stands in the file: the first one continues the cursor line."""
        return self.ctx.line_prefix + line if number == 0 else line

    # the checks, in order; the first that cuts wins

    def _cut(self, line, number):
        for name, check in (
            ("suffix-repeat", self._repeats),
            ("dedent", self._dedents),
            ("new-definition", self._defines),
            ("brackets", self._closes),
        ):
            if self.rules.on(name):
                cut = check(line, number)
                if cut is not None:
                    self.reason = name
                    return cut
        return None

    def _repeats(self, line, number):
        """The completion writes what already follows the cursor."""
        rest = self.ctx.line_suffix.strip()
        if number == 0 and rest:
            body = line.rstrip()
            return Cut(len(body) - len(rest)) if body.endswith(rest) else None
        full = self._full(line, number)
        if self.next_line is None or is_blank(line) or full.rstrip() != self.next_line.rstrip():
            return None
        return Cut(0, drop_held=True)

    def _dedents(self, line, number):
        """A line indented less than the cursor's block, or out of the body the cursor is in (a closing bracket for an open scope excepted).

        The body's own indentation stays the limit after a ``}`` that closes
        it: what follows at the definition's level is no longer the body.
        """
        full = self._full(line, number)
        if is_blank(full):
            return None
        floor, home, width = self.scope.floor, self.scope.home, indent_of(full)
        below_floor = number > 0 and floor is not None and width < floor
        if not below_floor and (home is None or width > home):
            return None
        return None if self._closes_open_scope(full) else Cut(0)

    def _closes_open_scope(self, line):
        """``line`` starts with a bracket for a scope opened before the cursor that nothing after the cursor closes."""
        text = line.lstrip()
        top = self.scope.brackets[-1] if self.scope.brackets else None
        return bool(text) and text[0] in CLOSERS and top is not None and not top.own and not top.closed_later and top.char == CLOSERS[text[0]]

    def _defines(self, line, number):
        """A new definition at the level of the one the completion is in, after its body."""
        scope = self.scope
        full = self._full(line, number)
        if scope.definition is None or not scope.body_seen or is_blank(full):
            return None
        if indent_of(full) <= scope.definition and is_definition(full):
            return Cut(0, drop_held=True)
        return None

    def _closes(self, line, number):
        """A closing bracket for a scope that the text after the cursor closes already.

        The line's own openers are kept apart; the scope's stack is only read
        (``depth`` walks down it), so a line costs its own length, not the stack's.
        """
        own, depth, brackets = [], len(self.scope.brackets), self.scope.brackets
        for pos, ch in self._brackets(self._full(line, number), number):
            if ch in OPENERS:
                own.append(ch)
            elif own:
                if own[-1] == CLOSERS[ch]:
                    own.pop()
            elif depth and brackets[depth - 1].char == CLOSERS[ch]:
                top = brackets[depth - 1]
                if top.closed_later and not top.own:
                    return Cut(pos - (len(self.ctx.line_prefix) if number == 0 else 0))
                depth -= 1
        return None

    def _tentative(self, full):
        """A comment at the definition's level after its body: it may introduce the next definition."""
        scope = self.scope
        return (
            self.rules.on("new-definition") and scope.definition is not None and scope.body_seen
            and not is_blank(full) and indent_of(full) <= scope.definition and is_comment(full, self.ctx.comments)
        )

    # state, updated for every accepted line

    def _brackets(self, full, number):
        """Brackets the completion wrote on this line (the cursor line's own are already counted)."""
        found, _ = scan_brackets(full, self.ctx.comments, self.scope.in_block)
        offset = len(self.ctx.line_prefix) if number == 0 else 0
        return [(pos, ch) for pos, ch in found if pos >= offset]

    def _track(self, full, number):
        scope = self.scope
        events = self._brackets(full, number)
        scope.in_block = scan_brackets(full, self.ctx.comments, scope.in_block)[1] and self.ctx.block_comments
        for _, ch in events:
            if ch in OPENERS:
                scope.brackets.append(Opener(ch, indent_of(full), own=True))
            elif scope.brackets and scope.brackets[-1].char == CLOSERS[ch]:
                closed = scope.brackets.pop()
                if not closed.own and scope.floor is not None and full.lstrip()[:1] in CLOSERS:
                    scope.floor = min(scope.floor, indent_of(full))  # the block is closed: code may continue outside it
        if is_blank(full):
            return
        if scope.floor is None:
            enter_block(scope, self.ctx.before, full)
        elif is_definition(full) and (scope.definition is None or indent_of(full) > scope.definition or not scope.body_seen):
            scope.definition, scope.body_seen = indent_of(full), has_body(full)
        elif scope.definition is not None and indent_of(full) > scope.definition:
            scope.body_seen = True


_WHY = {
    "stop-strings": "a stop string came before any code",
    "suffix-repeat": "they only repeated the text after the cursor",
    "dedent": "the first line was indented less than the cursor's block",
    "new-definition": "they started a new definition",
    "brackets": "the first line closed a bracket that the text after the cursor closes",
    "max-lines": "the line budget held only blank lines",
    "max-time": "the time budget ran out before a whole word came",
}


def _without_last_word(line):
    """``line`` without the word characters at its end (a name or number that may be unfinished)."""
    return line[: len(line) - len(_WORD_START.match(line[::-1]).group())]


_WORD_START = re.compile(r"\w*")


def trims_end(ctx):
    """Trailing spaces of the last line go, unless the cursor line's text follows right after them."""
    return not ctx.line_suffix or ctx.line_suffix[0].isspace()
