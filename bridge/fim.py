"""Fill in the middle at a cursor position in a plain source file (``bufbridge --infill-at LINE:COL``).

The input is the file's text and nothing else: no line of it is read as a
directive (security rule 4), so a line ``!api http://evil`` in the source is
just code. The profile and the FIM template come from options or the
environment. The pipeline is the buffer's: load (the profile only), build,
send, stream; this module adds the pieces around the cursor:

* ``split``: the file at the cursor, also in the middle of a line;
* ``window``: prefix and suffix trimmed to line and token budgets, at line
  boundaries, the suffix getting at most a quarter of the tokens;
* ``read_extras``/``fit_extras``: other files as context, in a stable order
  (sorted by name) so that the server's prompt cache is reused across calls;
* ``infill_fields``/``template_fields``: the body for llama.cpp ``/infill``
  (``input_extra``, ``n_indent``) or for a template over ``completions``
  (repository-level form when the template has one);
* ``predict_limit``: the server's token limit, sized to the line budget;
* ``plan``: the Request and the ``stops.StopFilter`` that ends the completion;
* ``marker_stops``: the same heuristics for the reply to a buffer with
  Illume's ``!infill`` marker, applied only to what is written: the request
  stays Illume's, byte for byte.
"""

import os
from dataclasses import dataclass, replace
from pathlib import Path

from . import files, jsonsafe, stops
from .errors import BridgeError

from .fimopts import (  # noqa: F401  (re-exported: the defaults live with the options)
    CHARS_PER_TOKEN,
    DEFAULT_CTX_TOKENS,
    DEFAULT_EXTRA_TOKENS,
    DEFAULT_PREFIX_LINES,
    DEFAULT_SUFFIX_LINES,
    MAX_PREDICT_TOKENS,
    SUFFIX_SHARE,
    TOKENS_PER_LINE,
    add_arguments,
)


@dataclass(frozen=True)
class Limits:
    """How much of the file around the cursor, and of the extra files, goes into the prompt."""

    prefix_lines: int = DEFAULT_PREFIX_LINES
    suffix_lines: int = DEFAULT_SUFFIX_LINES
    tokens: int = DEFAULT_CTX_TOKENS
    extra_tokens: int = DEFAULT_EXTRA_TOKENS


@dataclass(frozen=True)
class Extra:
    """Another file given as context."""

    filename: str
    text: str


# --- the cursor --------------------------------------------------------------


def parse_position(spec):
    """``LINE:COL`` as two 1-based integers."""
    line, colon, col = (spec or "").partition(":")
    try:
        position = int(line), int(col)
    except ValueError:
        position = (0, 0)
    if not colon or min(position) < 1:
        raise BridgeError(f"--infill-at {spec}: expected LINE:COL, two numbers from 1 (e.g. 12:5)")
    return position


def split(text, line, col, filename=None):
    """The file split at the cursor: a ``stops.Context``. ``col`` counts UTF-8 bytes from 1."""
    lines = text.split("\n")
    if line > len(lines):
        raise BridgeError(f"--infill-at {line}:{col}: the input has only {len(lines)} lines")
    current = lines[line - 1]
    body = current[:-1] if current.endswith("\r") else current  # a CRLF file: the \r stays in the suffix
    raw = body.encode("utf-8")
    if col > len(raw) + 1:
        raise BridgeError(f"--infill-at {line}:{col}: line {line} has only {len(raw)} bytes (the last column is {len(raw) + 1})")
    try:
        left = raw[: col - 1].decode("utf-8")
    except UnicodeDecodeError:
        raise BridgeError(f"--infill-at {line}:{col}: the column falls inside a multi-byte character") from None
    comments, block = stops.language(filename)
    return stops.Context(tuple(lines[: line - 1]), left, current[len(left):], tuple(lines[line:]), comments, block)


def before_text(ctx):
    """The whole lines above the cursor line, each with its newline."""
    return "".join(line + "\n" for line in ctx.before)


def prefix_text(ctx):
    return before_text(ctx) + ctx.line_prefix


def suffix_text(ctx):
    return ctx.line_suffix + "".join("\n" + line for line in ctx.after)


def estimate_tokens(text):
    """A cheap token estimate: characters / CHARS_PER_TOKEN, rounded up."""
    return -(-len(text) // CHARS_PER_TOKEN)


def _head(lines, tokens):
    """The first lines that fit ``tokens`` (each line counted with its newline)."""
    kept, used = [], 0
    for line in lines:
        used += estimate_tokens(line + "\n")
        if used > tokens:
            break
        kept.append(line)
    return tuple(kept)


def _tail(lines, tokens):
    return tuple(reversed(_head(tuple(reversed(lines)), tokens)))


def window(ctx, limits=Limits()):
    """``ctx`` with the lines above and below cut to the line budgets, then to the token budget.

    The cursor line is always kept. The suffix may use at most a quarter of
    what is left, the prefix the rest; cuts fall on line boundaries, the
    prefix losing its first lines, the suffix its last.
    """
    before = ctx.before[max(0, len(ctx.before) - limits.prefix_lines):] if limits.prefix_lines else ()
    after = ctx.after[: limits.suffix_lines]
    budget = max(0, limits.tokens - estimate_tokens(ctx.line_prefix + ctx.line_suffix))
    after = _head(after, budget // SUFFIX_SHARE)
    before = _tail(before, budget - estimate_tokens("".join(line + "\n" for line in after)))
    return replace(ctx, before=before, after=after)


# --- extra context ------------------------------------------------------------


def read_extras(paths=(), json_paths=(), current=None, left_out=None, cwd=None):
    """Extra files from ``--extra`` paths and ``--extra-json`` arrays: sorted by name, one per name, the current file left out.

    A file whose name looks like it holds secrets (``files.looks_secret``) is
    never read nor sent (security rule 6); its name is added to ``left_out``.
    """
    found, secret = {}, set()
    for path in paths:
        if files.looks_secret(path):
            secret.add(path)
            continue
        found.setdefault(os.path.normpath(path), _read(path, "--extra", cwd=cwd))
    for path in json_paths:
        for item in _json_items(path, cwd):
            if files.looks_secret(item.filename):
                secret.add(item.filename)
                continue
            found.setdefault(item.filename, item.text)
    if current:
        found.pop(os.path.normpath(current), None)
        found.pop(current, None)
    if left_out is not None:
        left_out.extend(sorted(secret))
    return tuple(Extra(name, found[name]) for name in sorted(found))


def inline_extras(items, withheld):
    """Context given inline (the editor host's ``extra``), in its order, several chunks of a file allowed.

    An item whose name looks like it holds secrets is never sent (security
    rule 6, as for ``read_extras``); its name goes into ``withheld`` (sorted, once).
    """
    withheld.extend(sorted({item.filename for item in items if files.looks_secret(item.filename)}))
    return tuple(item for item in items if not files.looks_secret(item.filename))


def _read(path, option, limit=files.MAX_FILE_BYTES, cwd=None):
    """A file named on the command line (relative to ``cwd``): anywhere, but only a regular file and at most ``limit`` bytes."""
    try:
        return files.Reader(base=cwd).read(path, option, limit=limit)
    except files.FileError as err:
        raise BridgeError(f"{option} {path}: cannot read it: {err.reason}", hint=err.hint) from None


def _json_items(path, cwd=None):
    try:
        data = jsonsafe.loads(_read(path, "--extra-json", files.MAX_TOTAL_BYTES, cwd))
    except jsonsafe.JSONError as err:
        what = "not JSON" if err.syntax else "cannot use it"
        raise BridgeError(f"--extra-json {path}: {what} ({err.reason})") from None
    ok = isinstance(data, list) and all(isinstance(d, dict) and isinstance(d.get("filename"), str) and isinstance(d.get("text"), str) for d in data)
    if not ok:
        raise BridgeError(f"--extra-json {path}: expected an array of {{\"filename\": ..., \"text\": ...}} objects")
    return [Extra(d["filename"], d["text"]) for d in data]


def fit_extras(extras, tokens):
    """The extra files that fit ``tokens``, in order; the first that does not fit is cut to its first lines, and the rest dropped."""
    kept = []
    for extra in extras:
        cost = estimate_tokens(extra.text)
        if cost <= tokens:
            kept.append(extra)
            tokens -= cost
            continue
        head = _head(tuple(extra.text.split("\n")), tokens)
        if head:
            kept.append(Extra(extra.filename, "\n".join(head) + "\n"))
        break
    return tuple(kept)


def comment_blocks(extras, ctx):
    """Extra files as comment-headed blocks, for templates without a repository-level form."""
    marker = ctx.comments[0]
    return "".join(f"{marker} {e.filename}\n{e.text}{'' if e.text.endswith(chr(10)) else chr(10)}\n" for e in extras)


# --- request bodies -------------------------------------------------------------


def infill_fields(ctx, extras, rules):
    """The llama.cpp ``/infill`` body: the cursor line's left part is ``prompt`` (it goes after FIM_MID)."""
    fields = {"input_prefix": before_text(ctx), "input_suffix": suffix_text(ctx), "prompt": ctx.line_prefix}
    if extras:
        fields["input_extra"] = [{"filename": e.filename, "text": e.text} for e in extras]
    indent = stops.indent_of(ctx.line_prefix)
    if rules.on("dedent") and indent:
        fields["n_indent"] = indent  # the server stops at a line indented less (its own cut; we trim what it leaves)
    if rules.on("max-time"):
        fields["t_max_predict_ms"] = rules.max_ms
    return fields


def template_fields(template, ctx, extras, filename=None, repo="project"):
    """The ``completions`` body for a FIM template, extra files in its repository-level form when it has one."""
    from .fimtemplate import render, render_repo

    prefix, suffix = prefix_text(ctx), suffix_text(ctx)
    head = ""
    try:
        if extras and template.repo:
            head = render_repo(template.repo, repo, [(e.filename, e.text) for e in extras], filename or "untitled")
        elif extras:
            prefix = comment_blocks(extras, ctx) + prefix
        return {"prompt": head + render(template.template, prefix, suffix)}
    except BridgeError as err:
        err.where = err.where or f"FIM template {template.name}"
        raise


def predict_limit(settings, rules):
    """``{"max_tokens": N}`` for the line budget (lines × TOKENS_PER_LINE, at most MAX_PREDICT_TOKENS).

    Empty when a profile set ``max_tokens`` or ``n_predict`` (or deleted one):
    the user's value wins. Empty too without a line budget (``--no-stop
    max-lines``): the body keeps the buffer language's default.
    """
    if not rules.on("max-lines") or any(s.key in ("max_tokens", "n_predict") for s in settings):
        return {}
    return {"max_tokens": min(MAX_PREDICT_TOKENS, rules.max_lines * TOKENS_PER_LINE)}


# --- the whole plan ---------------------------------------------------------------


def plan(text, env, args, cwd=None):
    """Load the profile and template, build the Request, and make its StopFilter. ``cwd``: as for ``cli.main``."""
    from .build import build
    from .load import Loader, Source

    filename = args.filename or args.file
    ctx = window(split(text, *parse_position(args.infill_at), filename), _limits(args))
    loader = Loader(env, cwd=cwd)
    doc = loader.load_buffer("", default_profile=args.profile)  # the file is never read as directives
    name = args.fim or env.get("BUFBRIDGE_FIM")
    if name:
        name = name if name.startswith("fim:") else "fim:" + name
        loader.load_profile(doc, name, Source("--fim", 0, expand_env=True, trusted=True), path_trusted=True)
    template = doc.fim  # loaded and validated once, by the profile or --fim
    heuristics = stops.rules(
        template.heuristics if template else None,
        disabled=stops.parse_names(args.no_stop) | (frozenset() if heuristics_on(doc) else frozenset(stops.NAMES)),
        max_lines=args.max_lines,
        max_ms=args.max_ms,
    )
    left_out, withheld = [], []
    extras = read_extras(args.extra, args.extra_json, filename, left_out, cwd) + inline_extras(getattr(args, "extra_items", ()), withheld)
    extras = fit_extras(extras, args.extra_tokens)
    for what, names in (("file", left_out), ("item", withheld)):
        if names:
            doc.notes.append(f"left out {len(names)} context {what}{'s' if len(names) != 1 else ''} that look like secrets: {', '.join(names)}")
    doc.mode, doc.prepend, doc.debug = "infill", "", doc.debug or args.debug
    if template is None:
        fields = infill_fields(ctx, extras, heuristics)
    else:
        fields = template_fields(template, ctx, extras, filename, args.repo or _folder_name(cwd))
    request = build(doc, fields={**predict_limit(doc.settings, heuristics), **fields})
    heuristics = replace(heuristics, stop=_stop_strings(request) if heuristics.on("stop-strings") else ())
    return request, stops.StopFilter(ctx, heuristics)


def heuristics_on(doc):
    """Whether the stop heuristics are on: the buffer's last ``!heuristics`` line, else a profile's last, else on."""
    said = [on for on, from_buffer in doc.heuristics if from_buffer] or [on for on, _ in doc.heuristics]
    return said[-1] if said else True


MARKER_OFF = frozenset({"max-lines", "max-time"})  # the budgets are cursor infill's; a marker buffer sets max_tokens itself


def marker_stops(doc, request):
    """The StopFilter for the reply to an ``!infill`` marker buffer, or None with ``!heuristics off``.

    The hole is a whole line: the text before the marker is the lines above
    it, the text after it the lines below. The filename is unknown, so both
    common comment markers count. The request is not touched.
    """
    if not heuristics_on(doc):
        return None
    texts = {m.role: m.content for m in doc.messages}  # as build() sent them
    before = tuple(texts["system"].split("\n")) if "system" in texts else ()
    after = tuple(texts["infill"].split("\n")) if "infill" in texts else ()
    rules = stops.rules(doc.fim.heuristics if doc.fim else None, disabled=MARKER_OFF)
    rules = replace(rules, stop=_stop_strings(request) if rules.on("stop-strings") else ())
    return stops.StopFilter(stops.Context(before, "", "", after, *stops.language(None)), rules, off="`!heuristics off`")


def _folder_name(cwd=None):
    """The current folder's name (or ``cwd``'s), the default repository name; "project" when it has none or is gone (deleted under the editor)."""
    try:
        return Path(cwd or os.getcwd()).name or "project"
    except OSError:
        return "project"


def _limits(args):
    return Limits(args.prefix_lines, args.suffix_lines, args.ctx_tokens, args.extra_tokens)


def _stop_strings(request):
    """The stop strings the request sends: the client enforces the same ones, across chunk boundaries."""
    stop = request.json.get("stop")
    if isinstance(stop, str):
        return (stop,)
    return tuple(s for s in stop if isinstance(s, str) and s) if isinstance(stop, list) else ()
