"""Profiles are data, found in one documented order; every built-in loads."""

import os

import pytest

from bridge import profiles
from bridge.errors import BuildError, ProfileError

from .helpers import request, run

ILLUME_NAMES = ["llama.cpp", "huggingface.co", "openai", "claude", "claude-extended", "gemini", "gpt-oss",
                "qwen3", "qwen3-think", "qwen3-instruct", "gemma-3"]
ILLUME_FIM = ["fim:deepseek", "fim:qwen", "fim:granite", "fim:granite4", "fim:mistral", "fim:codellama"]


@pytest.mark.parametrize("name", ILLUME_NAMES + ILLUME_FIM)
def test_illume_names_exist(name):
    found = profiles.find(name, {"BUFBRIDGE_CONFIG_DIR": "/nonexistent"})
    assert found.origin == "built-in" and found.trusted


def test_every_builtin_loads_and_builds():
    for found in profiles.available({"BUFBRIDGE_CONFIG_DIR": "/nonexistent"}):
        built = []
        for text in ("a\n!infill\nb\n", "!user\nq\n"):  # each builds in the modes its wire format speaks
            try:
                built.append(request(f"!profile llama.cpp\n!profile {found.name}\n{text}!debug\n", {}))
            except BuildError as err:
                assert "wire format has no" in str(err), (found.name, str(err))
        assert built and all(req.url.startswith("http") for req in built), found.name


def test_illume_effects():
    claude = request("!profile claude\n!user\nq\n!debug\n", {})
    assert claude.url == "https://api.anthropic.com/v1/messages" and claude.wire == "anthropic"
    assert dict(claude.headers)["anthropic-version"] == "2023-06-01"
    extended = request("!profile claude-extended\n!user\nq\n!debug\n", {}).json
    assert extended["thinking"] == {"type": "enabled", "budget_tokens": 10000} and extended["max_tokens"] == 20000
    openai = request("!profile openai\n!user\nq\n!debug\n", {}).json
    assert "max_tokens" not in openai and openai["max_completion_tokens"] == 10000


def test_user_profile_shadows_builtin(isolated_config):
    (isolated_config / "profiles").mkdir()
    (isolated_config / "profiles" / "llama.cpp.profile").write_text("!api http://127.0.0.1:1234/\n")
    assert request("!user\nq\n").url == "http://127.0.0.1:1234/chat/completions"
    status, out, _ = run("", "--list-profiles")
    assert status == 0
    lines = out.splitlines()
    at = next(i for i, l in enumerate(lines) if l.startswith("llama.cpp "))
    assert lines[at].split()[1] == "user" and lines[at + 1].strip() == str(isolated_config / "profiles" / "llama.cpp.profile")


def test_default_profile_order(isolated_config, tmp_path):
    mine = tmp_path / "p.profile"
    mine.write_text("!api http://127.0.0.1:7/\n")
    env = {"BUFBRIDGE_CONFIG_DIR": str(isolated_config), "ILLUME_PROFILE": "openai"}
    assert request("!user\nq\n", env).url.startswith("https://api.openai.com/")
    env["BUFBRIDGE_PROFILE"] = str(mine)
    assert request("!user\nq\n", env).url == "http://127.0.0.1:7/chat/completions"
    assert request("!user\nq\n", env, profile="llama.cpp").url == "http://localhost:8080/chat/completions"


def test_bad_default_profile_says_where_it_came_from():
    with pytest.raises(ProfileError) as err:
        request("!user\nq\n", {"BUFBRIDGE_PROFILE": "nope"})
    assert "$BUFBRIDGE_PROFILE" in str(err.value)


def test_list_profiles_shows_every_builtin():
    status, out, _ = run("", "--list-profiles")
    names = {line.split()[0] for line in out.splitlines() if not line.startswith(" ")}
    assert status == 0 and set(ILLUME_NAMES + ILLUME_FIM) <= names


def test_profile_error_inside_profile_has_profile_location(isolated_config):
    (isolated_config / "profiles").mkdir()
    (isolated_config / "profiles" / "broken.profile").write_text("!note fine\n!context /no/such/file\n")
    status, out, _ = run("!profile broken\n!user\nq\n")
    assert status == 1 and "broken:2: !context: no such file /no/such/file" in out


def test_broken_template_has_file_line(isolated_config):
    (isolated_config / "fim_templates").mkdir()
    path = isolated_config / "fim_templates" / "bad.json"
    path.write_text('{\n  "description": "x",\n  "template": "{prefix}{middle}"\n}\n')
    with pytest.raises(ProfileError) as err:
        request("!profile fim:bad\na\n!infill\n")
    assert f"{path}:3" in str(err.value) and "{middle}" in str(err.value)
    path.write_text('{\n  "description": "x",\n  "template": 5\n}\n')
    with pytest.raises(ProfileError) as err:
        request("!profile fim:bad\na\n!infill\n")
    assert f"{path}:3" in str(err.value)
    path.write_text('{\n  "description": "x",\n  "template": "{prefix}",\n}\n')
    with pytest.raises(ProfileError) as err:
        request("!profile fim:bad\na\n!infill\n")
    assert f"{path}:4" in str(err.value)


def test_list_profiles_survives_broken_files_of_the_user(isolated_config):
    (isolated_config / "fim_templates").mkdir()
    (isolated_config / "fim_templates" / "deep.json").write_text('{"description": ' + "[" * 5000 + "]" * 5000 + "}")
    (isolated_config / "fim_templates" / "list.json").write_text("[1, 2]")
    (isolated_config / "profiles").mkdir()
    os.mkfifo(isolated_config / "profiles" / "pipe.profile")  # reading it would hang
    status, out, err = run("", "--list-profiles")
    assert status == 0, err
    rows = dict(line.split(None, 1) for line in out.splitlines() if not line.startswith(" "))
    assert rows["fim:deep"].split(None, 1)[1] == "(invalid template)"
    assert rows["fim:list"].split(None, 1)[1] == "(invalid template)"
    assert rows["pipe"].split(None, 1)[1] == "(unreadable: a FIFO, not a regular file)"
    assert "llama.cpp" in rows
