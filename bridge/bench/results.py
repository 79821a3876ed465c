"""The JSON result file of a bench run: written after every finished task, read back to resume or compare.

The file holds the run's settings, its tasks (without the files' text), the
profiles and one result per (profile, task). It is replaced atomically after
each result, so Ctrl-C (or a crash) loses at most the request in flight, and
running the same command again asks only what is missing.
"""

import datetime
import json
import os
import tempfile

from .. import __version__, jsonsafe
from ..errors import BridgeError

FORMAT = 1
MAX_BYTES = 64 << 20


class Store:
    """A run's results, kept in the file at ``path``."""

    def __init__(self, path, settings, tasks, profiles, results=(), started=None):
        self.path, self.settings, self.tasks, self.profiles = path, settings, list(tasks), list(profiles)
        self.results = {(r["profile"], r["task"]): r for r in results}
        self.started = started or datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")

    @classmethod
    def open(cls, path, settings, tasks, profiles, *, fresh=False):
        """The store for a run: the results already in ``path`` when it holds a run with the same settings and tasks."""
        if fresh or not os.path.exists(path):
            return cls(path, settings, tasks, profiles)
        data = load(path)
        if data["settings"] != settings or [t["id"] for t in data["tasks"]] != [t["id"] for t in tasks]:
            raise BridgeError(f"bench: {path} holds a run with other settings or files",
                              hint="give another --out FILE, or --fresh to start this file over")
        profiles = list(dict.fromkeys([*data["profiles"], *profiles]))
        return cls(path, settings, tasks, profiles, data["results"], data.get("started"))

    def done(self, profile, task_id):
        return (profile, task_id) in self.results

    def add(self, result):
        self.results[(result["profile"], result["task"])] = result
        self.save()

    def data(self):
        return {
            "bufbridge_bench": FORMAT,
            "version": __version__,
            "started": self.started,
            "settings": self.settings,
            "profiles": self.profiles,
            "tasks": self.tasks,
            "results": list(self.results.values()),
        }

    def save(self):
        folder = os.path.dirname(os.path.abspath(self.path))
        text = json.dumps(self.data(), ensure_ascii=False, indent=1) + "\n"
        try:
            fd, temporary = tempfile.mkstemp(prefix=".bench-", suffix=".json", dir=folder)
        except OSError as err:
            raise BridgeError(f"bench: cannot write {self.path}: {err.strerror}", hint="give another --out FILE") from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(temporary, self.path)
        except BaseException as err:  # Ctrl-C included: the old file stays whole, no temporary file is left
            os.unlink(temporary)
            if isinstance(err, OSError):
                raise BridgeError(f"bench: cannot write {self.path}: {err.strerror}", hint="give another --out FILE") from None
            raise


def load(path):
    """A result file's data, checked for the shape this module writes; a clear one-line error otherwise."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as err:
        raise BridgeError(f"bench: cannot read {path}: {err.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise BridgeError(f"bench: {path} is larger than {MAX_BYTES >> 20} MiB: not a result file")
    try:
        data = jsonsafe.loads(raw.decode("utf-8", errors="replace"))
    except jsonsafe.JSONError as err:
        raise BridgeError(f"bench: {path} is not JSON ({err.reason})", hint="give a file written by bufbridge bench") from None
    if not _valid(data):
        raise BridgeError(f"bench: {path} is not a bufbridge bench result file (format {FORMAT})", hint="give a file written by bufbridge bench")
    data["results"] = [_clean(r) for r in data["results"]]
    return data


NUMBERS = ("similarity", "ttft_ms", "tokens_per_s", "context", "generated", "kept", "lines_over")
FLAGS = ("exact", "first_line", "cut", "passed")
TEXTS = ("error", "model", "finish", "stop", "got", "check_output", "context_from")
LISTS = ("notes", "truncated")


def _clean(result):
    """A result with every field this package reads present and of its type (a hand-edited file cannot break a summary)."""
    clean = {key: result[key] for key in ("profile", "task", "kind")}
    for key in NUMBERS:
        value = result.get(key)
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        clean[key] = value if ok else (0 if key in ("generated", "kept", "lines_over") else None)
    for key in FLAGS:
        clean[key] = result.get(key) is True
    for key in TEXTS:
        clean[key] = result[key] if isinstance(result.get(key), str) else None
    for key in LISTS:
        value = result.get(key)
        clean[key] = [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
    if clean["kind"] != "chat" and clean["similarity"] is None:
        clean["similarity"] = 0.0
    return clean


def _valid(data):
    if not isinstance(data, dict) or data.get("bufbridge_bench") != FORMAT:
        return False
    lists = [data.get(key) for key in ("profiles", "tasks", "results")]
    if not all(isinstance(value, list) for value in lists) or not isinstance(data.get("settings"), dict):
        return False
    profiles, tasks, results = lists
    return (all(isinstance(p, str) for p in profiles)
            and all(isinstance(t, dict) and isinstance(t.get("id"), str) and isinstance(t.get("kind"), str) for t in tasks)
            and all(isinstance(r, dict) and isinstance(r.get("profile"), str) and isinstance(r.get("task"), str)
                    and isinstance(r.get("kind"), str) for r in results))
