"""Security rule 6, the filter's side: context files that look like secrets are never sent with cursor infill.

The real CLI runs ``--infill-at`` against a loopback ``/infill`` server with
``--extra`` files and an ``--extra-json`` listing (what the editor sends):
the secret-looking ones never reach the server, their names (never their
content) are told on standard error, and a listing or file that cannot be
used is one clear error line, in bounded time.
"""

import json
import os
import socket

import pytest

import fakeserver as fs
from bridge import files
from loopback import assert_clean, run  # the real CLI, shared with the loopback tests

SECRET = "sk-extra-secret-c0ffee42"
SOURCE = "def f():\n    \n"
TIME_LIMIT = 15

# (file name, looks like a secret)
NAMES = [
    (".env", True), (".env.local", True), (".envrc", True), ("config/.env.production", True),
    ("server.pem", True), ("tls/private.key", True), ("cert.P12", True), ("store.pfx", True), ("app.jks", True),
    ("putty.ppk", True), ("passwords.kdbx", True),
    ("id_rsa", True), ("id_ed25519", True), ("id_ecdsa.pub", True), ("ID_RSA", True),
    (".netrc", True), ("_netrc", True), (".npmrc", True), (".pypirc", True), (".pgpass", True),
    (".git-credentials", True), (".htpasswd", True), (".dockercfg", True),
    ("credentials", True), ("credentials.json", True), ("aws/credentials.csv", True),
    ("secrets.yaml", True), ("secret.json", True), ("k8s/secrets.yml", True),
    (".ssh/config", True), ("home/.aws/config", True), (".gnupg/pubring.kbx", True), (".docker/config.json", True),
    (".kube/config", True), ("C:\\Users\\me\\.ssh\\known_hosts", True),
    ("main.py", False), ("id_utils.py", False), ("identity.py", False), ("keyboard.c", False), ("env.py", False),
    ("environment.md", False), ("monkey.py", False), ("README.md", False), ("src/keys.py", False),
    ("docs/secrets.md", False), ("credential_helper.go", False), ("ssh/config.py", False), ("Makefile", False),
]


@pytest.mark.parametrize("name, secret", NAMES)
def test_which_names_look_like_secrets(name, secret):
    assert files.looks_secret(name) is secret


@pytest.fixture
def server(isolated_config, tmp_path, monkeypatch):
    (isolated_config / "profiles").mkdir()
    with fs.FakeServer(fs.Reply(fs.llama_stream(["pass"]))) as srv:
        (isolated_config / "profiles" / "loop.profile").write_text(f"!api {srv.url}/\n")
        monkeypatch.chdir(tmp_path)
        yield srv


def infill(*args):
    result = run(SOURCE, "--infill-at", "2:5", "--profile", "loop", *args, timeout=TIME_LIMIT)
    assert_clean(result)
    return result


def test_secret_looking_extras_are_left_out_and_named_on_stderr(server, tmp_path):
    for name in (".env", "id_ed25519", "util.py"):
        (tmp_path / name).write_text(f"{SECRET} in {name}\n" if name != "util.py" else "U = 1\n")
    listing = [{"filename": "lib.py", "text": "L = 2\n"}, {"filename": "config/credentials.json", "text": SECRET},
               {"filename": ".ssh/id_rsa", "text": SECRET}]
    (tmp_path / "open.json").write_text(json.dumps(listing))
    result = infill("--extra", ".env", "--extra", "id_ed25519", "--extra", "util.py", "--extra-json", "open.json")
    assert (result.returncode, result.stdout) == (0, b"pass"), result
    got = server.requests[0]
    assert [e["filename"] for e in got.json["input_extra"]] == ["lib.py", "util.py"]
    assert SECRET not in got.text
    err = result.stderr.decode()
    assert err == "bufbridge: left out 4 context files that look like secrets: .env, .ssh/id_rsa, config/credentials.json, id_ed25519\n"
    assert SECRET not in err


def test_nothing_left_out_says_nothing(server, tmp_path):
    (tmp_path / "util.py").write_text("U = 1\n")
    result = infill("--extra", "util.py")
    assert (result.returncode, result.stdout, result.stderr) == (0, b"pass", b"")
    assert server.requests[0].json["input_extra"] == [{"filename": "util.py", "text": "U = 1\n"}]


def deep(n):
    return "[" * n + "]" * n


# (id, file name, content or a maker, what the one error line says)
BROKEN = [
    ("json too deep", "open.json", deep(5000), "--extra-json open.json: cannot use it (it nests deeper than 64 levels)"),
    ("json wrong shape", "open.json", '{"filename": "a", "text": "b"}', "--extra-json open.json: expected an array of"),
    ("json item shape", "open.json", '[{"filename": 1, "text": "b"}]', "--extra-json open.json: expected an array of"),
    ("json not json", "open.json", "[", "--extra-json open.json: not JSON"),
    ("json infinity", "open.json", '[{"filename": "a", "text": "b", "n": 1e999}]', "--extra-json open.json: not JSON (the number 1e999 is too large for JSON)"),
    ("extra fifo", "pipe.py", "fifo", "--extra pipe.py: cannot read it: a FIFO, not a regular file"),
    ("extra socket", "sock.py", "socket", "--extra sock.py: cannot read it: a socket, not a regular file"),
    ("extra too large", "big.py", "sparse", "--extra big.py: cannot read it: larger than 1 MiB"),
    ("extra folder", "pkg", "folder", "--extra pkg: cannot read it: a folder"),
    ("extra missing", "nope.py", None, "--extra nope.py: cannot read it: no such file"),
]


@pytest.mark.parametrize("name, content, says", [row[1:] for row in BROKEN], ids=[row[0] for row in BROKEN])
def test_unusable_extras_are_one_clear_line(server, tmp_path, name, content, says):
    path = tmp_path / name
    if content == "fifo":
        os.mkfifo(path)
    elif content == "socket":
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(path))
    elif content == "sparse":
        with open(path, "wb") as f:
            f.truncate(64 << 20)
    elif content == "folder":
        path.mkdir()
    elif content is not None:
        path.write_text(content)
    option = "--extra-json" if name.endswith(".json") else "--extra"
    result = infill(option, name)
    assert (result.returncode, result.stdout) == (1, b""), result
    err = result.stderr.decode()
    assert err.startswith("bufbridge: error: " + says) and err.count("\n") == 1, err
    assert server.requests == []


def test_the_extra_json_listing_may_be_larger_than_one_file(server, tmp_path):
    listing = [{"filename": f"f{i}.py", "text": "x" * 200_000 + "\n"} for i in range(8)]
    (tmp_path / "open.json").write_text(json.dumps(listing))  # about 1.6 MB: over one file's limit, under a listing's
    result = infill("--extra-json", "open.json", "--extra-tokens", "10")
    assert (result.returncode, result.stdout) == (0, b"pass"), result
