"""Text that directives pull in from files: ``!context``, ``!reddit``, ``!github``.

Files are read through a ``files.Reader``, which knows where the source that
names them may read (security rule 5). Saved JSON is parsed with the limits of
``jsonsafe`` and its shape is checked as it is read: a file of the wrong shape
is one error naming the place in the file, never a crash.
"""

import re

from . import jsonsafe
from .errors import DirectiveError

BACKTICKS = re.compile("`+")
REDDIT_MAX_DEPTH = 400  # a saved thread nests about five JSON levels per reply level


def fenced(name, text):
    """``**`NAME`**`` and a fence one backtick longer than the file's longest backtick run."""
    longest = max((len(run) for run in BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"**`{name}`**\n{fence}\n{text}{fence}\n\n"


def context(args, reader):
    """The text of ``!context FILE`` or ``!context DIR SUFFIX...``, and the files a walk skipped."""
    fields = args.split()
    if not fields:
        raise DirectiveError("!context needs a file, or a folder and file suffixes", hint="e.g. !context src/ .py .md")
    if len(fields) == 1:
        return fenced(fields[0], reader.read(fields[0], "!context")), ()
    folder, suffixes = fields[0], tuple(fields[1:])
    walk = reader.walk(folder, suffixes, "!context")
    cut = len(folder.rstrip("/")) - len(folder.rstrip("/").rsplit("/", 1)[-1]) if not folder.endswith("/") else len(folder)
    return "".join(fenced(name[cut:], text) for name, text in walk.files), walk.skipped


class _Shape:
    """Reads a parsed JSON file; a value of the wrong type is an error naming where it is in the file."""

    def __init__(self, directive, path, what, hint):
        self.directive, self.path, self.what, self.hint = directive, path, what, hint

    def fail(self, at, expected):
        where = at or "the top level"
        raise DirectiveError(f"{self.directive}: {self.path} is not {self.what} ({where} is not {expected})", hint=self.hint)

    def object(self, value, at):
        if not isinstance(value, dict):
            self.fail(at, "an object")
        return value

    def array(self, value, at):
        if not isinstance(value, list):
            self.fail(at, "an array")
        return value

    def text(self, obj, key, at):
        """``obj[key]`` as text: a string, or "" when missing or null."""
        value = obj.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.fail(f"{at}.{key}" if at else key, "a string")
        return value


def _load_json(reader, path, directive, max_depth=jsonsafe.MAX_DEPTH):
    text = reader.read(path, directive)
    try:
        return jsonsafe.loads(text, max_depth=max_depth)
    except jsonsafe.JSONError as err:
        if err.syntax:
            raise DirectiveError(f"{directive}: {path} is not JSON ({err.reason})") from None
        raise DirectiveError(f"{directive}: {path} cannot be read as JSON: {err.reason}") from None


def reddit(args, reader, comments):
    """A saved reddit thread (the ``.json`` of a post page) as text."""
    path = args.strip()
    directive = "!reddit" if comments else "!reddit!"
    if not path:
        raise DirectiveError(f"{directive} needs a saved thread", hint=f"e.g. {directive} thread.json")
    shape = _Shape(directive, path, "a saved reddit thread", "save the page's .json URL")
    thread = shape.array(_load_json(reader, path, directive, REDDIT_MAX_DEPTH), "")
    if not thread:
        shape.fail("", "a non-empty array")
    posts = shape.array(shape.object(shape.object(thread[0], "[0]").get("data"), "[0].data").get("children"), "[0].data.children")
    if not posts:
        shape.fail("[0].data.children", "a non-empty array")
    post = shape.object(shape.object(posts[0], "[0].data.children[0]").get("data"), "[0].data.children[0].data")
    at = "[0].data.children[0].data"
    out = ["# Reddit Post\n\n", f"{shape.text(post, 'title', at)}\n"]
    out.append(f"by u/{shape.text(post, 'author', at)} in r/{shape.text(post, 'subreddit', at)}\n")
    out.append(f"---\n{shape.text(post, 'selftext', at)}\n---\n")
    if comments and len(thread) > 1:
        listing = shape.object(shape.object(thread[1], "[1]").get("data", {}), "[1].data")
        _comments(shape, out, shape.array(listing.get("children", []), "[1].data.children"), "[1].data.children")
        out.append("---\n")
    return "".join(out)


def _quote(depth):
    return ">" * depth + (" " if depth > 0 else "")


def _comments(shape, out, children, at):
    """Comments and their replies, depth first, without recursion (a thread may nest deeply)."""
    stack = [(1, at, iter(enumerate(children)))]
    while stack:
        depth, at, items = stack[-1]
        item = next(items, None)
        if item is None:
            stack.pop()
            continue
        here = f"{at}[{item[0]}]"
        data = shape.object(shape.object(item[1], here).get("data", {}), here + ".data")
        out.append("\n" + _quote(depth - 1) + f"u/{shape.text(data, 'author', here + '.data')}:\n")
        for line in shape.text(data, "body", here + ".data").splitlines():
            out.append(_quote(depth) + line + "\n")
        replies = data.get("replies")
        if isinstance(replies, dict):  # reddit writes "" for no replies
            there = here + ".data.replies.data"
            kids = shape.array(shape.object(replies.get("data", {}), there).get("children", []), there + ".children")
            stack.append((depth + 1, there + ".children", iter(enumerate(kids))))


def github(args, reader):
    """A saved GitHub issue (API JSON) and optional comment files as text."""
    paths = args.split()
    if not paths:
        raise DirectiveError("!github needs an issue JSON file", hint="e.g. !github issue.json comments.json")
    hint = "save the issue from the GitHub API (repos/OWNER/REPO/issues/N and its /comments)"
    shape = _Shape("!github", paths[0], "a saved GitHub issue", hint)
    issue = shape.object(_load_json(reader, paths[0], "!github"), "")
    user = shape.object(issue.get("user") or {}, "user")
    out = ["---\n", f"{shape.text(issue, 'html_url', '')}\n", f"{shape.text(issue, 'title', '')}\n"]
    out.append(f"by @{shape.text(user, 'login', 'user')}\n\n{shape.text(issue, 'body', '')}\n")
    for path in paths[1:]:
        shape = _Shape("!github", path, "a saved list of GitHub comments", hint)
        for i, comment in enumerate(shape.array(_load_json(reader, path, "!github"), "")):
            comment = shape.object(comment, f"[{i}]")
            user = shape.object(comment.get("user") or {}, f"[{i}].user")
            out.append(f"\n@{shape.text(user, 'login', f'[{i}].user')}:\n")
            out.extend(f"> {line}\n" for line in shape.text(comment, "body", f"[{i}]").splitlines())
    out.append("---\n")
    return "".join(out)
