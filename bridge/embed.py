"""Text that directives pull in from files: ``!context``, ``!reddit``, ``!github``."""

import json
import os
import re
from pathlib import Path

from .errors import DirectiveError

BACKTICKS = re.compile("`+")


def fenced(name, text):
    """``**`NAME`**`` and a fence one backtick longer than the file's longest backtick run."""
    longest = max((len(run) for run in BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"**`{name}`**\n{fence}\n{text}{fence}\n\n"


def read_text(path, directive):
    """Read a file as UTF-8 text, translating OS errors into DirectiveError."""
    try:
        return Path(path).read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        raise DirectiveError(f"{directive}: no such file {path}", hint="check the path (relative to the current directory)") from None
    except IsADirectoryError:
        raise DirectiveError(f"{directive}: {path} is a folder", hint="give a file, or a folder followed by file suffixes") from None
    except OSError as err:
        raise DirectiveError(f"{directive}: cannot read {path}: {err.strerror}") from None


def context(args):
    """The text of ``!context FILE`` or ``!context DIR SUFFIX...``."""
    fields = args.split()
    if not fields:
        raise DirectiveError("!context needs a file, or a folder and file suffixes", hint="e.g. !context src/ .py .md")
    if len(fields) == 1:
        return fenced(fields[0], read_text(fields[0], "!context"))
    folder, suffixes = fields[0], tuple(fields[1:])
    if not os.path.isdir(folder):
        raise DirectiveError(f"!context: no such folder {folder}", hint="check the path (relative to the current directory)")
    cut = len(folder.rstrip("/")) - len(os.path.basename(folder.rstrip("/"))) if not folder.endswith("/") else len(folder)
    parts = []
    for path in _walk(folder):
        if path.endswith(suffixes):
            parts.append(fenced(path[cut:], read_text(path, "!context")))
    return "".join(parts)


def _walk(folder):
    """Files under ``folder`` in lexical order, a subfolder's files at its place."""
    entries = sorted(os.listdir(folder))
    for entry in entries:
        path = os.path.join(folder, entry)
        if os.path.isdir(path):
            yield from _walk(path)
        else:
            yield path


def _load_json(path, directive):
    try:
        return json.loads(read_text(path, directive))
    except json.JSONDecodeError as err:
        raise DirectiveError(f"{directive}: {path} is not JSON ({err.msg} at line {err.lineno})") from None


def reddit(args, comments):
    """A saved reddit thread (the ``.json`` of a post page) as text."""
    path = args.strip()
    directive = "!reddit" if comments else "!reddit!"
    thread = _load_json(path, directive)
    try:
        post = thread[0]["data"]["children"][0]["data"]
    except (KeyError, IndexError, TypeError):
        raise DirectiveError(f"{directive}: {path} is not a saved reddit thread", hint="save the page's .json URL") from None
    out = ["# Reddit Post\n\n", f"{post.get('title', '')}\n"]
    out.append(f"by u/{post.get('author', '')} in r/{post.get('subreddit', '')}\n")
    out.append(f"---\n{post.get('selftext', '')}\n---\n")
    if comments and len(thread) > 1:
        _comments(out, 1, thread[1].get("data", {}).get("children", []))
        out.append("---\n")
    return "".join(out)


def _quote(depth):
    return ">" * depth + (" " if depth > 0 else "")


def _comments(out, depth, children):
    for child in children:
        data = child.get("data", {})
        out.append("\n" + _quote(depth - 1) + f"u/{data.get('author', '')}:\n")
        for line in (data.get("body") or "").splitlines():
            out.append(_quote(depth) + line + "\n")
        replies = data.get("replies")
        if isinstance(replies, dict):
            _comments(out, depth + 1, replies.get("data", {}).get("children", []))


def github(args):
    """A saved GitHub issue (API JSON) and optional comment files as text."""
    paths = args.split()
    if not paths:
        raise DirectiveError("!github needs an issue JSON file", hint="e.g. !github issue.json comments.json")
    issue = _load_json(paths[0], "!github")
    out = ["---\n", f"{issue.get('html_url', '')}\n", f"{issue.get('title', '')}\n"]
    out.append(f"by @{(issue.get('user') or {}).get('login', '')}\n\n{issue.get('body') or ''}\n")
    for path in paths[1:]:
        for comment in _load_json(path, "!github"):
            out.append(f"\n@{(comment.get('user') or {}).get('login', '')}:\n")
            out.extend(f"> {line}\n" for line in (comment.get("body") or "").splitlines())
    out.append("---\n")
    return "".join(out)
