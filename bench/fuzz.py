"""A long fuzz run of the whole filter: hostile buffers, cursor infills and server streams through ``bridge.cli.main``.

    python bench/fuzz.py                         # 100,000 cases, seed 0
    python bench/fuzz.py --cases 20000 --seed 7  # another stretch of the same space
    python bench/fuzz.py --kind cursor           # only one kind: buffer, stream or cursor
    python bench/fuzz.py --show 3                # print up to 3 reproducers per crash site

The cases come from ``tests/property/hostile.py``, the same generator the
property tests in ``tests/property/`` draw from (there through Hypothesis,
here from ``random.Random(seed)``: case N of a seed is always the same case),
and each is judged by the same rules (``tests/property/harness.py``). Every
case runs in-process in a sandbox folder with its own configuration folder;
the server's answer comes from the case itself, so nothing reaches a network.

It prints how many cases ended in each outcome (exit 0, a clear error, a
usage error, or a broken promise) and, for every broken promise, its site:
the exception type and the innermost ``bridge/`` file:line (found by rerunning
the case with ``BUFBRIDGE_DEBUG=1``), how often it happened, and the first
case that hit it. Nothing is hidden: the exit status is 1 when any case broke
the promise.
"""

import argparse
import collections
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "property")]

import harness  # noqa: E402  (tests/property/harness.py)
import hostile  # noqa: E402  (tests/property/hostile.py)


def options():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=100_000, help="how many cases (default 100000)")
    p.add_argument("--seed", type=int, default=0, help="case N of a seed is always the same case (default 0)")
    p.add_argument("--kind", choices=sorted(hostile.KINDS), help="only cases of this kind")
    p.add_argument("--cpu-limit", type=float, default=2.0, help="CPU seconds a case may take before it counts as too slow (default 2)")
    p.add_argument("--wall-limit", type=float, default=60.0, help="wall seconds after which a case is stopped (default 60)")
    p.add_argument("--show", type=int, default=1, help="reproducers printed per crash site (default 1)")
    p.add_argument("--replay", type=int, metavar="N", help="run only case N of the seed and print what it did (with the traceback of a bug)")
    return p.parse_args()


def generate(seed, number, kind):
    rng = random.Random(f"{seed}:{number}")
    return hostile.KINDS[kind](rng) if kind else hostile.any_case(rng)


def outcome(result, problems):
    if problems:
        return "BROKEN PROMISE"
    if result.status == 0:
        return "exit 0"
    return "exit 1, one clear error line" if result.status == 1 else "exit 2, usage error"


def main():
    args = options()
    counts = collections.Counter()
    kinds = collections.Counter()
    sites = {}  # site -> [count, [(number, case, problems), ...] up to --show]
    slowest = (0.0, None)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bufbridge-fuzz-") as folder:
        env = hostile.environment(hostile.sandbox(folder))
        os.chdir(folder)
        if args.replay is not None:
            return replay(args, env)
        for number in range(args.cases):
            case = generate(args.seed, number, args.kind)
            result = harness.run(case, env, wall=args.wall_limit)
            problems = harness.violations(case, result, cpu_limit=args.cpu_limit)
            counts[outcome(result, problems)] += 1
            kinds[case.kind] += 1
            if result.seconds > slowest[0]:
                slowest = (result.seconds, number)
            if problems:
                hits = sites.setdefault(harness.site_of(case, result, env, problems), [0, []])
                hits[0] += 1
                if len(hits[1]) < args.show:
                    hits[1].append((number, case, problems))
            if (number + 1) % 10_000 == 0:
                print(f"... {number + 1} cases, {len(sites)} sites so far, {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
        os.chdir(ROOT)
    report(args, counts, kinds, sites, slowest, time.monotonic() - started)
    return 1 if sites else 0


def replay(args, env):
    case = generate(args.seed, args.replay, args.kind)
    result = harness.run(case, env, wall=args.wall_limit)
    problems = harness.violations(case, result, cpu_limit=args.cpu_limit)
    print(f"case {args.replay} ({case.kind}): exit {result.status}, {result.seconds:.2f} s CPU")
    print(harness.describe(case, result, env, problems) if problems else "kept the promise")
    print(f"stdout: {result.stdout[-2000:]!r}\nstderr: {result.stderr[-2000:]!r}")
    os.chdir(ROOT)
    return 1 if problems else 0


def report(args, counts, kinds, sites, slowest, seconds):
    print(f"bufbridge fuzz: {args.cases} cases (seed {args.seed}{', kind ' + args.kind if args.kind else ''}) in {seconds:.0f} s")
    print("kinds: " + ", ".join(f"{name} {n}" for name, n in sorted(kinds.items())))
    for name, n in counts.most_common():
        print(f"  {n:>8}  {name}")
    print(f"slowest case: {slowest[0]:.2f} s CPU (case {slowest[1]})")
    if not sites:
        print("no broken promise")
        return
    print(f"\n{len(sites)} distinct sites:")
    for site, (count, examples) in sorted(sites.items(), key=lambda item: -item[1][0]):
        print(f"\n{count:>6}x  {site}")
        for number, case, problems in examples:
            print(f"        case {number} ({case.kind}; rerun: --seed {args.seed} --replay {number}{' --kind ' + args.kind if args.kind else ''}): {problems[0][:200]}")
            print(f"        argv={case.argv!r}"[:400])
            print(f"        stdin={case.stdin[:300]!r}")
            if case.chunks is not None and case.kind != "buffer":
                print(f"        status={case.status} stream={b''.join(case.chunks)[:300]!r}")


if __name__ == "__main__":
    sys.exit(main())
