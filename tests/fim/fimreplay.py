"""The FIM stop corpus: load its cases and replay them through the real ``bufbridge`` CLI from a loopback server.

A case is a folder of ``tests/fim/corpus/``:

* ``source.EXT``: the file being edited, with ``█`` where the cursor is;
* ``model.txt``: what the model writes there when nothing stops it;
* ``stream.sse``: those tokens as the server sends them (``synth.py`` writes it);
* ``expected.txt``: the text that should be inserted;
* ``case.json``: ``description``, ``why``, ``filename``, ``endpoint``
  (``infill`` or ``completions``), ``fim`` (template or null), ``cut`` (the
  client must end the stream itself, before the server does), ``split``
  (re-cut the bytes into reads of this size), ``args`` (more CLI options).

Used by ``test_fim_corpus.py`` and ``bench/fim_stops.py --corpus``.
"""

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import fakeserver

CORPUS = Path(__file__).resolve().parent / "corpus"
CURSOR = "█"
PROFILE = "fim-corpus"
RESULTS = {}  # case name -> exact, filled by test_fim_corpus.py for the pytest summary


@dataclass(frozen=True)
class Case:
    name: str
    meta: dict
    source: str  # without the cursor mark
    line: int  # 1-based
    col: int  # 1-based, in bytes
    model: str
    expected: str
    stream: bytes

    def script(self, hold=True):
        """The server's writes: one per SSE event, or fixed-size reads when the case says ``split``.

        With ``hold``, a case that must be cut keeps the connection open after
        its last chunk, like a server still generating: the client has to hang up.
        """
        size = self.meta.get("split")
        if size:
            chunks = [self.stream[i:i + size] for i in range(0, len(self.stream), size)]
        else:
            chunks = [event + b"\n\n" for event in self.stream.split(b"\n\n") if event]
        return chunks + ([fakeserver.HOLD] if hold and self.meta.get("cut", True) else [])

    def argv(self):
        args = ["--infill-at", f"{self.line}:{self.col}", "--profile", PROFILE, "--filename", self.meta["filename"]]
        if self.meta.get("fim"):
            args += ["--fim", self.meta["fim"]]
        return args + list(self.meta.get("args", ()))


def cursor_position(marked):
    """(text without the mark, line, byte column) of the ``█`` in ``marked``."""
    before, mark, after = marked.partition(CURSOR)
    if not mark or CURSOR in after:
        raise ValueError("a source needs exactly one cursor mark")
    line = before.count("\n") + 1
    col = len(before.rsplit("\n", 1)[-1].encode("utf-8")) + 1
    return before + after, line, col


def load(folder):
    folder = Path(folder)
    meta = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    source_file = next(folder.glob("source.*"))
    source, line, col = cursor_position(source_file.read_text(encoding="utf-8"))
    read = lambda name: (folder / name).read_text(encoding="utf-8")  # noqa: E731
    return Case(folder.name, meta, source, line, col, read("model.txt"), read("expected.txt"), (folder / "stream.sse").read_bytes())


def cases():
    return [load(p.parent) for p in sorted(CORPUS.glob("*/case.json"))]


def streamed_text(case):
    """The text the recorded stream carries (to check it against ``model.txt``)."""
    return "".join(text for text, _ in streamed_pieces(case))


def streamed_pieces(case):
    """(text, tokens) of each event of the recorded stream that carries text: llama.cpp lists its token ids, OpenAI's format one token an event."""
    pieces = []
    for event in case.stream.decode("utf-8").split("\n\n"):
        if not event.startswith("data: ") or event == "data: [DONE]":
            continue
        data = json.loads(event[6:])
        if "choices" in data:
            pieces += [(c["text"], 1) for c in data["choices"] if c.get("text")]
        elif data.get("content"):
            pieces.append((data["content"], len(data.get("tokens") or ()) or 1))
    return pieces


def write_profile(config_dir, url, more=""):
    """The profile the replays use: the loopback server's URL (``more``: further profile lines, e.g. ``!stats``)."""
    folder = Path(config_dir) / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{PROFILE}.profile").write_text(f"!api {url}/\n!:cache_prompt true\n!:n_predict 256\n{more}", encoding="utf-8")


def bufbridge():
    """The console script next to this interpreter, else ``python -m bridge``."""
    script = Path(sys.executable).with_name("bufbridge")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bridge"]


def clean_env(config_dir):
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and not k.startswith(("BUFBRIDGE_", "ILLUME_"))}
    env.update({"NO_PROXY": "*", "BUFBRIDGE_CONFIG_DIR": str(config_dir)})
    return env


@dataclass(frozen=True)
class Replay:
    output: str
    stderr: str
    status: int
    request: object  # fakeserver.Received
    disconnected: bool  # the client closed before the server finished

    def exact(self, case):
        return self.status == 0 and self.output == case.expected


def replay(case, config_dir, *, extra_args=(), hold=True, inprocess=False, timeout=30, profile=""):
    """Run ``bufbridge`` on the case's source against a FakeServer replaying its stream.

    By default the console script runs as a subprocess; ``inprocess`` calls
    ``bridge.cli.main`` instead (faster, for the benchmark's many runs).
    ``profile``: more lines for the replay's profile.
    """
    with fakeserver.FakeServer(fakeserver.Reply(case.script(hold)), timeout=timeout / 2) as server:
        write_profile(config_dir, server.url, profile)
        run = _main if inprocess else _subprocess
        output, stderr, status = run(case.argv() + list(extra_args), case.source.encode("utf-8"), clean_env(config_dir), timeout)
        request = server.wait_for_request(timeout=1)
        disconnected = server.wait_for_disconnect(timeout=5) if hold and case.meta.get("cut", True) else request.disconnected
    return Replay(output, stderr, status, request, disconnected)


def _subprocess(argv, source, env, timeout):
    done = subprocess.run(bufbridge() + argv, input=source, capture_output=True, env=env, timeout=timeout)
    return done.stdout.decode("utf-8"), done.stderr.decode("utf-8", "replace"), done.returncode


def _main(argv, source, env, timeout):
    import io

    from bridge import cli

    out, err = io.BytesIO(), io.StringIO()
    status = cli.main(argv, stdin=io.BytesIO(source), stdout=out, stderr=err, env=env)
    return out.getvalue().decode("utf-8"), err.getvalue(), status
