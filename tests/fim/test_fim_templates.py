"""FIM templates: exact token strings per family, schema validation, rendering, and located errors."""

import json
import unicodedata

import jsonschema
import pytest

from bridge import fimtemplate, stops
from bridge.errors import ProfileError
from bridge.profiles import data_dir

TEMPLATES = data_dir("fim_templates")
NAMES = sorted(p.stem for p in TEMPLATES.glob("*.json") if p.stem != "schema")

# Illume's built-in FIM profiles: these strings must not change by one byte.
ILLUME = {
    "codellama": " <PRE> {prefix} <SUF>{suffix} <MID>",
    "deepseek": "<\uff5cbegin\u2581of\u2581sentence\uff5c><\uff5cfim\u2581begin\uff5c>{prefix}<\uff5cfim\u2581hole\uff5c>{suffix}<\uff5cfim\u2581end\uff5c>",
    "granite": "<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>",
    "granite4": "<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>",
    "mistral": "[SUFFIX]{suffix}[PREFIX]{prefix}",
    "qwen": "<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>",
}
# What each family renders for prefix "P" and suffix "S", and stop strings it must have.
RENDERED = {
    "codellama": (" <PRE> P <SUF>S <MID>", {"<EOT>"}),
    "codegemma": ("<|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>", {"<|file_separator|>", "<eos>", "<end_of_turn>"}),
    "deepseek": ("<｜begin▁of▁sentence｜><｜fim▁begin｜>P<｜fim▁hole｜>S<｜fim▁end｜>", {"<｜end▁of▁sentence｜>", "<|EOT|>"}),
    "granite": ("<fim_prefix>P<fim_suffix>S<fim_middle>", {"<|endoftext|>", "<fim_pad>"}),
    "granite4": ("<|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>", {"<|end_of_text|>", "<|fim_pad|>"}),
    "mistral": ("[SUFFIX]S[PREFIX]P", {"</s>", "[PREFIX]", "[SUFFIX]"}),
    "qwen": ("<|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>", {"<|endoftext|>", "<|file_sep|>", "<|repo_name|>", "<|fim_pad|>"}),
    "starcoder": ("<fim_prefix>P<fim_suffix>S<fim_middle>", {"<|endoftext|>", "<fim_pad>"}),
    "starcoder2": ("<fim_prefix>P<fim_suffix>S<fim_middle>", {"<|endoftext|>", "<file_sep>", "<repo_name>"}),
}


def schema():
    return json.loads((TEMPLATES / "schema.json").read_text(encoding="utf-8"))


def test_every_family_is_shipped():
    assert set(NAMES) == set(RENDERED)


@pytest.mark.parametrize("name", NAMES)
def test_template_validates_and_renders(name):
    template = fimtemplate.load(TEMPLATES / f"{name}.json", "fim:" + name)
    jsonschema.validate(template.data, schema())
    expected, stops_needed = RENDERED[name]
    assert fimtemplate.render(template.template, "P", "S") == expected
    assert stops_needed <= set(template.stop)


@pytest.mark.parametrize("name", sorted(ILLUME))
def test_illume_templates_are_byte_identical(name):
    raw = json.loads((TEMPLATES / f"{name}.json").read_bytes().decode("utf-8"))
    assert raw["template"].encode("utf-8") == ILLUME[name].encode("utf-8")


def test_deepseek_uses_fullwidth_bar_and_lower_block():
    template = fimtemplate.load(TEMPLATES / "deepseek.json", "fim:deepseek")
    assert template.template.startswith("<\uff5cbegin")  # BOS first
    for token in ("<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"):
        assert token in template.template
    names = {unicodedata.name(ch) for ch in template.template if ord(ch) > 127}
    assert names == {"FULLWIDTH VERTICAL LINE", "LOWER ONE EIGHTH BLOCK"}
    assert "|" not in template.template


def test_mistral_is_suffix_first_and_codellama_starts_with_a_space():
    assert fimtemplate.load(TEMPLATES / "mistral.json", "m").order == "spm"
    assert fimtemplate.load(TEMPLATES / "codellama.json", "c").template[0] == " "


def test_repository_forms():
    qwen = fimtemplate.load(TEMPLATES / "qwen.json", "q")
    files = [("a.py", "A = 1\n"), ("b.py", "B = 2\n")]
    assert fimtemplate.render_repo(qwen.repo, "proj", files, "main.py") == (
        "<|repo_name|>proj\n<|file_sep|>a.py\nA = 1\n\n<|file_sep|>b.py\nB = 2\n\n<|file_sep|>main.py\n"
    )
    star = fimtemplate.load(TEMPLATES / "starcoder2.json", "s")
    assert fimtemplate.render_repo(star.repo, "proj", files, "main.py") == (
        "<repo_name>proj<file_sep>a.py\nA = 1\n<file_sep>b.py\nB = 2\n<file_sep>main.py\n"
    )
    assert {n for n in NAMES if fimtemplate.load(TEMPLATES / f"{n}.json", n).repo} == {"qwen", "starcoder2"}


def test_schema_is_valid_and_knows_every_heuristic():
    jsonschema.Draft202012Validator.check_schema(schema())
    assert schema()["$schema"].endswith("2020-12/schema")
    assert set(schema()["properties"]["heuristics"]["properties"]) == set(stops.NAMES)


def test_heuristics_field_is_read():
    text = '{"description": "d", "template": "{prefix}{suffix}", "heuristics": {"dedent": false, "max-lines": {"lines": 3}}}'
    template = fimtemplate.parse(text, "t")
    rules = stops.rules(template.heuristics)
    assert not rules.on("dedent") and rules.max_lines == 3


# --- broken templates: file:line ---------------------------------------------------------


def broken(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError) as err:
        fimtemplate.load(path, "fim:bad")
    return str(err.value), path


def test_bad_json_has_line_and_column(tmp_path):
    message, path = broken(tmp_path, '{\n  "description": "x",\n  "template": "{prefix}",\n}\n')
    assert message.startswith(f"{path}:4:1:")


def test_unknown_placeholder_has_its_line(tmp_path):
    message, path = broken(tmp_path, '{\n  "description": "x",\n  "template": "{prefix}{middle}"\n}\n')
    assert message.startswith(f"{path}:3:") and "{middle}" in message


def test_unknown_placeholder_in_the_repo_form_has_its_line(tmp_path):
    text = '{\n  "description": "x",\n  "template": "{prefix}",\n  "repo": {\n    "header": "{repo}",\n    "file": "{name}\\n{text}"\n  }\n}\n'
    message, path = broken(tmp_path, text)
    assert message.startswith(f"{path}:6:") and "repo/file" in message and "{name}" in message


def test_wrong_type_deep_inside_has_its_line(tmp_path):
    text = '{\n  "description": "x",\n  "template": "{prefix}",\n  "heuristics": {\n    "dedent": true,\n    "max-lines": {"lines": "ten"}\n  }\n}\n'
    message, path = broken(tmp_path, text)
    assert message.startswith(f"{path}:6:") and "heuristics/max-lines/lines" in message and "'ten'" in message


def test_unknown_key_points_at_the_key(tmp_path):
    text = '{\n  "description": "x",\n  "template": "{prefix}",\n  "heuristics": {\n    "dedent": true,\n    "indent": false\n  }\n}\n'
    message, path = broken(tmp_path, text)
    assert message.startswith(f"{path}:6:") and "'indent' was unexpected" in message


def test_wrong_type_of_a_stop_item_points_at_the_item(tmp_path):
    text = '{\n  "description": "x",\n  "template": "{prefix}",\n  "stop": [\n    "<a>",\n    5\n  ]\n}\n'
    message, path = broken(tmp_path, text)
    assert message.startswith(f"{path}:6:") and "stop/1" in message


def test_missing_required_field(tmp_path):
    message, path = broken(tmp_path, '{\n  "template": "{prefix}"\n}\n')
    assert message.startswith(f"{path}:1:") and "'description' is a required property" in message


@pytest.mark.parametrize("path, line", [
    ((), 1), (("a",), 2), (("a", "b"), 3), (("a", "c", 1), 6), (("a", "c", 0, "d"), 5), (("zz",), 1), (("a", "zz"), 2),
])
def test_line_of(path, line):
    text = '{\n  "a": {\n    "b": [1, 2],\n    "c": [\n      {"d": true},\n      "x"\n    ]\n  }\n}'
    assert fimtemplate.line_of(text, list(path)) == line
