"""Shared pieces of the benchmarks: the fake server, the commands compared, timing and printing.

Not a test module (nothing here is collected by pytest). The scripts print numbers; they assert nothing.
"""

import atexit
import compileall
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # this checkout's bridge (timed in-process too) and tests/fakeserver.py

import fakeserver  # noqa: E402  (tests/fakeserver.py)


def python():
    """The interpreter bufbridge runs on: the dev virtualenv's when there is one."""
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def bufbridge():
    """The installed console script of that interpreter, else ``python -m bridge``."""
    script = Path(python()).parent / "bufbridge"
    if script.exists():
        return [str(script)]
    return [python(), "-m", "bridge"]


def curl():
    path = shutil.which("curl")
    if not path:
        sys.exit("curl is not installed: the benchmarks use it as their baseline")
    return path


def clean_env():
    """No proxies, no user profile, a throw-away configuration folder; this checkout's ``bridge``, compiled.

    The console script of another checkout's virtualenv would import that
    checkout's package: ``PYTHONPATH`` makes it import the one being measured.
    Its bytecode is compiled first, as installing a wheel does, so no run pays
    for compiling it (``PYTHONDONTWRITEBYTECODE`` would otherwise make every run
    compile every module again).
    """
    compileall.compile_dir(str(ROOT / "bridge"), quiet=1)
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    for name in ("BUFBRIDGE_PROFILE", "ILLUME_PROFILE", "BUFBRIDGE_DEBUG"):
        env.pop(name, None)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env["NO_PROXY"] = "*"
    env["BUFBRIDGE_CONFIG_DIR"] = config = tempfile.mkdtemp(prefix="bufbridge-bench-")
    atexit.register(shutil.rmtree, config, ignore_errors=True)
    return env


def against(env, checkout):
    """The environment that runs another checkout's ``bridge`` (e.g. ``git worktree add /tmp/before HEAD~3``), compiled."""
    checkout = Path(checkout).resolve()
    if not (checkout / "bridge" / "__init__.py").is_file():
        sys.exit(f"--against {checkout}: no bridge package there")
    compileall.compile_dir(str(checkout / "bridge"), quiet=1)
    return dict(env, PYTHONPATH=str(checkout))


AGAINST_HELP = "also time another checkout's bufbridge, interleaved in the same rounds (e.g. a worktree of an older commit)"


class Request:
    """The request bufbridge sends for ``buffer``, as ``--debug`` prints it, so curl can send the very same."""

    def __init__(self, buffer, env):
        out = subprocess.run(bufbridge() + ["--debug"], input=buffer.encode(), capture_output=True, env=env, check=True).stdout
        head, _, rest = out[2:].partition(b"\n\n")
        request_line, *headers = head.decode().split("\n")
        self.url = request_line.split(" ")[1]
        self.headers = headers
        self.body = rest.split(b"\n", 1)[0]
        self.body_file = tempfile.NamedTemporaryFile(prefix="bufbridge-bench-", suffix=".json", delete=False)
        self.body_file.write(self.body)
        self.body_file.close()

    def curl_command(self):
        command = [curl(), "-sS", "-N", "-X", "POST", self.url, "--data-binary", "@" + self.body_file.name,
                   "-H", "Expect:", "-o", "/dev/null"]
        for header in self.headers:
            command += ["-H", header]
        return command

    def remove(self):
        os.unlink(self.body_file.name)


class Timed(NamedTuple):
    """One run: wall seconds, and CPU seconds (user + system) of the command and its children."""

    wall: float
    cpu: float


def timed(command, *, stdin=b"", env=None):
    """The Timed run of ``command`` from start to exit, stdout discarded; raises if it fails.

    On a busy machine the wall time also counts waiting for a CPU; the CPU
    time is what the command itself spent, and varies much less.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({result.returncode}): {result.stderr.decode(errors='replace')[-500:]}")
    return Timed(elapsed, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)


def interleaved(runs, repeat):
    """Run each (name, thunk) in turn, ``repeat`` rounds, rotating the order; return {name: [seconds]}."""
    times = {name: [] for name, _ in runs}
    for i in range(repeat):
        for name, thunk in runs[i % len(runs):] + runs[:i % len(runs)]:
            times[name].append(thunk())
    return times


def median(values):
    return statistics.median(values)


def percentile(values, p):
    """The ``p``-th percentile of ``values``: the nearest rank, no interpolation."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def spread(values):
    """Inter-quartile range, to show how noisy the machine was."""
    if len(values) < 4:
        return max(values) - min(values)
    q = statistics.quantiles(values, n=4)
    return q[2] - q[0]


def ms(seconds):
    return f"{seconds * 1000:8.1f} ms"


def machine():
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    version = subprocess.run([python(), "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True).stdout.strip()
    return f"python {version}, {os.cpu_count()} CPUs, load average {load:.2f}"
