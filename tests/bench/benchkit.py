"""Helpers for the ``bufbridge bench`` tests: loopback servers whose answers are known, and the small repository beside this file."""

import io
import json
import os
from pathlib import Path

import fakeserver as fs
from bridge import cli

REPO = Path(__file__).parent / "repo"


def originals(root=REPO):
    """The text of every file under ``root``."""
    return [p.read_text(encoding="utf-8") for p in sorted(root.rglob("*")) if p.is_file()]


def middle(received, texts):
    """The text the hole of an /infill request had: the one file that starts with its prefix and ends with its suffix."""
    body = received.json
    prefix, suffix = body["input_prefix"] + body["prompt"], body["input_suffix"]
    found = [t[len(prefix):len(t) - len(suffix)] for t in texts
             if t.startswith(prefix) and t.endswith(suffix) and len(prefix) + len(suffix) <= len(t)]
    assert len(found) == 1, f"{len(found)} files fit the request"
    return found[0]


def pieces(text, size=3):
    return [text[i:i + size] for i in range(0, len(text), size)]


def server_for(answer, texts=None):
    """A FakeServer whose /infill reply is ``answer(expected middle)`` (a script list or a Reply)."""
    texts = originals() if texts is None else texts

    def handler(received):
        reply = answer(middle(received, texts))
        return reply if isinstance(reply, fs.Reply) else fs.Reply(reply)

    return fs.FakeServer(handler=handler, timeout=20)


def profile(config, name, server, *lines):
    """A profile NAME in the configuration folder ``config``, pointing at ``server``; returns NAME."""
    folder = Path(config) / "profiles"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.profile").write_text("\n".join([f"!api {server.url}/", *lines]) + "\n", encoding="utf-8")
    return name


class Bench:
    """One in-process ``bufbridge bench`` run."""

    def __init__(self, argv, env=None):
        out, err = io.BytesIO(), io.StringIO()
        self.status = cli.main(["bench", *argv], stdout=out, stderr=err, env=dict(os.environ if env is None else env))
        self.out, self.err = out.getvalue().decode("utf-8"), err.getvalue()
        out_path = argv[argv.index("-o") + 1] if "-o" in argv else None
        self.data = json.loads(Path(out_path).read_text()) if out_path and Path(out_path).exists() else None

    def results(self, label):
        return [r for r in self.data["results"] if r["profile"] == label]
