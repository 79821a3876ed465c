"""The streaming stop heuristics, one by one, with every other heuristic off where that isolates them."""

from dataclasses import replace

import pytest

from bridge import fim, stops
from bridge.errors import BridgeError

ALL = frozenset(stops.NAMES)
CURSOR = "█"


def context(marked, filename="x.py"):
    before, _, after = marked.partition(CURSOR)
    line = before.count("\n") + 1
    col = len(before.rsplit("\n", 1)[-1].encode()) + 1
    return fim.split(before + after, line, col, filename)


def run(marked, text, *, only=None, off=(), pieces=None, filename="x.py", **params):
    """(written text, reason, done by the filter) for ``text`` streamed in ``pieces`` (default: one character at a time)."""
    enabled = (frozenset(only) | {"trim", "drop-empty"}) if only is not None else ALL
    rules = stops.Rules(enabled - set(off), **params)
    f = stops.StopFilter(context(marked, filename), rules, clock=lambda: 0.0)
    out = []
    for piece in (pieces if pieces is not None else list(text)):
        written, done = f.feed(piece)
        out.append(written)
        if done:
            return "".join(out), f.reason, True
    out.append(f.finish())
    return "".join(out), f.reason, False


NORM2 = "import math\n\n\ndef norm(v):\n    return math.sqrt(sum(x * x for x in v))\n\n\ndef norm2(v):\n    █\n"
RUNAWAY = "return sum(x * x for x in v)\n\n\ndef norm3(v):\n    return max(abs(x) for x in v)\n\n\ndef norm4(v):\n    return 0\n"


# --- stop strings ------------------------------------------------------------


@pytest.mark.parametrize("pieces", [
    ["return 1<|file_sep|>more"],
    ["return 1<|fi", "le_sep|>more"],
    ["return 1<", "|", "file", "_", "sep", "|", ">more"],
    list("return 1<|file_sep|>more"),
])
def test_stop_string_is_found_across_chunk_boundaries(pieces):
    assert run("def f():\n    █", "", only=["stop-strings"], stop=("<|file_sep|>",), pieces=pieces) == ("return 1", "stop-strings", True)


def test_a_partial_stop_string_at_the_end_is_text():
    assert run("x = █", "", only=["stop-strings"], stop=("<|endoftext|>",), pieces=["1 <|end"]) == ("1 <|end", None, False)


def test_stop_strings_off():
    out, _, _ = run("x = █", "1<EOT>2", only=[], stop=())
    assert out == "1<EOT>2"


def test_stop_string_with_fullwidth_characters():
    eos = "<｜end▁of▁sentence｜>"
    assert run("x = █", "1" + eos + "2", only=["stop-strings"], stop=(eos,))[0] == "1"


# --- suffix repeat -------------------------------------------------------------


def test_the_issue_norm3_is_cut():
    assert run(NORM2, RUNAWAY)[0] == "return sum(x * x for x in v)"


def test_repeating_the_next_line_is_cut():
    src = "def f(xs):\n    for x in xs:\n        █\n    return total\n"
    assert run(src, "total += x\n    return total\nprint(1)\n", only=["suffix-repeat"])[:2] == ("total += x", "suffix-repeat")


def test_a_suggestion_that_only_repeats_the_suffix_is_dropped():
    src = "def area(r):\n    █\n    return 3 * r * r\n"
    assert run(src, "return 3 * r * r\n\ndef g():\n", only=["suffix-repeat"])[:2] == ("", "suffix-repeat")


def test_mid_line_the_rest_of_the_line_is_not_written_twice():
    assert run("y = max(█)\n", "a, b)\nz = 1\n", only=["suffix-repeat"])[:2] == ("a, b", "suffix-repeat")


def test_only_the_rest_of_the_line_gives_nothing():
    assert run('print("hi█")\n', '")\n', only=["suffix-repeat"])[0] == ""


def test_suffix_repeat_off_keeps_the_repeat():
    src = "def f(xs):\n    for x in xs:\n        █\n    return total\n"
    assert run(src, "total += x\n    return total", only=[])[0] == "total += x\n    return total"


def test_the_same_line_at_another_indentation_is_not_a_repeat():
    src = "void f() {\n    if (a) {\n        █\n    }\n}\n"
    text = "for (;;) {\n            x();\n        }"
    assert run(src, text, only=["suffix-repeat"], filename="x.c")[0] == text


# --- dedent -------------------------------------------------------------------


def test_dedent_below_the_cursor_block_is_cut():
    src = "def f():\n    █"
    assert run(src, "a = 1\n    b = 2\nc = 3\n", only=["dedent"])[:2] == ("a = 1\n    b = 2", "dedent")


def test_dedent_off():
    src = "def f():\n    █"
    assert run(src, "a = 1\nc = 3", only=[])[0] == "a = 1\nc = 3"


def test_at_column_0_the_first_line_sets_the_block():
    src = "def f():\n    x = 1\n█"
    assert run(src, "    return x\n\nprint(f())\n", only=["dedent"])[0] == "    return x"


def test_at_column_0_a_top_level_first_line_cuts_nothing_by_dedent():
    src = "x = 1\n█"
    assert run(src, "y = 2\nz = 3", only=["dedent"])[0] == "y = 2\nz = 3"


def test_inner_blocks_survive_dedent_back_to_the_cursor_level():
    src = "def fizz(n):\n    █"
    text = "for i in range(n):\n        if i % 3 == 0:\n            print('Fizz')\n        else:\n            print(i)\n    return n"
    assert run(src, text + "\n\nfizz(3)\n", only=["dedent"])[0] == text


def test_a_closing_brace_for_a_block_the_suffix_leaves_open_is_kept():
    src = "int f(int x)\n{\n    if (x) {\n        █\n    return x;\n}\n"
    assert run(src, "x = 0;\n    }\n    y();\n", only=["dedent"], filename="f.c")[0] == "x = 0;\n    }\n    y();"


def test_a_closing_brace_the_suffix_already_has_is_cut():
    src = "int f(int x)\n{\n    █\n}\n"
    assert run(src, "return x;\n}\n\nint g(void)\n", only=["dedent"], filename="f.c")[0] == "return x;"


# the cursor on an empty line inside a body: lines at the definition's level after it are cut
EMPTY_LINE_IN_BODY = [
    # (what, source, model text, kept, filename)
    ("py, column 1, the body goes on below", "def f(x):\n    y = x + 1\n█\n    return y\n",
     "print(f(2))\nx = 3\n", "", "x.py"),
    ("py, column 1, a body line then top-level code", "def f(x):\n    y = x + 1\n█\n    return y\n",
     "    z = y\nprint(f(2))\n", "    z = y", "x.py"),
    ("py, indentation typed, a blank line then a new function", "def f(x):\n    █\n",
     "\n\ndef g():\n    return 1\n", "", "x.py"),
    ("py, between methods: the class body goes on below", "class A:\n    def f(self):\n        return 1\n█\n    def g(self):\n        return 2\n",
     "    def h(self):\n        return 3\n\na = A()\n", "    def h(self):\n        return 3", "x.py"),
    ("c, body not closed yet", "int f(int x)\n{\n    int y = x;\n█\n",
     "    return y;\n}\n\nstatic int z;\nint k = 3;\n", "    return y;\n}", "x.c"),
    ("c, indentation typed, body not closed", "int f(int x)\n{\n    int y = x;\n    █\n",
     "return y;\n}\n\nstatic int z;\n", "return y;\n}", "x.c"),
    ("c, inner block and body closed by the model", "int f(int x)\n{\n    if (x) {\n█\n",
     "        x++;\n    }\n    return x;\n}\n\nint k = 3;\n", "        x++;\n    }\n    return x;\n}", "x.c"),
    ("c, class member function: the class stays open", "class A {\n    int f() {\n        return 1;\n    }\n█\n",
     "    int g() {\n        return 2;\n    }\n};\n\nint k;\n", "    int g() {\n        return 2;\n    }\n};", "x.cc"),
    ("js, body not closed yet", "function f(x) {\n  const y = x;\n█\n",
     "  return y;\n}\n\nconsole.log(f(1));\n", "  return y;\n}", "x.js"),
    ("go, tabs, body not closed yet", "func f(x int) int {\n\ty := x\n█\n",
     "\treturn y\n}\n\nvar z = 1\n", "\treturn y\n}", "x.go"),
]
AFTER_A_FINISHED_BODY = [
    # an empty line after a finished body is not inside it: a whole new function (and code after it) stays
    ("py, top level after a function", "def f():\n    return 1\n\n\n█\n",
     "def g():\n    return 2\n\n\nprint(g())\n", "def g():\n    return 2\n\n\nprint(g())", "x.py"),
    ("c, after a closed function", "int f(void)\n{\n    return 1;\n}\n\n█\n",
     "static int k = 2;\nint g(void) { return k; }\n", "static int k = 2;\nint g(void) { return k; }", "x.c"),
    ("py, column 1 at the end of a body: the first line sets the block", "def f(x):\n    y = x\n█\n",
     "    return y\n\nprint(f(1))\n", "    return y", "x.py"),
]


@pytest.mark.parametrize("what, src, text, kept, filename", EMPTY_LINE_IN_BODY + AFTER_A_FINISHED_BODY,
                         ids=[case[0] for case in EMPTY_LINE_IN_BODY + AFTER_A_FINISHED_BODY])
def test_an_empty_cursor_line_inside_a_body(what, src, text, kept, filename):
    assert run(src, text, only=["dedent"], filename=filename)[0] == kept


@pytest.mark.parametrize("what, src, text, kept, filename", EMPTY_LINE_IN_BODY, ids=[case[0] for case in EMPTY_LINE_IN_BODY])
def test_an_empty_cursor_line_inside_a_body_with_every_heuristic(what, src, text, kept, filename):
    assert run(src, text, filename=filename)[0] == kept


def test_without_dedent_the_lines_after_the_body_stay():
    src, text = "int f(int x)\n{\n    int y = x;\n█\n", "    return y;\n}\n\nstatic int z;\n"
    assert run(src, text, only=[], filename="x.c")[0] == text.rstrip()


@pytest.mark.parametrize("src, home", [
    ("def f(x):\n    y = 1\n█\n    return y\n", 0),  # the body goes on below
    ("def f(x):\n    y = 1\n█\n", None),  # nothing below: the file does not tell
    ("def f(x):\n    y = 1\n    █\n", 0),  # the indentation typed tells
    ("class A:\n    def f(self):\n        █\n", 4),
    ("class A:\n    def f(self):\n        pass\n█\n    x = 1\n", 0),  # between members: the class
    ("int f(void)\n{\n█\n", 0),  # the function's brace is open
    ("int f(void)\n{\n}\n█\n", None),
    ("x = 1\n█\ny = 2\n", None),  # no definition at all
])
def test_home_definition(src, home):
    ctx = context(src, "x.c" if "{" in src else "x.py")
    assert stops.home_definition(ctx, stops.initial_scope(ctx).brackets) == home


# --- new definition --------------------------------------------------------------


def test_a_whole_new_function_is_kept_and_the_next_one_cut():
    src = "def norm(v):\n    return 1\n\n\n█"
    text = "def norm2(v):\n    total = 0\n    for x in v:\n        total += x\n    return total\n\n\ndef norm3(v):\n    pass\n"
    assert run(src, text, only=["new-definition"])[:2] == (text.split("\n\n\n")[0], "new-definition")


def test_new_definition_off():
    src = "█"
    assert run(src, "def a():\n    pass\ndef b():\n    pass", only=[])[0] == "def a():\n    pass\ndef b():\n    pass"


def test_a_definition_before_its_body_is_not_cut():
    assert run("█", "@cache\ndef a():\n    return 1", only=["new-definition"])[0] == "@cache\ndef a():\n    return 1"


def test_a_nested_definition_is_not_cut():
    src = "def outer():\n    █"
    text = "def inner():\n        return 1\n    return inner"
    assert run(src, text, only=["new-definition"])[0] == text


def test_a_comment_introducing_the_next_definition_goes_with_it():
    src = "█"
    text = "def a():\n    return 1\n\n# Another one\ndef b():\n    return 2\n"
    assert run(src, text, only=["new-definition"])[0] == "def a():\n    return 1"


def test_a_comment_followed_by_other_code_is_kept():
    src = "█"
    text = "def a():\n    return 1\n\n# Try it\nprint(a())"
    assert run(src, text, only=["new-definition"])[0] == text


def test_one_line_definitions_count_as_finished():
    src = "export const add = (a, b) => a + b;\nexport const sub = (a, b) => █\n"
    text = "a - b;\nexport const mul = (a, b) => a * b;\n"
    assert run(src, text, only=["new-definition"], filename="ops.js")[0] == "a - b;"


def test_go_method_after_method():
    src = "package s\n\n█"
    text = "func (s *S) A() {\n\ts.n++\n}\n\nfunc (s *S) B() {\n\ts.n--\n}\n"
    assert run(src, text, only=["new-definition"], filename="s.go")[0] == "func (s *S) A() {\n\ts.n++\n}"


def test_inside_a_body_a_definition_at_the_enclosing_level_is_cut():
    assert run(NORM2, RUNAWAY, only=["new-definition"])[:2] == ("return sum(x * x for x in v)", "new-definition")


# --- brackets --------------------------------------------------------------------


def test_a_bracket_the_suffix_closes_is_not_closed_again():
    src = "total = items.reduce((s, i) => █, 0);\n"
    assert run(src, "s + i.price);\n", only=["brackets"], filename="a.js")[:2] == ("s + i.price", "brackets")


def test_a_bracket_the_suffix_leaves_open_may_be_closed():
    src = "total = f(a,\n          █\n\nprint(total)\n"
    assert run(src, "b)\n", only=["brackets"])[0] == "b)"


def test_brackets_inside_strings_and_comments_do_not_count():
    src = "x = f(█)\n"
    assert run(src, '")" + g(1)  # )\n', only=["brackets"])[0] == '")" + g(1)  # )'


def test_brackets_off():
    src = "x = f(█)\n"
    assert run(src, "a) + 1", only=[])[0] == "a) + 1"


# --- budgets -----------------------------------------------------------------------


def test_line_budget():
    assert run("█", "a\nb\nc\nd\ne\n", only=["max-lines"], max_lines=3)[:3] == ("a\nb\nc", "max-lines", True)


class Clock:
    """A clock the test moves: ``now`` seconds."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def timed(marked="█", max_ms=500, enabled=("max-time", "trim", "drop-empty"), filename="x.py"):
    clock = Clock()
    return stops.StopFilter(context(marked, filename), stops.Rules(frozenset(enabled), max_ms=max_ms), clock=clock), clock


def test_time_budget_at_the_end_of_a_line():
    f, clock = timed()
    assert f.feed("a = 1\n") == ("a = 1", False)
    clock.now = 0.2
    assert f.feed("b = 2\n") == ("\nb = 2", False)
    clock.now = 0.9
    assert f.feed("c = 3\n") == ("\nc = 3", True)  # 0.9 s > 0.5 s: this line is the last
    assert f.reason == "max-time"
    assert f.feed("d = 4\n") == ("", True)


def test_time_budget_inside_a_line_is_a_hard_cap():
    """One endless line (the 49 s report): the budget ends it while no line end ever comes."""
    f, clock = timed("def f():\n    x = 1\n    █\n", max_ms=500)
    assert f.feed("y = 2\n    z = [1") == ("y = 2", False)
    for n in range(2, 40):
        clock.now = n * 0.05
        written, done = f.feed(f", {n}")
        if done:
            break
    assert (clock.now, written, f.reason) == (0.5, "", "max-time")  # the unfinished line is dropped


def test_time_budget_inside_the_first_line_keeps_it_up_to_its_last_word():
    f, clock = timed("total = █\n")
    assert f.feed("compute(a, b) + offs") == ("", False)
    clock.now = 0.6
    assert f.feed("et_va") == ("compute(a, b) +", True)  # "offset_va..." may be unfinished; the space before it goes (trim)
    assert f.reason == "max-time" and f.finish() == ""


def test_time_budget_inside_a_line_after_blank_lines():
    f, clock = timed("def f():\n    █\n")
    assert f.feed("\n\n    return g(x") == ("", False)
    clock.now = 1.0
    assert f.feed("y") == ("\n\n    return g(", True)


def test_time_budget_does_not_write_the_start_of_a_stop_string():
    f, clock = timed("x = █\n", enabled=("max-time", "stop-strings", "trim", "drop-empty"))
    f = stops.StopFilter(f.ctx, replace(f.rules, stop=("<|file_sep|>",)), clock=clock)
    assert f.feed("1 + 2 <|file") == ("", False)
    clock.now = 0.5
    assert f.feed("") == ("1 + 2", True)


def test_time_budget_still_runs_the_other_checks_on_the_cut_line():
    f, clock = timed("y = max(█)\n", enabled=("max-time", "suffix-repeat", "brackets", "trim", "drop-empty"))
    assert f.feed("a, b)  # and so on and so") == ("", False)
    clock.now = 0.7
    assert f.feed(" on") == ("a, b", True)
    assert f.reason == "brackets"  # the call the text after the cursor closes


def test_time_budget_off():
    f, clock = timed(enabled=("trim",))
    clock.now = 100.0
    assert f.feed("a = [1, 2") == ("", False)
    assert f.finish() == "a = [1, 2"


# --- saying why nothing is inserted ----------------------------------------------------


def note_for(marked, pieces, filename="x.py", **params):
    f = stops.StopFilter(context(marked, filename), stops.Rules(**params), clock=lambda: 0.0)
    for piece in pieces:
        if f.feed(piece)[1]:
            break
    else:
        f.finish()
    return f.empty_note()


@pytest.mark.parametrize("marked, pieces, note", [
    ("def area(r):\n    █\n    return 3 * r * r\n", ["return 3 * r * r\n", "\ndef g():\n"],
     "nothing to insert: the suffix-repeat heuristic cut the model's 17 characters to nothing"
     " (they only repeated the text after the cursor); --no-stop suffix-repeat keeps them"),
    ("int f(void)\n{\n    █\n}\n", ["}\n", "int g(void)\n"], "the brackets heuristic cut the model's 2 characters to nothing"),
    ("x = █\n", ["<|endoftext|>"], "the stop-strings heuristic cut the model's 13 characters"),
    ("def f():\n    █\n", [], "nothing to insert: the server sent no text"),
    ("def f():\n    █\n", ["", ""], "nothing to insert: the server sent no text"),
    ("def f():\n    █\n", ["\n", "  \n\n"], "nothing to insert: the model wrote only whitespace (5 characters)"),
])
def test_an_empty_insertion_says_why(marked, pieces, note):
    assert note in note_for(marked, pieces, "x.c" if marked.startswith("int") else "x.py", stop=("<|endoftext|>",))


def test_no_note_when_something_is_inserted():
    assert note_for(NORM2, [RUNAWAY]) is None
    assert note_for("x = █\n", ["0"]) is None


def test_the_note_names_the_way_to_turn_heuristics_off_where_it_is_used():
    f = stops.StopFilter(context("def area(r):\n    █\n    return 3 * r * r\n"), stops.Rules(), off="`!heuristics off`")
    assert f.feed("return 3 * r * r\n")[1]
    assert f.empty_note().endswith("; `!heuristics off` keeps them")


# --- trim and empty -------------------------------------------------------------------


def test_trailing_whitespace_and_blank_lines_are_trimmed():
    assert run("█", "a = 1   \nb = 2\t\n\n\n", only=[])[0] == "a = 1\nb = 2"


def test_trim_off_keeps_them():
    assert run("█", "a = 1   \n\n", only=[], off=["trim"]) [0] == "a = 1   \n\n"


def test_trailing_space_is_kept_when_the_cursor_line_continues_right_after_it():
    assert run("f(a,█b)\n", "x, ", only=[])[0] == "x, "
    assert run("f(a,█ b)\n", "x, ", only=[])[0] == "x,"


def test_whitespace_only_suggestion_is_dropped():
    assert run("█", "\n\n  \n", only=[]) == ("", None, False)


def test_drop_empty_and_trim_off_keep_whitespace():
    assert run("█", "\n\n", only=[], off=["trim", "drop-empty"])[0] == "\n\n"


# --- streaming behaviour ------------------------------------------------------------------


def test_a_line_is_written_as_soon_as_it_is_complete():
    f = stops.StopFilter(context("def f():\n    █"), stops.Rules(), clock=lambda: 0.0)
    assert f.feed("x = 1") == ("", False)
    assert f.feed("\n    y") == ("x = 1", False)
    assert f.feed(" = 2\n") == ("\n    y = 2", False)
    assert f.finish() == ""


def test_blank_lines_wait_for_the_next_kept_line():
    f = stops.StopFilter(context("def f():\n    █"), stops.Rules(), clock=lambda: 0.0)
    assert f.feed("a = 1\n\n") == ("a = 1", False)
    assert f.feed("    b = 2\n") == ("\n\n    b = 2", False)


def test_a_good_multi_line_body_survives_every_heuristic():
    src = "def parse(argv):\n    █\n\n\nif __name__ == '__main__':\n    parse(None)\n"
    body = (
        "import argparse\n"
        "    p = argparse.ArgumentParser()\n"
        "    p.add_argument('--n', type=int, default=1)\n"
        "    args = p.parse_args(argv)\n"
        "    if args.n < 0:\n"
        "        raise SystemExit('n must be >= 0')\n"
        "\n"
        "    return args"
    )
    assert run(src, body + "\n")[0] == body
    assert run(src, body + "\n", pieces=[body + "\n"])[0] == body


def test_feeding_after_the_end_writes_nothing():
    f = stops.StopFilter(context(NORM2), stops.Rules(), clock=lambda: 0.0)
    out, done = f.feed(RUNAWAY)
    assert (out, done) == ("return sum(x * x for x in v)", True)
    assert f.feed("more\n") == ("", True) and f.finish() == ""


# --- rules ------------------------------------------------------------------------------------


def test_rules_precedence_defaults_template_then_options():
    assert stops.rules() == stops.Rules(ALL, (), stops.DEFAULT_MAX_LINES, stops.DEFAULT_MAX_MS)
    from_template = stops.rules({"dedent": False, "max-lines": {"lines": 7}, "max-time": {"enabled": False, "ms": 9}})
    assert not from_template.on("dedent") and not from_template.on("max-time")
    assert (from_template.max_lines, from_template.max_ms) == (7, 9)
    overridden = stops.rules({"max-time": False, "max-lines": {"lines": 7}}, disabled={"brackets"}, max_lines=3, max_ms=100)
    assert overridden.on("max-time") and overridden.max_ms == 100 and overridden.max_lines == 3
    assert not overridden.on("brackets")


def test_stop_strings_off_means_no_client_stop_strings():
    assert stops.rules(stop=("<EOT>",)).stop == ("<EOT>",)
    assert stops.rules(disabled={"stop-strings"}, stop=("<EOT>",)).stop == ()


def test_parse_names():
    assert stops.parse_names(["dedent,brackets", "trim"]) == {"dedent", "brackets", "trim"}
    assert stops.parse_names(["all"]) == ALL
    with pytest.raises(BridgeError, match="no such stop heuristic.*suffix-repeat"):
        stops.parse_names(["dedant"])


# --- the pieces -------------------------------------------------------------------------------


@pytest.mark.parametrize("line", [
    "def f(x):", "    async def g():", "class A:", "class B {", "@property", "func (s *S) Len() int {",
    "func main() {", "function f(a) {", "export async function g() {", "export default function () {",
    "const f = (a, b) => a + b;", "let g = async x => {", "pub fn norm(v: &[f64]) -> f64 {", "fn main() {",
    "static double norm(const double *v, int n)", "int main(void) {", "std::vector<int> f(int n) {",
    "impl Stack {", "type Stack struct {", "struct point {",
])
def test_definitions(line):
    assert stops.is_definition(line)


@pytest.mark.parametrize("line", [
    "if (x) {", "} else if (y) {", "while (n--) {", "return f(x);", "foo(bar);", "x = f(1)", "for (int i = 0; i < n; i++)",
    "int f(int x);", "    print(f(x))", "const x = 3;", "elif a(b):", "",
])
def test_not_definitions(line):
    assert not stops.is_definition(line)


def test_scan_brackets_skips_strings_comments_and_escapes():
    found, in_block = stops.scan_brackets('f("(\\")", \'[\') # ]', ("#",))
    assert found == [(1, "("), (13, ")")] and not in_block
    found, in_block = stops.scan_brackets("a(/* ( */ b) /* {", ("//",))
    assert [ch for _, ch in found] == ["(", ")"] and in_block


def test_enclosing_definition_walks_ancestors():
    lines = ("class A:", "    def f(self):", "        if x:", "            y()")
    assert stops.enclosing_definition(lines, 12) == 4
    assert stops.enclosing_definition(lines, 4) == 0
    assert stops.enclosing_definition(("x = 1", "if x:"), 4) is None
    assert stops.enclosing_definition(("double f(void)", "{", "    int a;"), 4) == 0


def test_closed_later_prefers_the_opener_at_the_same_indentation():
    ctx = context("int f() {\n    if (a) {\n        █\n    return 0;\n}\n", "f.c")
    scope = stops.initial_scope(ctx)
    assert [(o.indent, o.closed_later) for o in scope.brackets] == [(0, True), (4, False)]


def test_language():
    assert stops.language("a.py") == (("#",), False)
    assert stops.language("a.go") == (("//",), True)
    assert stops.language(None) == (("#", "//"), True)
