"""The FIM stop heuristics and the streaming text filter: same answers as their specification, in time linear in the text.

``stops.py`` once recognised definitions with one regular expression whose
adjacent repeats overlap; a 3,000-character line of ``*`` took about 48 s of
CPU per infill. The old expressions are kept here as the specification the
linear code must agree with, on short lines where they are fast.
"""

import re
import time

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bridge import fim, stops
from bridge.textfilter import Replacer
from budget import examples

_CONTROL = r"(?:if|for|while|switch|return|else|do|case|sizeof|new|delete|throw|catch|await|yield|elif|with|assert|print)\b"
SPEC_DEFINITION = re.compile(
    r"""^\s*(?:
        (?:async\s+)?def\s+\w
      | class\s+\w
      | @\w
      | func\s
      | (?:export\s+)?(?:default\s+)?(?:async\s+)?function\b
      | (?:export\s+)?(?:const|let|var)\s+\w+\s*=\s*(?:async\s*)?(?:\([^)]*\)|\w+)\s*=>
      | (?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?(?:unsafe\s+)?fn\s+\w
      | (?:pub\s+)?(?:impl|trait|struct|enum|interface|type)\b[^=;]*[{:]?\s*$
      | (?!""" + _CONTROL + r""")[A-Za-z_][\w:<>,*&\s]*[\s*&]+\**[A-Za-z_][\w:]*\s*\([^;]*$
    )""",
    re.VERBOSE,
)
SPEC_ONE_LINER = re.compile(r"^\s*(?:async\s+)?def\b.*\)\s*(?:->[^:]*)?:\s*[^\s#]")

TOKENS = ["def", "async", "class", "int", "if", "for", "return", "type", "struct", "impl", "pub", "fn", "pub(crate)", "const", "let",
          "function", "export", "default", "func", "x", "f", "_a", "A::b", "9", "é", "->", "=>", "@"]
line_parts = st.lists(st.sampled_from(TOKENS) | st.sampled_from(list(" \t*&:<>,();={}#a1_é\u00a0")), max_size=10)


@settings(max_examples=examples(1000))
@given(line_parts)
@example(["int", " ", "*", "f", "("])
@example(["def", " ", "f", "(", ")", " ", "->", " ", "x", ":", " ", "1"])
@example(["def", " ", "f", "(", ")", ":", " ", "#"])
@example(["type", " ", "A", " ", "=", " ", "1"])
@example(["if", " ", "x", "("])
def test_definitions_are_recognised_as_the_specification_says(parts):
    line = "".join(parts)
    assert stops.is_definition(line) == bool(SPEC_DEFINITION.match(line))
    text = line.rstrip()
    assert stops.has_body(line) == (text.endswith((";", "}")) or bool(SPEC_ONE_LINER.match(text)))


def spec_scan_brackets(line, markers, in_block=False):
    """The bracket scanner as first written: one character at a time."""
    found, quote, i = [], None, 0
    while i < len(line):
        ch = line[i]
        if in_block:
            if line.startswith("*/", i):
                in_block, i = False, i + 2
                continue
        elif quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = None
        elif any(line.startswith(m, i) for m in markers):
            break
        elif line.startswith("/*", i) and "//" in markers:
            in_block, i = True, i + 2
            continue
        elif ch in "\"'`":
            quote = ch
        elif ch in stops.OPENERS or ch in stops.CLOSERS:
            found.append((i, ch))
        i += 1
    return found, in_block


@settings(max_examples=examples(1000))
@given(st.text(st.sampled_from(list("()[]{}\"'`\\/*#-;ab ")), max_size=40), st.sampled_from(sorted(set(stops.COMMENTS.values())) + [("#", "//")]), st.booleans())
@example("a /* ( */ )", ("//",), False)
@example('"\\" (', ("#",), False)
def test_brackets_are_found_as_the_specification_says(line, markers, in_block):
    assert stops.scan_brackets(line, markers, in_block) == spec_scan_brackets(line, markers, in_block)


def cpu(function, *args):
    started = time.process_time()
    function(*args)
    return time.process_time() - started


# lines that made the old expressions backtrack: each is checked at 20,000 characters, where cubic time means hours
HOSTILE_LINES = ["a" + "*" * 20_000, "int" + " *" * 10_000 + "(", "def f" + ")->" * 7_000, "def f():" * 2_500,
                 " " * 20_000 + "x", "type" + " " * 20_000 + "=", "a " * 10_000, "const a = " + "(" * 20_000]


def test_definition_checks_take_linear_time():
    for line in HOSTILE_LINES:
        assert cpu(stops.is_definition, line) + cpu(stops.has_body, line) < 1.0, line[:20]


def filter_for(marked, filename="x.c", **rules):
    before, _, after = marked.partition("█")
    line = before.count("\n") + 1
    col = len(before.rsplit("\n", 1)[-1].encode()) + 1
    return stops.StopFilter(fim.split(before + after, line, col, filename), stops.Rules(**rules), clock=lambda: 0.0)


def test_an_empty_completion_inserts_nothing():
    """The server's "nothing to insert": no text ever arrives, and finish() must not compute a time with no start."""
    assert filter_for("def f():\n    █\n", "x.py").finish() == ""
    f = filter_for("def f():\n    █\n", "x.py")
    assert f.feed("") == ("", False)
    assert f.finish() == ""


def test_brackets_open_before_and_closed_after_the_cursor_take_linear_time():
    src = "(" * 20_000 + "\n" + "█\n" + ")" * 20_000 + "\n" + ("}\n" * 5_000)
    started = time.process_time()
    f = filter_for(src, **{"enabled": frozenset(stops.NAMES) - {"max-lines"}})
    for _ in range(2_000):
        f.feed(")\n")
    assert time.process_time() - started < 3.0


def test_a_long_line_in_small_pieces_takes_linear_time():
    f = filter_for("x = █\n", **{"enabled": frozenset(stops.NAMES) - {"max-lines"}})
    started = time.process_time()
    for _ in range(20_000):  # a 5 MB line: copying it at every piece would move 50 GB
        f.feed("ab" * 125)
    f.feed("\n" * 50_000)
    assert time.process_time() - started < 3.0


completion_lines = st.lists(st.sampled_from(["    return x", "", "}", "def g():", "int f(void) {", "  // c", "x = (", "))", "\t", "*" * 50, "return 1<E>x"]), max_size=12)


@settings(max_examples=examples(300))
@given(completion_lines, st.lists(st.integers(1, 9), min_size=1, max_size=30), st.sampled_from(["def f():\n    █\n\ndef h():\n    pass\n", "int f() {\n  █\n}\n", "x = (█)\n"]))
def test_the_stop_filter_does_not_depend_on_how_the_text_is_split(lines, sizes, src):
    text = "\n".join(lines)
    rules = {"stop": ("<E>",), "enabled": frozenset(stops.NAMES) - {"max-time"}}

    def run(pieces):
        f, out = filter_for(src, "x.c", **rules), []
        for piece in pieces:
            written, done = f.feed(piece)
            out.append(written)
            if done:
                return "".join(out), f.reason
        return "".join(out) + f.finish(), f.reason

    pieces, at = [], 0
    for size in sizes * (len(text) // max(1, sum(sizes)) + 1):
        pieces.append(text[at:at + size])
        at += size
    assert run(pieces) == run([text])


def naive_replace(mapping, chunks):
    """The specification: replace in the whole text at once, longest pattern first, left to right."""
    data, out, i = "".join(chunks), [], 0
    while i < len(data):
        hit = max((p for p in mapping if data.startswith(p, i)), key=len, default="")
        out.append(mapping[hit] if hit else data[i])
        i += len(hit) or 1
    return "".join(out)


@settings(max_examples=examples(500))
@given(st.lists(st.sampled_from(["<|end|>", "<|", "end", "|>", "<|start|>assistant", "x", "<|return|>", "<|channel|>final<|message|>", "<"]), max_size=20), st.data())
def test_the_harmony_filter_replaces_across_any_split(parts, data):
    from bridge import harmony

    text = "".join(parts)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=6)))
    chunks = [text[a:b] for a, b in zip([0] + cuts, cuts + [len(text)])]
    replacer = Replacer(harmony.MAPPING)
    got = "".join(replacer.feed(c) for c in chunks) + replacer.flush()
    assert got == naive_replace(harmony.MAPPING, chunks)


def test_the_harmony_filter_takes_linear_time():
    from bridge import harmony

    started = time.process_time()
    replacer = Replacer(harmony.MAPPING)
    replacer.feed("x" * 1_000_000)
    replacer.feed("<|end|>" * 100_000)
    replacer.flush()
    assert time.process_time() - started < 3.0
