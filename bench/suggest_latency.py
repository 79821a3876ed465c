"""Suggestions as you type in a real Vim and a real Neovim: the time from the pause to the ghost text.

Each editor types N times at the start of a Python file (a different line each
time, so no suggestion comes from the cache), pauses, and waits for the
suggestion. A loopback fake server answers ``/infill`` at once and keeps
connections open, as llama-server does. The clock runs
inside the editor (``bufbridge#suggest#last()``): from the end of the pause
(the debounce timer firing, when the request is made) to the ghost text of the
first piece placed, and to the whole suggestion placed. The server's own time
(writing its reply, measured inside the fake server) is taken off, so what
remains is bufbridge's: the editor plugin, the host, the request and the
stream. Before the run, three project files are yanked, so the requests carry
a ring of context chunks; their size is printed.

Prints p50 and p95 per editor. Asserts nothing.

    .venv/bin/python bench/suggest_latency.py [--suggestions 50] [--rounds 2]
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchlib import ROOT, fakeserver, machine, percentile, python

sys.path.insert(0, str(ROOT))
from tests.editor.drivers import Nvim, Vim, nvim_binary, vim_binary, vim_setup, wait_until  # noqa: E402

ESC = {"vim": "\x1b", "nvim": "<Esc>"}


class TimedServer(fakeserver.FakeServer):
    """The fake server, timing its own work on each reply (from the request read to the reply written)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.own = []

    def _send(self, conn, reply, received):
        start = time.perf_counter()
        try:
            return super()._send(conn, reply, received)
        finally:
            self.own.append(time.perf_counter() - start)


def wait(check, what, timeout=30):
    # Seldom: each look is work for the editor, in the middle of what is timed.
    return wait_until(check, timeout, interval=0.05, message=what)


def run(kind, n, server, home, work):
    profiles = home / "config" / "profiles"
    profiles.mkdir(parents=True)
    (profiles / "box.profile").write_text(f"!api {server.url}/\n")
    for name in ("util.py", "model.py", "views.py"):
        (work / name).write_text("".join(f"def {name[:-3]}_{i}(x):\n    return x * {i}\n\n" for i in range(30)))
    setup = vim_setup(command=[python(), "-m", "bridge"], before=[
        "let g:loaded_python3_provider = 0", "filetype on", "set hidden",
        "let g:bufbridge_infill_args = ['--profile', 'box']",
    ])
    import os

    os.environ["BUFBRIDGE_CONFIG_DIR"] = str(home / "config")
    editor = Vim(vim_binary(), home=home, cwd=work, setup=setup) if kind == "vim" else \
        Nvim(nvim_binary(), home=home, cwd=work, setup=setup)
    keys = editor.keys if kind == "vim" else editor.feed
    try:
        for name in ("util.py", "model.py", "views.py"):
            editor.command(f"edit {name} | normal! ggyG")
        editor.command("edit main.py | set filetype=python")
        editor.set_lines(["", "def main():", "    pass"])
        results = []
        for i in range(n + 1):  # the first one starts the host: left out
            server_before = len(server.own)
            editor.command(f"call setline(1, 'value_{i} = ') | call cursor(1, 1)")
            keys("A")
            wait(lambda: editor.eval("get(bufbridge#suggest#last(), 'drawn', -1) >= 0 && bufbridge#suggestion() !=# ''"),
                 f"suggestion {i}")
            last = editor.eval("bufbridge#suggest#last()")
            keys(ESC[kind])
            wait(lambda: editor.eval("mode()") == "n", "Normal mode")
            wait(lambda: len(server.own) > server_before, "the server's time")
            if i and not last["cached"]:
                own = server.own[-1]
                results.append((last["first_drawn"] - own, last["drawn"] - own, last["context"], own, last["first"]))
        return results
    finally:
        editor.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--suggestions", type=int, default=50, help="suggestions per editor and round (default 50)")
    p.add_argument("--rounds", type=int, default=2, help="rounds, a fresh editor each (default 2)")
    args = p.parse_args()
    kinds = [k for k, binary in (("vim", vim_binary()), ("nvim", nvim_binary())) if binary]
    results = {kind: [] for kind in kinds}
    reply = fakeserver.Reply(fakeserver.llama_stream(["x + 1", "\n", "print(value)"]))
    with TimedServer(routes={"/infill": reply}, timeout=30, keep_alive=True) as server, \
            tempfile.TemporaryDirectory(prefix="bufbridge-bench-") as tmp:
        for round_ in range(args.rounds):
            for kind in kinds:
                home, work = Path(tmp) / f"{kind}-{round_}-home", Path(tmp) / f"{kind}-{round_}-work"
                home.mkdir()
                work.mkdir()
                results[kind] += run(kind, args.suggestions, server, home, work)
        context = [len(r.body) for r in server.requests]
        extra = [len(str(r.json.get("input_extra", ""))) for r in server.requests]
    print(f"{args.rounds} rounds x {args.suggestions} suggestions per editor, the server answering at once; {machine()}")
    print("time after the pause, the server's own time taken off:")
    print(f"{'editor':6}  {'first piece p50':>15}  {'p95':>9}  {'whole p50':>10}  {'p95':>9}  {'server p50':>10}")
    for kind in kinds:
        first = [r[0] for r in results[kind]]
        whole = [r[1] for r in results[kind]]
        own = [r[3] for r in results[kind]]
        print(f"{kind:6}  {statistics.median(first) * 1000:12.2f} ms  {percentile(first, 95) * 1000:6.2f} ms"
              f"  {statistics.median(whole) * 1000:7.2f} ms  {percentile(whole, 95) * 1000:6.2f} ms"
              f"  {statistics.median(own) * 1000:7.3f} ms")
    for kind in kinds:
        arrived = [r[4] for r in results[kind]]
        print(f"{kind}: the first text reaches the plugin after p50 {statistics.median(arrived) * 1000:.2f} ms (server time included)")
    sent = [r[2] for kind in kinds for r in results[kind]]
    print(f"context sent per request: {statistics.median(sent)} bytes of JSON from the editor (ring chunks); "
          f"request bodies p50 {statistics.median(context)} bytes, input_extra p50 {statistics.median(extra)} characters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
