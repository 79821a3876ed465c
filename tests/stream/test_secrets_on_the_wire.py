"""Security on a real connection: credentials go only to their own origin and never show on stdout/stderr."""

import pytest

import fakeserver as fs
from fakeserver import Reply
from loopback import run

SECRET = "s3cr3t-token-0123456789"
LITERAL = "sk-literal-abcdef987654"
ENV = {"SECRET_VAR": SECRET}
HEADER = b"\n\n!assistant\n\n"


@pytest.fixture
def home():
    """The server the user's profile is bound to."""
    with fs.FakeServer(Reply(fs.openai_chat_stream(["home"]))) as srv:
        yield srv


@pytest.fixture
def elsewhere():
    """Another origin (same host, other port), named by the buffer."""
    with fs.FakeServer(Reply(fs.openai_chat_stream(["elsewhere"]))) as srv:
        yield srv


@pytest.fixture
def profile(isolated_config, home):
    """A user profile bound to ``home`` that sends a credential from $SECRET_VAR."""
    folder = isolated_config / "profiles"
    folder.mkdir()
    (folder / "mine.profile").write_text(f"!api {home.url}/v1\n!>authorization Bearer $SECRET_VAR\n")
    return "mine"


def no_secret(result, *secrets):
    for secret in secrets or (SECRET,):
        assert secret.encode() not in result.stdout
        assert secret.encode() not in result.stderr


def test_profile_credential_is_sent_to_its_own_server(profile, home):
    result = run("!profile mine\n!user\nhi\n", env=ENV)
    assert (result.stdout, result.returncode) == (HEADER + b"home", 0)
    assert home.requests[0].header("authorization") == f"Bearer {SECRET}"
    no_secret(result)


@pytest.mark.parametrize("how", ["!profile line", "BUFBRIDGE_PROFILE", "--profile"])
def test_profile_credential_is_withheld_from_another_origin(profile, home, elsewhere, how):
    buffer = f"!api {elsewhere.url}/v1\n!user\nhi\n"
    env, args = dict(ENV), []
    if how == "!profile line":
        buffer = "!profile mine\n" + buffer
    elif how == "BUFBRIDGE_PROFILE":
        env["BUFBRIDGE_PROFILE"] = "mine"
    else:
        args = ["--profile", "mine"]
    result = run(buffer, *args, env=env)
    assert result.returncode == 0, result.stdout
    (got,) = elsewhere.requests
    assert got.header("authorization") is None
    assert SECRET.encode() not in got.raw
    assert home.requests == []
    reply, _, note = result.stdout.partition(b"\n\n!note ")
    assert reply == HEADER + b"elsewhere"
    assert b"withheld" in note and b"authorization" in note
    assert elsewhere.url.encode() in note  # says where the request went
    no_secret(result)


def test_other_host_name_for_the_same_server_is_another_origin(profile, home):
    # "localhost" and "127.0.0.1" are different origins even when they reach the same socket
    result = run(f"!profile mine\n!api http://localhost:{home.port}/v1\n!user\nhi\n", env=ENV)
    assert result.returncode == 0, result.stdout
    assert home.requests[0].header("authorization") is None
    assert b"withheld" in result.stdout
    no_secret(result)


def test_buffer_var_is_sent_literally_not_expanded(elsewhere):
    result = run(f"!api {elsewhere.url}/v1\n!>x-token $SECRET_VAR\n!user\nhi\n", env=ENV)
    assert result.returncode == 0
    assert elsewhere.requests[0].header("x-token") == "$SECRET_VAR"
    assert SECRET.encode() not in elsewhere.requests[0].raw
    assert b"!note" in result.stdout and b"--allow-env" in result.stdout
    no_secret(result)


def test_debug_redacts_the_credential(profile, home):
    result = run("!profile mine\n!debug\n!user\nhi\n", env=ENV)
    assert result.returncode == 0
    assert b"\nauthorization: Bearer [redacted $SECRET_VAR]\n" in result.stdout
    assert home.requests == []
    no_secret(result)


def test_verbose_log_redacts_the_credential(profile, home):
    result = run("!profile mine\n!user\nhi\n", "--verbose", env=ENV)
    assert (result.stdout, result.returncode) == (HEADER + b"home", 0)
    assert b"POST " in result.stderr and b"authorization" in result.stderr
    assert home.requests[0].header("authorization") == f"Bearer {SECRET}"
    no_secret(result)


def test_status_error_echoing_the_key_is_redacted(profile, home):
    home.reply = fs.json_reply(401, {"error": {"message": f"Incorrect API key provided: Bearer {SECRET}.",
                                               "type": "invalid_request_error", "code": "invalid_api_key"}})
    result = run("!profile mine\n!user\nhi\n", "--verbose", env=ENV)
    assert result.returncode == 1
    assert b"\n\n!error\n\nHTTP 401" in result.stdout
    assert b"Incorrect API key provided" in result.stdout
    no_secret(result)


def test_in_stream_error_echoing_the_key_is_redacted(profile, home):
    chunks = fs.openai_chat_stream(["Hi"])
    home.reply = Reply([*chunks[:2], fs.sse({"error": {"message": f"key {SECRET} revoked mid-stream"}})])
    result = run("!profile mine\n!user\nhi\n", env=ENV)
    assert result.returncode == 1
    assert result.stdout.startswith(HEADER + b"Hi\n\n!error\n\n")
    assert b"revoked mid-stream" in result.stdout
    no_secret(result)


def test_literal_credential_in_the_buffer_is_redacted_in_debug_and_verbose(elsewhere):
    buffer = f"!api {elsewhere.url}/v1\n!>authorization Bearer {LITERAL}\n!user\nhi\n"
    debug = run(buffer, "--debug")
    assert b"\nauthorization: Bearer [redacted]\n" in debug.stdout
    no_secret(debug, LITERAL)

    result = run(buffer, "--verbose")
    assert (result.stdout, result.returncode) == (HEADER + b"elsewhere", 0)
    assert elsewhere.requests[0].header("authorization") == f"Bearer {LITERAL}"  # the user's own choice: sent
    assert b"authorization: Bearer [redacted]" in result.stderr
    no_secret(result, LITERAL)


def test_literal_credential_echoed_by_the_server_is_redacted(elsewhere):
    buffer = f"!api {elsewhere.url}/v1\n!>authorization Bearer {LITERAL}\n!user\nhi\n"
    elsewhere.reply = fs.json_reply(403, {"error": {"message": f"key {LITERAL} is not allowed"}})
    result = run(buffer)
    assert result.returncode == 1
    assert b"HTTP 403" in result.stdout and b"is not allowed" in result.stdout
    no_secret(result, LITERAL)


def test_connection_refused_with_a_credential_and_verbose_leaks_nothing(isolated_config):
    port = fs.closed_port()
    folder = isolated_config / "profiles"
    folder.mkdir()
    (folder / "keyed.profile").write_text(f"!api http://127.0.0.1:{port}/v1\n!>x-api-key $SECRET_VAR\n")
    result = run("!profile keyed\n!user\nhi\n", "--verbose", env=ENV)
    assert result.returncode == 1
    assert b"refused" in result.stdout
    no_secret(result)
