"""What people read: the terminal table, the comparison of two runs, and the HTML report.

The terminal output is drawn by ``rich`` (imported here only, so the filter's
start-up never pays for it). The HTML report is one self-contained file: a
table and one small inline SVG bar chart per metric, no script, no network.
"""

import html
import io

from . import scoring

WIDTH = 120  # columns when the output is not a terminal


def _cell(value, fmt):
    return "–" if value is None else fmt.format(value)


def _columns(rows):
    """The metrics some row has a value for (FIM scores only when there were FIM tasks, and so on)."""
    return [m for m in scoring.METRICS if any(row[m[0]] is not None for row in rows)]


def table(rows, title, width=WIDTH, terminal=False):
    """The summary as text: one line per profile, the best value of each column in bold."""
    from rich import box
    from rich.table import Table

    columns = _columns(rows)
    t = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    t.add_column("profile", overflow="fold", min_width=min(24, max(len(row["profile"]) for row in rows)))
    t.add_column("tasks", justify="right")
    for _, heading, _, _ in columns:
        t.add_column(heading, justify="right")
    best = {key: _best(rows, key, higher) for key, _, _, higher in columns}
    for row in rows:
        cells = [escape(row["profile"]), str(row["tasks"])]
        for key, _, fmt, _ in columns:
            text = _cell(row[key], fmt)
            cells.append(f"[bold]{text}[/bold]" if len(rows) > 1 and row[key] is not None and row[key] == best[key] else text)
        t.add_row(*cells)
    return _render(t, width, terminal)


VERDICTS = (
    ("similarity", "closest to your code", "{:.2f}", True),
    ("passed", "most chat checks passed", "{:.0%}", True),
    ("ttft_ms", "first token soonest", "{:.0f} ms", False),
    ("tokens_per_s", "fastest", "{:.1f} tok/s", True),
)


def verdict(rows):
    """One line per headline metric: which profile did best, and against what (nothing for a single profile, or a tie)."""
    lines = []
    for key, words, fmt, higher in VERDICTS:
        ranked = sorted((row for row in rows if row[key] is not None), key=lambda row: row[key], reverse=higher)
        if len(ranked) < 2 or ranked[0][key] == ranked[1][key]:
            continue
        lines.append(f"{words}: {ranked[0]['profile']} ({fmt.format(ranked[0][key])}, against {fmt.format(ranked[1][key])} for {ranked[1]['profile']})")
    return lines


def _best(rows, key, higher):
    values = [row[key] for row in rows if row[key] is not None]
    if higher is None or not values:
        return None
    return max(values) if higher else min(values)


def _render(renderable, width, terminal=False):
    """``renderable`` as text ``width`` columns wide; with ``terminal``, with the escape sequences for bold and colour."""
    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, width=width, force_terminal=terminal, no_color=not terminal, highlight=False, emoji=False).print(renderable)
    return "\n".join(line.rstrip() for line in buffer.getvalue().split("\n"))


def escape(text):
    """``text`` safe inside rich markup (profile labels are the user's, task texts the model's)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def compare(rows_a, rows_b, name_a, name_b, width=WIDTH, terminal=False):
    """Two runs side by side: per profile and metric, the value in A, in B, and the change."""
    from rich import box
    from rich.table import Table

    matched = pairs(rows_a, rows_b)
    columns = _columns([*rows_a, *rows_b])
    t = Table(title=f"A: {name_a}   B: {name_b}", title_justify="left", box=box.SIMPLE_HEAD)
    for heading in ("profile", "metric", "A", "B", "B - A"):
        t.add_column(heading, justify="left" if heading in ("profile", "metric") else "right")
    for label, a, b in matched:
        for key, heading, fmt, higher in columns:
            if a[key] is None and b[key] is None:
                continue
            t.add_row(escape(label), heading, _cell(a[key], fmt), _cell(b[key], fmt), _change(a[key], b[key], fmt, higher))
        t.add_section()
    return _render(t, width, terminal)


def pairs(rows_a, rows_b):
    """(label, row in A, row in B) for the profiles in both runs; one profile each: those two, whatever their names."""
    if len(rows_a) == 1 and len(rows_b) == 1:
        a, b = rows_a[0], rows_b[0]
        label = a["profile"] if a["profile"] == b["profile"] else f"{a['profile']} → {b['profile']}"
        return [(label, a, b)]
    by_label = {row["profile"]: row for row in rows_b}
    return [(a["profile"], a, by_label[a["profile"]]) for a in rows_a if a["profile"] in by_label]


def _change(a, b, fmt, higher):
    if a is None or b is None:
        return "–"
    delta = b - a
    if fmt.endswith("%}"):
        text = f"{delta * 100:+.0f} pt"
    else:
        text = ("{:+" + fmt[2:]).format(delta)
    if higher is None or delta == 0:
        return text
    return text + ("  better" if (delta > 0) == higher else "  worse")


# --- HTML -------------------------------------------------------------------------

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:72em}
table{border-collapse:collapse;margin:1em 0}td,th{padding:.25em .7em;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:1.5em}
figure{margin:0}figcaption{font-weight:600;margin-bottom:.3em}.flag{color:#a40}pre{margin:0;text-align:left;white-space:pre-wrap}
"""
COLOURS = ("#3b6ea8", "#d08a2c", "#4f9a5a", "#b0465a", "#7a5aa6", "#5a8f95")


def html_report(runs, flags=(), results=()):
    """A self-contained HTML page for one run or more (``runs``: a list of (name, rows)); ``results``: each task's, listed at the end."""
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>bufbridge bench</title>",
             f"<style>{STYLE}</style></head><body><h1>bufbridge bench</h1>"]
    for name, rows in runs:
        parts.append(f"<h2>{html.escape(name)}</h2>{_html_table(rows)}")
    if flags:
        parts.append("<ul>" + "".join(f"<li class='flag'>{html.escape(f)}</li>" for f in flags) + "</ul>")
    bars = [(f"{name}: {row['profile']}" if len(runs) > 1 else row["profile"], row) for name, rows in runs for row in rows]
    charts = [chart(heading + ("" if higher is None else " (higher is better)" if higher else " (lower is better)"),
                    [(label, row[key]) for label, row in bars], fmt)
              for key, heading, fmt, higher in _columns([row for _, row in bars])]
    parts.append("<div class='charts'>" + "".join(charts) + "</div>")
    if results:
        parts.append(_html_results(results))
    parts.append("</body></html>\n")
    return "".join(parts)


def _html_results(results, shown=120):
    """Every result: the task, the profile, its scores, and the start of what came back (or the error)."""
    head = "".join(f"<th>{h}</th>" for h in ("task", "profile", "score", "cut", "ttft ms", "reply (start) or error"))
    rows = []
    for r in results:
        score = ("passed" if r.get("passed") else "failed") if r["kind"] == "chat" else _cell(r.get("similarity"), "{:.2f}")
        cut = "" if r["kind"] == "chat" else ("yes" if r.get("cut") else f"{r.get('lines_over', 0):+d} lines")
        text = r.get("error") or (r.get("got") or "")[:shown]
        cells = [r["task"], r["profile"], score, cut, _cell(r.get("ttft_ms"), "{:.0f}"), text]
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells[:-1]) + f"<td><pre>{html.escape(cells[-1])}</pre></td></tr>")
    return f"<details><summary>Every result ({len(rows)})</summary><table><tr>{head}</tr>{''.join(rows)}</table></details>"


def _html_table(rows):
    columns = _columns(rows)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in ["profile", "tasks", *[c[1] for c in columns]])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in
                                    [row["profile"], str(row["tasks"]), *[_cell(row[k], f) for k, _, f, _ in columns]]) + "</tr>"
                   for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def chart(title, values, fmt, width=360, bar=18):
    """A horizontal bar chart as an inline ``<svg>``: one bar per (label, value); a missing value gets no bar."""
    top = max((v for _, v in values if v is not None), default=0) or 1
    label_width, gap = 150, 6
    height = len(values) * (bar + gap) + gap
    items = []
    for i, (label, value) in enumerate(values):
        y = gap + i * (bar + gap)
        length = 0 if value is None else max(0.0, value) / top * (width - label_width - 60)
        colour = COLOURS[i % len(COLOURS)]
        items.append(
            f"<text x='{label_width - 6}' y='{y + bar - 5}' text-anchor='end' font-size='12'>{html.escape(_short(label))}</text>"
            f"<rect x='{label_width}' y='{y}' width='{length:.1f}' height='{bar}' fill='{colour}'><title>{html.escape(label)}</title></rect>"
            f"<text x='{label_width + length + 4:.1f}' y='{y + bar - 5}' font-size='12'>{html.escape(_cell(value, fmt))}</text>")
    svg = (f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' viewBox='0 0 {width} {height}' "
           f"role='img' aria-label='{html.escape(title, quote=True)}'>{''.join(items)}</svg>")
    return f"<figure><figcaption>{html.escape(title)}</figcaption>{svg}</figure>"


def _short(label, limit=22):
    return label if len(label) <= limit else label[: limit - 1] + "…"
