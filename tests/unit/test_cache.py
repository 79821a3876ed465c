"""Trusted files are read again only when they change, and a change is seen at the next read."""

import os

import pytest

from bridge import cache
from bridge.errors import BridgeError

from .helpers import request, run


def counting(calls):
    def build(path):
        calls.append(path)
        return path.read_text()
    return build


def test_a_file_is_built_once_per_version(tmp_path):
    path, calls = tmp_path / "a.profile", []
    path.write_text("one\n")
    assert [cache.by_file("t", path, counting(calls)) for _ in range(3)] == ["one\n"] * 3
    assert len(calls) == 1
    path.write_text("two, longer\n")
    assert cache.by_file("t", path, counting(calls)) == "two, longer\n" and len(calls) == 2
    stat = path.stat()
    path.write_text("three\n")  # another content of another size...
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # ...even with the old time
    assert cache.by_file("t", path, counting(calls)) == "three\n"


def test_an_error_is_not_kept(tmp_path):
    path, attempts = tmp_path / "broken.toml", []

    def build(p):
        attempts.append(p)
        raise BridgeError("broken")

    path.write_text("x")
    for _ in range(2):
        with pytest.raises(BridgeError):
            cache.by_file("t", path, build)
    assert len(attempts) == 2


def test_an_edited_profile_takes_effect_at_the_next_request(isolated_config):
    folder = isolated_config / "profiles"
    folder.mkdir()
    (folder / "box.profile").write_text("!api http://127.0.0.1:9/v1\n")
    assert request("!profile box\n!user\nq\n").url == "http://127.0.0.1:9/v1/chat/completions"
    (folder / "box.profile").write_text("!api http://127.0.0.1:10/v2\n")
    assert request("!profile box\n!user\nq\n").url == "http://127.0.0.1:10/v2/chat/completions"


def test_an_edited_config_file_takes_effect_at_the_next_request(isolated_config):
    (isolated_config / "config.toml").write_text("timeout = 5\n")
    assert run("!user\nq\n!debug\n")[0] == 0
    (isolated_config / "config.toml").write_text('timeout = "soon"\n')
    status, out, _ = run("!user\nq\n")
    assert status == 1 and "timeout must be a number of seconds" in out
