"""Scores of one completion against the original text, and the per-profile summary of many.

Texts are compared as the ``trim`` stop heuristic leaves a completion:
trailing whitespace on each line and trailing blank lines do not count.

* ``exact``: the completion is the original text.
* ``first_line``: its first line is the original's first line.
* ``similarity``: 1 - Levenshtein distance / length of the longer text.
* ``cut``: it has as many lines as the original, i.e. the completion was cut
  where the original code ended (whatever its content); ``lines_over`` says
  by how many lines it ran over (negative: stopped short).
"""

import statistics

CHECKED_CHARS = 2000  # texts are compared on their first CHECKED_CHARS characters: the distance is quadratic
OUTPUT_TRUNCATION = frozenset({"length", "max_tokens", "limit", "model_length"})  # finish reasons that mean "ran out of tokens"


def normal(text):
    """``text`` as the trim heuristic leaves it."""
    return "\n".join(line.rstrip() for line in text.split("\n")).rstrip("\n")


def distance(a, b):
    """The Levenshtein distance between ``a`` and ``b`` (insertions, deletions, substitutions)."""
    if len(a) < len(b):
        a, b = b, a
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


def similarity(a, b):
    """1.0 for equal texts, 0.0 for texts with nothing in common (or one empty, the other not)."""
    a, b = a[:CHECKED_CHARS], b[:CHECKED_CHARS]
    longest = max(len(a), len(b))
    return 1.0 if not longest else 1.0 - distance(a, b) / longest


def score_fim(expected, got):
    """The scores of completion ``got`` for a hole whose original text is ``expected``."""
    want, have = normal(expected), normal(got)
    over = (have.count("\n") + 1 if have else 0) - (want.count("\n") + 1)
    return {
        "exact": want == have,
        "first_line": want.split("\n", 1)[0] == have.split("\n", 1)[0],
        "similarity": round(similarity(want, have), 4),
        "cut": over == 0,
        "lines_over": over,
    }


def failed():
    """The scores of a task whose request failed: zero."""
    return {"exact": False, "first_line": False, "similarity": 0.0, "cut": False, "lines_over": 0}


def truncations(finish_reason, notes):
    """What was truncated: "output" when the server ran out of tokens, "prompt" when a note says the prompt was cut.

    The one place that reads truncation: a backend that reports it in its own
    words adds a note that mentions "truncated" (and "prompt" for the prompt).
    """
    found = []
    if finish_reason in OUTPUT_TRUNCATION:
        found.append("output")
    for note in notes:
        if "truncat" in note.lower():
            kind = "prompt" if "prompt" in note.lower() else "output"
            if kind not in found:
                found.append(kind)
    return found


def prompt_tokens(usage, timings):
    """The context the prompt used, as the server counts it (None when it did not say)."""
    for key in ("prompt_tokens", "input_tokens"):
        value = usage.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    n = timings.get("prompt_n")
    if isinstance(n, int) and not isinstance(n, bool):
        cached = timings.get("cache_n")
        return n + (cached if isinstance(cached, int) and not isinstance(cached, bool) else 0)
    return None


# --- the summary --------------------------------------------------------------------

# (key, heading, format, higher is better): the columns of the summary, in order.
METRICS = (
    ("exact", "exact", "{:.0%}", True),
    ("first_line", "line 1", "{:.0%}", True),
    ("similarity", "similar", "{:.2f}", True),
    ("cut", "cut ok", "{:.0%}", True),
    ("passed", "chat ok", "{:.0%}", True),
    ("kept_share", "kept", "{:.0%}", True),
    ("ttft_ms", "ttft ms", "{:.0f}", False),
    ("tokens_per_s", "tok/s", "{:.1f}", True),
    ("context", "ctx", "{:.0f}", None),
    ("errors", "errors", "{:.0f}", False),
    ("truncated", "trunc", "{:.0f}", False),
)


def summarise(results, profiles):
    """One row per profile label (in ``profiles`` order): means of the scores, medians of the timings, counts of problems."""
    return [_row(label, [r for r in results if r["profile"] == label]) for label in profiles]


def _row(label, results):
    fim = [r for r in results if r["kind"] != "chat"]
    chat = [r for r in results if r["kind"] == "chat"]
    ok = [r for r in results if not r.get("error")]
    generated = sum(r["generated"] for r in fim)
    row = {
        "profile": label,
        "tasks": len(results),
        "fim": len(fim),
        "chat": len(chat),
        "exact": _mean(r["exact"] for r in fim),
        "first_line": _mean(r["first_line"] for r in fim),
        "similarity": _mean(r["similarity"] for r in fim),
        "cut": _mean(r["cut"] for r in fim),
        "passed": _mean(r["passed"] for r in chat),
        "generated": generated,
        "kept": sum(r["kept"] for r in fim),
        "kept_share": sum(r["kept"] for r in fim) / generated if generated else None,
        "ttft_ms": _median(r["ttft_ms"] for r in ok),
        "tokens_per_s": _median(r["tokens_per_s"] for r in ok),
        "context": _median(r["context"] for r in ok),
        "errors": sum(1 for r in results if r.get("error")),
        "truncated": sum(1 for r in results if r.get("truncated")),
        "models": sorted({r["model"] for r in results if r.get("model")}),
    }
    return row


def _mean(values):
    values = [float(v) for v in values]
    return sum(values) / len(values) if values else None


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def flags(rows, gap=0.2):
    """Warnings for profiles that fall far (``gap``) below another profile serving the same model, or that fail or truncate."""
    found = []
    for row in rows:
        if row["errors"]:
            found.append(f"{row['profile']}: {row['errors']} of {row['tasks']} requests failed")
        if row["truncated"]:
            found.append(f"{row['profile']}: {row['truncated']} of {row['tasks']} replies were truncated")
        for other in rows:
            shared = set(row["models"]) & set(other["models"])
            if other is row or not shared:
                continue
            for key in ("similarity", "passed"):
                mine, theirs = row[key], other[key]
                if mine is not None and theirs is not None and theirs - mine >= gap:
                    found.append(f"{row['profile']}: {key} {mine:.2f} against {theirs:.2f} for {other['profile']}, "
                                 f"which serves the same model ({', '.join(sorted(shared))}): check its template, quantization, context size and server")
    return found
