"""Bench tasks: holes cut out of the user's own files, and chat buffers with checks.

A FIM task is a file with one hole in it and the cursor where the hole was.
``prefix + expected + suffix`` is always the original file, so asking a model
to fill the hole through ``--infill-at`` is asking it to write back what the
author wrote. Holes are of four kinds (``KINDS``), sampled with a seed: the
same files and seed give the same tasks, on every machine.

Files come from the paths the user names: a git work tree lists its files
with ``git ls-files`` (so ``.gitignore`` is respected), any other folder is
walked (hidden folders skipped). Only files in a language the stop heuristics
know are used, a file whose name looks like it holds secrets is never read
(security rule 6), and every file is read through the confined reader of
``files.py``: inside the folder named, never through a link leading out.
"""

import os
import random
import re
import subprocess
from dataclasses import dataclass

from .. import files, stops
from ..errors import BridgeError

KINDS = ("line-end", "line", "block", "span")
MAX_BLOCK_LINES = 12
MAX_BLOCK_CHARS = 800
MAX_LINE_CHARS = 160  # longer lines are data or minified code: not what people type
SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__", "venv", "target", "build", "dist"})
CODE_SUFFIXES = tuple("." + ext for ext in stops.COMMENTS)
CHAT_SUFFIXES = (".chat", ".bufbridge")
CHECK_SUFFIXES = (".expect", ".regex", ".check")


@dataclass(frozen=True)
class Hole:
    """One FIM task: ``text`` is the file with the hole cut out, the cursor at ``line``:``col`` (1-based, col in bytes)."""

    id: str
    kind: str
    path: str  # relative to ``root``
    root: str
    line: int
    col: int
    text: str
    expected: str

    def describe(self):
        """What the result file keeps of the task (not the file's text)."""
        return {"id": self.id, "kind": self.kind, "path": self.path, "line": self.line, "col": self.col, "expected": self.expected}


@dataclass(frozen=True)
class ChatTask:
    """A buffer in the buffer language and the check its reply must pass."""

    id: str
    path: str
    folder: str
    text: str
    check: str  # "expect", "regex" or "check"
    spec: str  # the expected text, the pattern, or the check script's path

    def describe(self):
        return {"id": self.id, "kind": "chat", "path": self.path, "check": self.check}


# --- which files -------------------------------------------------------------


def source_names(root):
    """The code files under ``root`` (relative names, sorted): ``git ls-files`` in a work tree, else a walk."""
    names = _git_files(root)
    if names is None:
        names = _walk(root)
    return sorted(n for n in names if n.endswith(CODE_SUFFIXES) and not files.looks_secret(n))


def _git_files(root):
    """Tracked and untracked-but-not-ignored files, or None when ``root`` is not in a git work tree (or git is missing)."""
    try:
        done = subprocess.run(["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                              capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return [os.fsdecode(name) for name in done.stdout.split(b"\0") if name]


def _walk(root):
    found = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d not in SKIPPED_FOLDERS)
        rel = os.path.relpath(folder, root)
        found += [os.path.normpath(os.path.join(rel, n)) for n in names]
        if len(found) > files.MAX_ENTRIES:
            raise BridgeError(f"bench: {root} holds more than {files.MAX_ENTRIES} files", hint="name a smaller folder or a git work tree")
    return found


class Source:
    """The files of one folder (or one file), read on demand through the confined reader (CRLF read as LF, as an editor shows it)."""

    def __init__(self, path, env):
        if os.path.isdir(path):
            self.root, self.names = path, source_names(path)
        elif os.path.isfile(path):
            self.root, name = os.path.split(path)
            self.root = self.root or "."
            self.names = [name] if name.endswith(CODE_SUFFIXES) and not files.looks_secret(name) else []
        else:
            raise BridgeError(f"bench: {path}: not a folder or a file", hint="name folders, git work trees or source files")
        self.prefix = ""  # what task ids put before the file's name: the path named, when there are several
        self.reader = files.Policy.here(env, cwd=self.root).reader()
        self.skipped = []
        self._texts = {}

    def text(self, name):
        """The file's text, or None when it cannot be read (noted in ``skipped``)."""
        if name not in self._texts:
            try:
                text = self.reader.read(name, "bench").replace("\r\n", "\n")
            except files.FileError as err:
                self.skipped.append((name, err.reason))
                text = None
            self._texts[name] = None if text is None or "\0" in text else text
        return self._texts[name]


# --- holes ---------------------------------------------------------------------

_BOUNDARY = re.compile(r"(?<=\w)(?=\W)|(?<=\W)(?=\w)|(?<=[ (\[{,.=:])")


def _indent(body):
    return len(body) - len(body.lstrip(" \t"))


def _usable(body, comments):
    content = body.strip()
    return 3 <= len(content) and len(body) <= MAX_LINE_CHARS and not content.startswith(comments)


def _boundaries(body, low, high):
    """Token boundaries of ``body`` strictly between ``low`` and ``high``."""
    return [m.start() for m in _BOUNDARY.finditer(body) if low < m.start() < high]


def holes(name, text, kind):
    """Every hole of ``kind`` the file allows, as (line index, start, end line index, expected) in file order."""
    lines = text.split("\n")
    comments, _ = stops.language(name)
    found = []
    for i, body in enumerate(lines):
        if not _usable(body, comments):
            continue
        start, end = _indent(body), len(body.rstrip())
        if kind == "line":
            found.append((i, start, i, body[start:]))
        elif kind == "line-end":
            found += [(i, p, i, body[p:]) for p in _boundaries(body, start + 1, end - 1) if body[p:].strip()]
        elif kind == "span":
            cuts = _boundaries(body, start, end)
            found += [(i, a, i, body[a:b]) for a, b in zip(cuts, cuts[2:]) if re.search(r"\w", body[a:b]) and 2 <= b - a <= 40]
        elif kind == "block":
            block = _block(lines, i)
            if block:
                found.append(block)
    return found


def _block(lines, i):
    """The body under line ``i`` when it opens a block (ends in ``:`` or ``{``), as a hole; None otherwise."""
    header = lines[i].rstrip()
    if not header.endswith((":", "{")):
        return None
    level, last = _indent(header), None
    for j in range(i + 1, len(lines)):
        if not lines[j].strip():
            continue
        if _indent(lines[j]) <= level:
            break
        if j > i + MAX_BLOCK_LINES:
            return None  # a body this long is not one completion
        last = j
    if last is None:
        return None
    body = "\n".join(lines[i + 1:last + 1])
    first = lines[i + 1]
    if not first.strip() or len(body) > MAX_BLOCK_CHARS:
        return None
    return (i + 1, _indent(first), last, body[_indent(first):])


def cut(name, root, text, kind, hole, prefix=""):
    """The Hole for ``hole`` (from ``holes``): the file without the expected text, the cursor where it began; ``prefix`` goes before the name in its id."""
    i, start, last, expected = hole
    lines = text.split("\n")
    left = lines[i][:start]
    right = lines[last][start + len(expected):] if i == last else ""
    lines[i:last + 1] = [left + right]
    col = len(left.encode("utf-8")) + 1
    return Hole(f"{prefix}{name}:{i + 1}:{col}:{kind}", kind, name, root, i + 1, col, "\n".join(lines), expected)


def sample(sources, count, seed, kinds=KINDS):
    """``count`` holes from ``sources`` (``Source`` objects), the kinds taken in turn, files and places drawn with ``seed``.

    The files are shuffled once; each task takes the next file (in that
    order, round and round) that still has an unused hole of its kind. A
    kind no file has is dropped. The same files and seed give the same holes.
    """
    rng = random.Random(f"bufbridge-bench:{seed}")
    for source in sources if len(sources) > 1 else ():
        source.prefix = os.path.join(source.root, "")  # two folders may hold files of the same name
    names = [(source, name) for source in sources for name in source.names]
    rng.shuffle(names)
    tasks, used, position, kinds = [], set(), 0, list(kinds)
    while len(tasks) < count and kinds and names:
        kind = kinds[len(tasks) % len(kinds)]
        for step in range(len(names)):
            source, name = names[(position + step) % len(names)]
            text = source.text(name)
            options = [h for h in holes(name, text, kind) if (source.root, name, h[0], h[1], kind) not in used] if text else []
            if options:
                hole = rng.choice(options)
                used.add((source.root, name, hole[0], hole[1], kind))
                tasks.append(cut(name, source.root, text, kind, hole, source.prefix))
                position = (position + step + 1) % len(names)
                break
        else:
            kinds.remove(kind)
    return tasks


# --- chat tasks --------------------------------------------------------------------


def chat_tasks(folder, env):
    """The chat buffers of ``folder`` (``*.chat``, ``*.bufbridge``), each with its check file beside it, sorted by name.

    ``NAME.expect``: the reply must be this text (surrounding whitespace aside);
    ``NAME.regex``: the pattern must match somewhere in the reply;
    ``NAME.check``: a shell script that must exit 0, run in ``folder`` with the
    reply on standard input and in the file named by ``$BUFBRIDGE_REPLY``.
    """
    if not os.path.isdir(folder):
        raise BridgeError(f"bench --chat {folder}: not a folder", hint="name a folder of *.chat buffers with a check file for each")
    reader = files.Policy.here(env, cwd=folder).reader()
    tasks = []
    for name in sorted(os.listdir(folder)):
        stem, ext = os.path.splitext(name)
        if ext not in CHAT_SUFFIXES or files.looks_secret(name):
            continue
        checks = [s for s in CHECK_SUFFIXES if os.path.isfile(os.path.join(folder, stem + s))]
        if len(checks) != 1:
            what = "no check file" if not checks else "more than one check file"
            raise BridgeError(f"bench --chat {os.path.join(folder, name)}: {what}",
                              hint=f"put exactly one of {stem}.expect, {stem}.regex or {stem}.check beside it")
        check = checks[0][1:]
        spec = os.path.join(folder, stem + checks[0])
        if check in ("expect", "regex"):
            spec = _read(reader, stem + checks[0], folder)
        if check == "regex":
            _compile(spec, os.path.join(folder, stem + ".regex"))
        tasks.append(ChatTask(f"chat:{name}", name, folder, _read(reader, name, folder), check, spec))
    if not tasks:
        raise BridgeError(f"bench --chat {folder}: no *.chat or *.bufbridge buffers in it", hint="add NAME.chat with NAME.expect, NAME.regex or NAME.check")
    return tasks


def _read(reader, name, folder):
    try:
        return reader.read(name, "bench --chat")
    except files.FileError as err:
        raise BridgeError(f"bench --chat {os.path.join(folder, name)}: cannot read it: {err.reason}", hint=err.hint) from None


def _compile(pattern, where):
    try:
        return re.compile(pattern.strip("\n"), re.MULTILINE)
    except re.error as err:
        raise BridgeError(f"{where}: not a regular expression: {err}", hint="fix the pattern (Python syntax)") from None
