"""``{key}`` interpolation and FIM template files: same results as the first implementation, linear time, bounded size, one clear error.

Pinned here: a key repeated with a long value once multiplied it without
bound (`!api {a}{a}…` with a 1 MB `!:a`); a template file nested 5,000 deep
raised RecursionError, one that was not UTF-8 a UnicodeDecodeError; a lone
'{' in a template was found only at render time, with a hint about URLs;
``--infill-at ''`` read the source file as a buffer of directives.
"""

import json
import time

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import harness
import hostile
from bridge import fimtemplate
from bridge.errors import BuildError, ProfileError
from bridge.interpolate import interpolate
from budget import WALL_LIMIT, examples


def spec_interpolate(text, values):
    """The first implementation: partition at every brace."""
    out, rest = [], text
    while True:
        before, brace, after = rest.partition("{")
        out.append(before)
        if not brace:
            return "".join(out)
        key, close, rest = after.partition("}")
        if not close:
            raise BuildError("unmatched '{'")
        if key not in values:
            raise BuildError(f"missing key: {key}")
        value = values[key]
        out.append(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":")))


VALUES = {"model": "m", "a": "{b}", "n": 1.5, "l": [1, "é"], "": "empty", "x}": "no"}


@settings(max_examples=examples(500))
@given(st.lists(st.sampled_from(["{", "}", "model", "a", "n", "l", "x", "{model}", "{}", "/", "é"]), max_size=12))
@example(["{", "{", "model", "}"])
def test_interpolation_agrees_with_the_first_implementation(parts):
    text = "".join(parts)
    try:
        expected = spec_interpolate(text, VALUES)
    except BuildError as err:
        with pytest.raises(BuildError) as got:
            interpolate(text, VALUES)
        assert got.value.message.split(":")[0] == err.message.split(":")[0]
    else:
        assert interpolate(text, VALUES) == expected


def test_a_repeated_key_cannot_blow_up_the_result():
    started = time.process_time()
    with pytest.raises(BuildError, match="longer than 64 MiB"):
        interpolate("{a}" * 100_000, {"a": "x" * 1_000_000})
    assert time.process_time() - started < 5.0


def test_many_keys_take_linear_time():
    started = time.process_time()
    assert len(interpolate("/{a}" * 200_000, {"a": "xy"})) == 600_000
    assert time.process_time() - started < 3.0


def test_a_missing_key_is_quoted_short():
    with pytest.raises(BuildError) as err:
        interpolate("{" + "k" * 10_000 + "}", {})
    assert len(str(err.value)) < 300


@pytest.mark.parametrize("text, message", [
    ('{"description": "d", "template": "{prefix}", "x": ' + "[" * 5000 + "]" * 5000 + "}", "nests deeper than 64"),
    ('{"description": "d", "template": "{prefix}", "stop": [NaN]}', "NaN is not a JSON number"),
    ('{\n"description": "d",\n"template": "{prefix}{suffix}{"\n}', "a '{' that starts no placeholder"),
    ('{"description": "d",\n "template": "{prefix}",\n "repo": {"header": "{repo", "file": "{text}"}}', "a '{' that starts no placeholder"),
    ('{"description": "d", "template": ', "Expecting value"),
])
def test_a_broken_template_is_one_clear_error(text, message):
    with pytest.raises(ProfileError, match=message) as err:
        fimtemplate.parse(text, "t", "t.json")
    assert str(err.value).startswith("t.json")


def test_a_template_file_that_is_not_utf8_is_one_clear_error(tmp_path):
    path = tmp_path / "t.json"
    path.write_bytes(b'{"description": "caf\xe9", "template": "{prefix}"}')
    with pytest.raises(ProfileError, match="not UTF-8"):
        fimtemplate.load(path, "t")


def test_a_schema_error_quotes_the_value_short():
    text = '{"description": "d", "template": "{prefix}", "stop": [' + ", ".join(['"x"'] * 10_000) + "]}"
    with pytest.raises(ProfileError, match="non-unique") as err:
        fimtemplate.parse(text, "t", "t.json")
    assert len(str(err.value)) < 400


def test_finding_the_line_of_a_value_takes_linear_time():
    text = '{"description": "d", "stop": [' + ",\n".join(f'"x{i}"' for i in range(50_000)) + '], "template": "{prefix}{nope}"}'
    started = time.process_time()
    with pytest.raises(ProfileError, match=":50000: template: unknown placeholder"):
        fimtemplate.parse(text, "t", "t.json")
    assert time.process_time() - started < 10.0


@pytest.mark.parametrize("template", ["deep", "latin1", "unknown", "nan", "braces"])
def test_a_broken_user_template_ends_in_one_error_line(sandbox, template):
    case = hostile.Case("cursor", ["--infill-at", "1:1", "--fim", template], b"x = 1\n", 200, [b'data: {"content":"","stop":true}\n\n'])
    result = harness.run(case, sandbox, wall=WALL_LIMIT)
    assert result.status == 1
    assert not harness.violations(case, result, cpu_limit=5.0)
    assert f"fim_templates/{template}.json" in result.stderr


def test_an_empty_infill_position_never_reads_the_file_as_directives(sandbox):
    case = hostile.Case("cursor", ["--infill-at", ""], b"!debug\n!api http://127.0.0.1:9/\n", 200, [])
    result = harness.run(case, sandbox, wall=WALL_LIMIT)
    assert (result.status, result.stdout) == (1, b"")
    assert result.stderr == "bufbridge: error: --infill-at : expected LINE:COL, two numbers from 1 (e.g. 12:5)\n"


def test_cursor_infill_in_a_deleted_folder_names_the_repository_project(sandbox, tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    case = hostile.Case("cursor", ["--infill-at", "1:1", "--fim", "qwen", "--extra", str(tmp_path / "extra.py"), "--debug"], b"x = 1\n", 200, None)
    (tmp_path / "extra.py").write_text("y = 2\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(gone)
        gone.rmdir()
        result = harness.run(case, sandbox, wall=WALL_LIMIT)
    assert result.status == 0, result.stderr
    assert b"<|repo_name|>project" in result.stdout
