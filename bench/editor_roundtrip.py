"""Round trip of :BufBridge inside a real Vim and a real Neovim: the host, a process per request, and curl.

Each editor sends the same short chat buffer N times in a row to a loopback
server that answers at once and keeps connections open, as llama-server does. The clock runs inside the editor: from the
command to the reply in the buffer (the plugin's ``User BufBridgeDone``
autocommand), so the driver's own latency is not counted. Three ways are
timed in the same run, interleaved in rounds:

- host:    the plugin as it is, every request through one `bufbridge host`;
- process: the plugin with a command whose `host` cannot start, so each
           request starts `bufbridge` (the fallback path);
- curl:    a process-per-request plugin of a few lines that starts `curl -N`
           with the same request and appends its output: the baseline of
           what a compiled client started per request costs.

Prints p50 and p95 per way and editor, and the ratios to curl. Asserts nothing.

    .venv/bin/python bench/editor_roundtrip.py [--requests 50] [--rounds 3]
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchlib import ROOT, Request, clean_env, curl, fakeserver, machine, percentile, python

sys.path.insert(0, str(ROOT))
from tests.editor.drivers import Nvim, Vim, nvim_binary, vim_binary, vim_setup  # noqa: E402

NO_HOST = "import sys\nif sys.argv[-1] == 'host': sys.exit(2)\nfrom bridge.cli import entry\nentry()"

# Runs inside the editor: N requests back to back, each started when the previous one ended.
DRIVER = r"""
let g:bench_times = []
function! BenchNext(...) abort
  call deletebufline(bufnr(''), g:bench_lines + 1, '$')
  let g:bench_t0 = reltime()
  if g:bench_way ==# 'curl'
    call BenchCurl()
  else
    BufBridge
  endif
endfunction
function! BenchDone() abort
  call add(g:bench_times, reltimefloat(reltime(g:bench_t0)))
  if len(g:bench_times) < g:bench_n
    call timer_start(0, 'BenchNext')
  endif
endfunction
augroup bench
  autocmd User BufBridgeDone call BenchDone()
augroup END
" The baseline plugin: one curl per request, its output appended when it exits.
function! BenchCurl() abort
  let g:bench_out = []
  if has('nvim')
    call jobstart(g:bench_curl, {'stdout_buffered': v:true,
          \ 'on_stdout': {id, data, event -> extend(g:bench_out, data)},
          \ 'on_exit': {id, status, event -> BenchCurlDone()}})
  else
    call job_start(g:bench_curl, {'out_cb': {ch, msg -> add(g:bench_out, msg)},
          \ 'close_cb': {ch -> BenchCurlDone()}})
  endif
endfunction
function! BenchCurlDone() abort
  call append('$', g:bench_out)
  call BenchDone()
endfunction
"""


def run_way(kind, way, n, server_url, request, workdir, home):
    command = [python(), "-c", NO_HOST] if way == "process" else [python(), "-m", "bridge"]
    setup = vim_setup(command=command)
    driver = home / "bench.vim"
    driver.write_text(DRIVER)
    editor = (Vim(vim_binary(), home=home, cwd=workdir, setup=setup) if kind == "vim"
              else Nvim(nvim_binary(), home=home, cwd=workdir, setup=setup))
    try:
        lines = [f"!api {server_url}/v1", "!user", "Say ok."]
        editor.set_lines(lines)
        editor.command(f"source {driver}")
        editor.command(f"let g:bench_lines = {len(lines)} | let g:bench_n = {n} | let g:bench_way = '{way}'")
        editor.command(f"let g:bench_curl = {json.dumps(request.curl_command()[:-2] + ['-o', '-'])}")
        editor.command("call BenchNext()")
        deadline = time.monotonic() + 120
        while editor.eval("len(g:bench_times)") < n:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{kind}/{way}: only {editor.eval('len(g:bench_times)')} of {n} requests in 120 s")
            time.sleep(0.05)
        return editor.eval("g:bench_times")
    finally:
        editor.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=50, help="requests per editor and way in each round (default 50)")
    p.add_argument("--rounds", type=int, default=3, help="rounds, the ways interleaved (default 3)")
    args = p.parse_args()
    curl()
    env = clean_env()
    kinds = [k for k, binary in (("vim", vim_binary()), ("nvim", nvim_binary())) if binary]
    ways = ["host", "process", "curl"]
    results = {(k, w): [] for k in kinds for w in ways}
    with fakeserver.FakeServer(fakeserver.Reply(fakeserver.openai_chat_stream(["ok"])), timeout=30, keep_alive=True) as server, \
            tempfile.TemporaryDirectory(prefix="bufbridge-bench-") as tmp:
        request = Request(f"!api {server.url}/v1\n!user\nSay ok.\n", env)
        import os

        os.environ.update({k: v for k, v in env.items() if k in ("BUFBRIDGE_CONFIG_DIR", "NO_PROXY")})
        for round_ in range(args.rounds):
            for i, way in enumerate(ways[round_ % 3:] + ways[:round_ % 3]):
                for kind in kinds:
                    home, work = Path(tmp) / f"{kind}-{way}-{round_}-home", Path(tmp) / f"{kind}-{way}-{round_}-work"
                    home.mkdir()
                    work.mkdir()
                    times = run_way(kind, way, args.requests, server.url, request, work, home)
                    results[(kind, way)] += times[1:]  # the first starts the host: reported apart below
        request.remove()
    print(f"{args.rounds} rounds x {args.requests} sequential :BufBridge requests per editor and way; {machine()}")
    print(f"{'editor':6}  {'way':8}  {'p50':>9}  {'p95':>9}  {'p50 / curl':>10}")
    for kind in kinds:
        base = statistics.median(results[(kind, "curl")])
        for way in ways:
            values = results[(kind, way)]
            p50, p95 = statistics.median(values), percentile(values, 95)
            print(f"{kind:6}  {way:8}  {p50 * 1000:7.2f} ms  {p95 * 1000:7.2f} ms  {p50 / base:9.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
