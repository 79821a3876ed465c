"""Start-up cost: bufbridge vs curl vs ``python -c pass`` for an 8-token reply from a loopback server.

    .venv/bin/python bench/startup.py [--repeat N] [--against DIR]

Prints the median wall time of each command, the ratios, and what dominates
bufbridge's imports (``python -X importtime``). ``python -c "import requests"``
is timed too: the real request is sent with requests, so its import is a floor
no change to bufbridge's own code can go below.
"""

import argparse
import re
import subprocess

import benchlib as b

BUFFER = "!api {url}/v1\n!user\nSay hello in eight tokens.\n"
TOKENS = ["Hello", ",", " how", " are", " you", " today", "?", " Bye"]


def importtime(env, top=12):
    """The slowest imports (cumulative µs) of a real run against the server, as ``-X importtime`` reports them."""
    return _importtime([b.python(), "-X", "importtime", "-m", "bridge"], env, top)


def _importtime(command, env, top, stdin=b""):
    result = subprocess.run(command, input=stdin, capture_output=True, env=env)
    rows = []
    for line in result.stderr.decode().splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            rows.append((int(m.group(2)), int(m.group(1)), len(m.group(3)) // 2, m.group(4)))
    total = sum(cumulative for cumulative, _, depth, _ in rows if depth == 0)
    return total, sorted(rows, reverse=True)[:top]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=40, help="interleaved rounds (default 40)")
    parser.add_argument("--against", metavar="DIR", help=b.AGAINST_HELP)
    args = parser.parse_args()

    env = b.clean_env()
    other = b.against(env, args.against) if args.against else None
    reply = b.fakeserver.Reply(b.fakeserver.openai_chat_stream(TOKENS))
    with b.fakeserver.FakeServer(reply) as server:
        buffer = BUFFER.format(url=server.url).encode()
        request = b.Request(buffer.decode(), env)
        try:
            runs = [
                ("bufbridge", lambda: b.timed(b.bufbridge(), stdin=buffer, env=env)),
                ("curl -N", lambda: b.timed(request.curl_command(), env=env)),
                ("python -c pass", lambda: b.timed([b.python(), "-c", "pass"], env=env)),
                ("import requests", lambda: b.timed([b.python(), "-c", "import requests"], env=env)),
            ]
            if other:
                runs.append(("against", lambda: b.timed(b.bufbridge(), stdin=buffer, env=other)))
            b.interleaved(runs, 3)  # warm the page cache and the .pyc files
            times = b.interleaved(runs, args.repeat)
            total, slowest = _importtime([b.python(), "-X", "importtime", "-m", "bridge"], env, 12, stdin=buffer)
            _, dry = _importtime([b.python(), "-X", "importtime", "-m", "bridge", "--debug"], env, 6, stdin=buffer)
        finally:
            request.remove()
        served = len(server.requests)

    print(f"start-up: an {len(TOKENS)}-token chat reply from a loopback fake server, {args.repeat} interleaved rounds")
    print(f"({b.machine()}; {served} requests served)")
    print()
    walls = {name: [t.wall for t in runs] for name, runs in times.items()}
    cpus = {name: [t.cpu for t in runs] for name, runs in times.items()}
    print(f"{'command':<16} {'median':>11} {'IQR':>11} {'CPU median':>12}")
    for name, values in walls.items():
        print(f"{name:<16} {b.ms(b.median(values))} {b.ms(b.spread(values))} {b.ms(b.median(cpus[name]))}")
    bb, cu, py, rq = (b.median(walls[n]) for n in ("bufbridge", "curl -N", "python -c pass", "import requests"))
    bb_cpu, py_cpu, rq_cpu = (b.median(cpus[n]) for n in ("bufbridge", "python -c pass", "import requests"))
    print()
    print(f"bufbridge / curl            = {bb / cu:5.1f}x")
    print(f"bufbridge / python -c pass  = {bb / py:5.1f}x")
    print(f"bufbridge - python -c pass  = {b.ms(bb - py).strip()} (our own imports and work)")
    print(f"python -c 'import requests' / python -c pass = {rq / py:5.1f}x: the floor while requests sends the request")
    print(f"bufbridge - python -c 'import requests'      = {b.ms(bb - rq).strip()} (what bufbridge adds to that floor)")
    print(f"in CPU time: bufbridge / python -c pass = {bb_cpu / py_cpu:.1f}x, import requests / python -c pass = {rq_cpu / py_cpu:.1f}x")
    if other:
        print(f"against {args.against}: {b.median(walls['against']) / py:5.1f}x python -c pass "
              f"(CPU {b.median(cpus['against']) / py_cpu:.1f}x)")
    print()
    print(f"imports of a real run: {total / 1000:.1f} ms in total (python -X importtime, one run); slowest, cumulative:")
    for cumulative, own, depth, name in slowest:
        print(f"  {cumulative / 1000:7.1f} ms  {'  ' * min(depth, 4)}{name}")
    print("imports of a dry run (--debug), slowest:")
    for cumulative, own, depth, name in dry:
        print(f"  {cumulative / 1000:7.1f} ms  {'  ' * min(depth, 4)}{name}")


if __name__ == "__main__":
    main()
