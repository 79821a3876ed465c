"""The attack suite's world: two loopback servers and the user's own profiles.

A is the server a profile's key belongs to, B is anywhere else; A6 is A's
twin on the IPv6 loopback. The user's configuration folder holds profiles
bound to A (and copies of built-ins whose URLs are rewritten to loopback, so
that "built-in profiles only" attacks run without the network).
"""

from pathlib import Path

import pytest

import fakeserver as fs
from attack_world import SECRET

BUILTINS = Path(__file__).resolve().parents[2] / "profiles"


def reply_for(name):
    """A server that answers chat with ``name`` and cursor infill in llama.cpp's format."""
    def handler(received):
        if received.path.endswith("/infill"):
            return fs.Reply(fs.llama_stream([name]))
        return fs.Reply(fs.openai_chat_stream([name]))
    return handler


@pytest.fixture
def servers():
    """{"A": ..., "B": ..., "A6": ...}: A owns the key, B is elsewhere, A6 is A on ::1."""
    with fs.FakeServer(handler=reply_for("A")) as a, fs.FakeServer(handler=reply_for("B")) as b, \
            fs.FakeServer(handler=reply_for("A6"), host="::1") as a6:
        yield {"A": a, "B": b, "A6": a6}


def builtin_at(name, url):
    """The built-in profile ``name`` with its !api line pointing at ``url`` instead."""
    lines = (BUILTINS / f"{name}.profile").read_text().splitlines()
    return "".join((f"!api {url}" if line.startswith("!api ") else line) + "\n" for line in lines)


def user_profiles(a, b, a6):
    return {
        "secret": f"!api {a}/v1\n!>authorization Bearer $SECRET_VAR\n",
        "multi": f"!api {a}/v1\n!>x-api-key $SECRET_VAR\n!>api-key $SECRET_VAR\n!>x-goog-api-key $SECRET_VAR\n",
        "literal": f"!api {a}/v1\n!>authorization Bearer {SECRET}\n",
        "secret6": f"!api {a6}/v1\n!>authorization Bearer $SECRET_VAR\n",
        "secret-named": f"!api {a.replace('127.0.0.1', 'localhost')}/v1\n!>authorization Bearer $SECRET_VAR\n",
        "wrapper": "!profile secret\n",
        "outer": f"!api {b}/v1\n!profile secret\n",
        "keyonly": "!>x-api-key $SECRET_VAR\n",
        "outer-keyonly": f"!api {a}/v1\n!profile keyonly\n",
        "azure": f"!api http://{{resource}}/v1\n!:resource {a[len('http://'):]}\n!>api-key $SECRET_VAR\n",
        "azure-open": "!api http://{resource}/v1\n!>api-key $SECRET_VAR\n",
        "quoted": f'!api "{a}/v1/chat/completions"\n!>authorization Bearer $SECRET_VAR\n',
        "router": f"!api {a}/v1\n!>host 127.0.0.1\n!>authorization Bearer $SECRET_VAR\n",
        # built-ins, moved to loopback: the key's own server is A, the others are B
        "openai": builtin_at("openai", f"{a}/v1"),
        "gemini": builtin_at("gemini", f"{b}/v1"),
        "llama.cpp": builtin_at("llama.cpp", f"{b}/"),
    }


@pytest.fixture
def world(servers, isolated_config, tmp_path, monkeypatch):
    """Write the user's profiles and an untrusted profile file; return the placeholders for buffers.

    The buffer runs in ``tmp_path``, where the downloaded profile is: inside the
    current folder, so that rule 5 lets the buffer name it and rule 2 is what is tested.
    """
    monkeypatch.chdir(tmp_path)
    urls = {name: server.url for name, server in servers.items()}
    folder = isolated_config / "profiles"
    folder.mkdir()
    for name, text in user_profiles(urls["A"], urls["B"], urls["A6"]).items():
        (folder / f"{name}.profile").write_text(text)
    untrusted = tmp_path / "downloaded"
    untrusted.mkdir()
    (untrusted / "evil.profile").write_text(f"!api {urls['B']}/v1\n")
    (untrusted / "evil-host.profile").write_text(f"!api {urls['A']}/v1\n!>host 127.0.0.1:{servers['B'].port}\n")
    places = {"<A>": str(servers["A"].port), "<B>": str(servers["B"].port), "<A6>": str(servers["A6"].port), "<DL>": str(untrusted)}
    return servers, places
