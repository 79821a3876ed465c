"""Cursor infill context: the cursor, the windows, the extra files and the request bodies (pure functions)."""

import json

import pytest

from bridge import fim, fimtemplate, stops
from bridge.errors import BridgeError
from bridge.profiles import data_dir


def template(name):
    return fimtemplate.load(data_dir("fim_templates") / f"{name}.json", "fim:" + name)


# --- the cursor ------------------------------------------------------------------


@pytest.mark.parametrize("spec, position", [("1:1", (1, 1)), ("12:40", (12, 40))])
def test_parse_position(spec, position):
    assert fim.parse_position(spec) == position


@pytest.mark.parametrize("spec", ["", "12", "0:1", "1:0", "a:b", "3:-1", "1:2:3"])
def test_parse_position_rejects(spec):
    with pytest.raises(BridgeError, match="LINE:COL"):
        fim.parse_position(spec)


def test_split_in_the_middle_of_a_line():
    ctx = fim.split("a = 1\nb = f(x)\nc = 3\n", 2, 7, "m.py")
    assert (ctx.before, ctx.line_prefix, ctx.line_suffix, ctx.after) == (("a = 1",), "b = f(", "x)", ("c = 3", ""))
    assert fim.prefix_text(ctx) + fim.suffix_text(ctx) == "a = 1\nb = f(x)\nc = 3\n"
    assert ctx.comments == ("#",)


def test_split_at_the_end_of_a_line_and_of_the_file():
    ctx = fim.split("x\n", 1, 2)
    assert (ctx.line_prefix, ctx.line_suffix, ctx.after) == ("x", "", ("",))
    ctx = fim.split("x\n", 2, 1)
    assert (ctx.before, ctx.line_prefix, ctx.after) == (("x",), "", ())


def test_column_counts_bytes_like_vim():
    ctx = fim.split("s = 'héllo'\n", 1, 9)  # 'é' is bytes 7 and 8: column 9 is right after it
    assert (ctx.line_prefix, ctx.line_suffix) == ("s = 'hé", "llo'")
    with pytest.raises(BridgeError, match="inside a multi-byte character"):
        fim.split("s = 'héllo'\n", 1, 8)


def test_split_out_of_range():
    with pytest.raises(BridgeError, match="only 2 lines"):
        fim.split("a\n", 3, 1)
    with pytest.raises(BridgeError, match="line 1 has only 3 bytes.*last column is 4"):
        fim.split("abc\n", 1, 5)


def test_crlf_keeps_its_carriage_returns_in_the_text():
    ctx = fim.split("a\r\nbc\r\nd\r\n", 2, 3)
    assert (ctx.line_prefix, ctx.line_suffix) == ("bc", "\r")
    assert fim.prefix_text(ctx) + fim.suffix_text(ctx) == "a\r\nbc\r\nd\r\n"


# --- windows -------------------------------------------------------------------------


def numbered(n_before, n_after, width=7):
    before = tuple(f"b{i:0{width - 1}d}" for i in range(n_before))
    after = tuple(f"a{i:0{width - 1}d}" for i in range(n_after))
    return stops.Context(before, "    x = ", "", after)


def test_line_budgets():
    ctx = fim.window(numbered(300, 100), fim.Limits(prefix_lines=256, suffix_lines=64, tokens=10**6))
    assert len(ctx.before) == 256 and ctx.before[0] == "b000044" and ctx.before[-1] == "b000299"
    assert len(ctx.after) == 64 and ctx.after[0] == "a000000"
    assert fim.window(numbered(5, 5), fim.Limits(prefix_lines=0, suffix_lines=0)).before == ()


def test_token_budget_cuts_whole_lines_and_gives_the_suffix_a_quarter():
    ctx = fim.window(numbered(300, 100), fim.Limits(prefix_lines=300, suffix_lines=100, tokens=202))
    # each line costs 2 tokens (7 characters and a newline); the cursor line costs 2
    assert len(ctx.after) == 25  # 200 // 4 = 50 tokens
    assert len(ctx.before) == 75 and ctx.before[-1] == "b000299"  # the 150 left; the nearest lines are kept
    assert fim.estimate_tokens("".join(line + "\n" for line in ctx.before + ctx.after)) <= 200


def test_the_suffix_leaves_what_it_does_not_use_to_the_prefix():
    ctx = fim.window(numbered(300, 2), fim.Limits(prefix_lines=300, tokens=202))
    assert len(ctx.after) == 2 and len(ctx.before) == 98


def test_the_cursor_line_is_kept_over_any_budget():
    ctx = fim.window(stops.Context(("a",), "x" * 100, "y" * 100, ("b",)), fim.Limits(tokens=10))
    assert (ctx.line_prefix, ctx.before, ctx.after) == ("x" * 100, (), ())


# --- extra files --------------------------------------------------------------------------


def test_extras_are_sorted_by_name_deduplicated_and_skip_the_current_file(tmp_path):
    (tmp_path / "b.py").write_text("B\n")
    (tmp_path / "a.py").write_text("A\n")
    (tmp_path / "main.py").write_text("M\n")
    listing = tmp_path / "open.json"
    listing.write_text(json.dumps([{"filename": "z/open.py", "text": "Z\n"}, {"filename": str(tmp_path / "a.py"), "text": "other"}]))
    extras = fim.read_extras([str(tmp_path / "b.py"), str(tmp_path / "a.py"), str(tmp_path / "main.py")], [str(listing)], str(tmp_path / "main.py"))
    assert [(e.filename.replace(str(tmp_path), "T"), e.text) for e in extras] == [("T/a.py", "A\n"), ("T/b.py", "B\n"), ("z/open.py", "Z\n")]
    again = fim.read_extras([str(tmp_path / "a.py"), str(tmp_path / "main.py"), str(tmp_path / "b.py")], [str(listing)], str(tmp_path / "main.py"))
    assert again == extras  # the order of the options does not matter: same prompt, same cache


@pytest.mark.parametrize("content, message", [("[1]", "array of"), ("{", "not JSON"), ('[{"filename": "a"}]', "array of")])
def test_extra_json_is_checked(tmp_path, content, message):
    path = tmp_path / "x.json"
    path.write_text(content)
    with pytest.raises(BridgeError, match=message):
        fim.read_extras([], [str(path)])


def test_missing_extra_file(tmp_path):
    with pytest.raises(BridgeError, match="--extra .*nope.py: cannot read it"):
        fim.read_extras([str(tmp_path / "nope.py")])


def test_fit_extras_cuts_the_first_that_does_not_fit_at_a_line_and_drops_the_rest():
    extras = (fim.Extra("a", "1234567\n" * 3), fim.Extra("b", "1234567\n" * 10), fim.Extra("c", "x\n"))
    fitted = fim.fit_extras(extras, 12)  # a costs 6; 6 left: three lines of b
    assert fitted == (fim.Extra("a", "1234567\n" * 3), fim.Extra("b", "1234567\n" * 3))
    assert fim.fit_extras(extras, 0) == ()


# --- request bodies ------------------------------------------------------------------------


CTX = fim.split("def f(x):\n    y = g(x)\n    return y\n", 2, 9, "m.py")  # cursor after "    y = "
EXTRAS = (fim.Extra("a.py", "A = 1\n"), fim.Extra("b.py", "B = 2"))


def test_infill_body():
    assert fim.infill_fields(CTX, EXTRAS, stops.rules()) == {
        "input_prefix": "def f(x):\n",
        "prompt": "    y = ",
        "input_suffix": "g(x)\n    return y\n",
        "input_extra": [{"filename": "a.py", "text": "A = 1\n"}, {"filename": "b.py", "text": "B = 2"}],
        "n_indent": 4,
        "t_max_predict_ms": stops.DEFAULT_MAX_MS,
    }


def test_infill_body_without_dedent_time_or_extras():
    fields = fim.infill_fields(CTX, (), stops.rules(disabled={"dedent", "max-time"}))
    assert set(fields) == {"input_prefix", "prompt", "input_suffix"}
    assert "n_indent" not in fim.infill_fields(fim.split("x\n", 1, 1), (), stops.rules())  # column 0: no indentation known


def test_template_body_without_extras_is_the_plain_template():
    assert fim.template_fields(template("qwen"), CTX, ()) == {
        "prompt": "<|fim_prefix|>def f(x):\n    y = <|fim_suffix|>g(x)\n    return y\n<|fim_middle|>"
    }


def test_template_body_in_the_repository_form():
    prompt = fim.template_fields(template("qwen"), CTX, EXTRAS, "pkg/m.py", "proj")["prompt"]
    assert prompt == (
        "<|repo_name|>proj\n<|file_sep|>a.py\nA = 1\n\n<|file_sep|>b.py\nB = 2\n<|file_sep|>pkg/m.py\n"
        "<|fim_prefix|>def f(x):\n    y = <|fim_suffix|>g(x)\n    return y\n<|fim_middle|>"
    )


def test_template_without_a_repository_form_gets_comment_blocks_inside_the_prefix():
    prompt = fim.template_fields(template("deepseek"), CTX, EXTRAS, "m.py")["prompt"]
    assert prompt.startswith("<｜begin▁of▁sentence｜><｜fim▁begin｜># a.py\nA = 1\n\n# b.py\nB = 2\n\ndef f(x):\n")
    c_ctx = fim.split("int x;\n", 1, 1, "m.c")
    assert fim.template_fields(template("granite"), c_ctx, EXTRAS[:1])["prompt"].startswith("<fim_prefix>// a.py\nA = 1\n\n")


def test_spm_template_puts_the_suffix_first():
    assert fim.template_fields(template("mistral"), CTX, ())["prompt"] == "[SUFFIX]g(x)\n    return y\n[PREFIX]def f(x):\n    y = "
