"""Security rules 1-3: where $VAR expands, where credentials may go, and that secrets never show."""

import pytest

from .helpers import request, run

SECRET = "sk-test-0123456789"


def write_profile(config, name, text):
    (config / "profiles").mkdir(exist_ok=True)
    (config / "profiles" / f"{name}.profile").write_text(text)


def test_profile_var_is_expanded_and_redacted_in_debug():
    env = {"OPENAI_API_KEY": SECRET}
    req = request("!profile openai\n!user\nq\n", env)
    assert dict(req.headers)["authorization"] == f"Bearer {SECRET}"
    status, out, err = run("!profile openai\n!user\nq\n!debug\n", env=env)
    assert status == 0 and SECRET not in out + err
    assert "authorization: Bearer [redacted $OPENAI_API_KEY]" in out


def test_buffer_var_is_literal_without_allow_env():
    env = {"MY_TOKEN": SECRET}
    req = request("!>x-token $MY_TOKEN\n!user\nq\n", env)
    assert dict(req.headers)["x-token"] == "$MY_TOKEN"
    assert any("$MY_TOKEN" in note and "--allow-env" in note for note in req.notes)


def test_buffer_var_expands_with_allow_env():
    env = {"MY_TOKEN": SECRET}
    req = request("!>x-token ${MY_TOKEN}\n!user\nq\n", env, allow_env=True)
    assert dict(req.headers)["x-token"] == SECRET and SECRET in req.secrets


def test_allow_env_from_config_file(isolated_config):
    (isolated_config / "config.toml").write_text("allow_env = true\n")
    status, out, _ = run("!>x-token $MY_TOKEN\n!user\nq\n!debug\n", env={"MY_TOKEN": SECRET, "BUFBRIDGE_CONFIG_DIR": str(isolated_config)})
    assert status == 0 and "x-token: [redacted $MY_TOKEN]" in out and SECRET not in out


@pytest.mark.parametrize("value", ['"false"', "1", '"yes"'])
def test_allow_env_in_the_config_file_must_be_true_or_false(isolated_config, value):
    (isolated_config / "config.toml").write_text(f"allow_env = {value}\n")
    status, out, _ = run("!>x-token $MY_TOKEN\n!user\nq\n!debug\n", env={"MY_TOKEN": SECRET, "BUFBRIDGE_CONFIG_DIR": str(isolated_config)})
    assert status == 1 and "config.toml: allow_env = " in out and "is not true or false" in out
    assert SECRET not in out


def test_profile_path_named_in_buffer_is_not_trusted(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a buffer reads files only inside the current folder (rule 5)
    (tmp_path / "evil.profile").write_text("!>x-token $MY_TOKEN\n")
    req = request("!profile ./evil.profile\n!api http://127.0.0.1:9/\n!user\nq\n", {"MY_TOKEN": SECRET})
    assert dict(req.headers)["x-token"] == "$MY_TOKEN"


def test_profile_path_from_environment_is_trusted(tmp_path):
    profile = tmp_path / "mine.profile"
    profile.write_text("!api http://127.0.0.1:9/\n!>x-token $MY_TOKEN\n")
    req = request("!user\nq\n", {"MY_TOKEN": SECRET, "BUFBRIDGE_PROFILE": str(profile)})
    assert dict(req.headers)["x-token"] == SECRET


def test_credential_is_withheld_from_another_origin():
    req = request("!profile openai\n!api http://127.0.0.1:8080/v1\n!user\nq\n", {"OPENAI_API_KEY": SECRET})
    assert "authorization" not in dict(req.headers)
    assert any("withheld" in note and "https://api.openai.com:443" in note for note in req.notes)


def test_credential_follows_its_own_profile_chain():
    # hf-style chaining: the outer profile sets !api first, the inner one adds the key.
    req = request("!profile openai\n!user\nq\n", {"OPENAI_API_KEY": SECRET})
    assert dict(req.headers)["authorization"] == f"Bearer {SECRET}"


def test_credential_bound_to_its_profile_even_if_buffer_sets_api_first():
    req = request("!api http://evil.example/\n!profile openai\n!user\nq\n", {"OPENAI_API_KEY": SECRET})
    assert "authorization" not in dict(req.headers)


def test_literal_credential_in_user_profile_is_bound_and_redacted(isolated_config):
    write_profile(isolated_config, "mine", "!api https://api.example.com/v1\n!>authorization Bearer literal-key-123\n")
    req = request("!profile mine\n!user\nq\n", {})
    assert dict(req.headers)["authorization"] == "Bearer literal-key-123"
    assert dict(req.shown_headers)["authorization"] == "Bearer [redacted]"
    moved = request("!profile mine\n!api http://other.example/\n!user\nq\n", {})
    assert "authorization" not in dict(moved.headers)


def test_profile_without_api_binds_to_nothing(isolated_config):
    write_profile(isolated_config, "keyonly", "!>x-api-key $K\n")
    req = request("!profile keyonly\n!api http://127.0.0.1:9/\n!user\nq\n", {"K": SECRET})
    assert "x-api-key" not in dict(req.headers)
    assert any("bound to no server" in note for note in req.notes)


def test_missing_variable_is_an_error_when_sending_not_in_debug():
    status, out, _ = run("!profile openai\n!user\nq\n", env={})
    assert status == 1 and "!error" in out and "$OPENAI_API_KEY" in out and "not set" in out
    status, out, _ = run("!profile openai\n!user\nq\n!debug\n", env={})
    assert status == 0 and "POST https://api.openai.com/v1/chat/completions" in out


def test_secrets_redacted_in_errors():
    # The secret lands in the URL through !api interpolation of a key the buffer set from a profile-expanded value?
    # Errors quote URLs and headers; make the failing URL carry nothing secret but check the redactor on the message.
    from bridge.cli import redact

    assert redact(f"HTTP 401: bad key {SECRET}", (SECRET,)) == "HTTP 401: bad key [redacted]"
