"""Attacks on the user's keys, one row each, run against the real bufbridge with two capture servers.

Every row runs twice: sending (with ``--verbose``, so the request is also
logged) and as a dry run (``!debug``). Whatever the row, server B never
sees a secret or a credential header, and no output shows the secret in any
rendering. Then the row's own outcome is checked:

* ``refused``: exit status 1 and exactly one error line that says ``says``,
  with no control character in it; only the server ``reached`` got a
  request (a redirecting server, say), or none;
* ``withheld``: the request went to ``reached`` without any credential, and a
  note says why;
* ``home``: the credential went to A, its own server (a control that proves
  the capture works).

Placeholders in buffers: ``<A>``, ``<B>``, ``<A6>`` are the servers' ports,
``<DL>`` a folder of downloaded (untrusted) profiles.
"""

import json
import re
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus

import pytest

import fakeserver as fs
from attack_world import CREDENTIAL_HEADERS, OTHER_KEY, SECRET
from loopback import assert_clean, run  # the real bufbridge, as the loopback tests run it

ENV = {"SECRET_VAR": SECRET, "OPENAI_API_KEY": SECRET, "GEMINI_API_KEY": OTHER_KEY}
Q = "!user\nq\n"
LOOP = "127.0.0.1"


@dataclass(frozen=True)
class Attack:
    id: str
    buffer: str
    expect: str  # "refused", "withheld" or "home"
    says: str = ""  # in the error line, or in the withheld note
    reached: str = ""  # the server that receives a request: "A", "B", "A6", or "" for none
    args: tuple = ()
    env: dict = field(default_factory=dict)
    secret: str = SECRET
    dry_run: bool = True  # also run as !debug (False when the outcome needs a real send)
    a_says: object = None  # servers -> the Reply server A gives, instead of a stream


ATTACKS = [
    # --- controls: the key reaches its own server ------------------------------------------
    Attack("control: own profile", "!profile secret\n" + Q, "home", reached="A"),
    Attack("control: loaded by another profile", "!profile wrapper\n" + Q, "home", reached="A"),
    Attack("control: host name case, same origin", "!profile secret-named\n!api http://LocalHost:<A>/v1\n" + Q, "home", reached="A"),
    Attack("control: another name for the same socket", "!profile secret-named\n!api http://127.0.0.1:<A>/v1\n" + Q, "withheld", "withheld", "A"),
    Attack("control: scheme case, same origin", "!profile secret\n!api HTTP://127.0.0.1:<A>/v1\n" + Q, "home", reached="A"),
    Attack("control: IPv6, another spelling of ::1", "!profile secret6\n!api http://[0:0::1]:<A6>/v1\n" + Q, "home", reached="A6"),
    Attack("control: quoted URL in the profile", "!profile quoted\n" + Q, "home", reached="A"),
    Attack("control: trusted profile sets host", "!profile router\n" + Q, "home", reached="A"),
    Attack("control: tab inside a header value", "!profile secret\n!>x-note a\tb\n" + Q, "home", reached="A"),
    # --- issue 7.1: the check and the connection read the URL differently ------------------
    Attack("backslash before @", f"!profile secret\n!api http://{LOOP}:<B>\\@{LOOP}:<A>/\n" + Q, "refused", "backslash"),
    Attack("backslash before @, quoted", f'!profile secret\n!api "http://{LOOP}:<B>\\@{LOOP}:<A>/v1/chat/completions"\n' + Q, "refused", "backslash"),
    Attack("backslash, built-in openai", "!profile openai\n!api https://evil.example\\@api.openai.com/v1\n" + Q, "refused", "backslash"),
    Attack("backslash after the port", f"!profile secret\n!api http://{LOOP}:<A>\\/v1\n" + Q, "refused", "backslash"),
    Attack("%40 before the host", f"!profile secret\n!api http://{LOOP}:<B>%40{LOOP}:<A>/\n" + Q, "refused", "percent-encoding"),
    Attack("%5c before @", f"!profile secret\n!api http://{LOOP}:<B>%5c@{LOOP}:<A>/\n" + Q, "refused", "userinfo"),
    Attack("%5c alone", f"!profile secret\n!api http://{LOOP}:<B>%5c{LOOP}:<A>/\n" + Q, "refused", "percent-encoding"),
    Attack("tab before @", f"!profile secret\n!api http://{LOOP}:<B>\t@{LOOP}:<A>/\n" + Q, "refused", "a tab"),
    Attack("space before @, quoted", f'!profile secret\n!api "http://{LOOP}:<B> @{LOOP}:<A>/"\n' + Q, "refused", "a space"),
    Attack("; before @", f"!profile secret\n!api http://{LOOP}:<B>;@{LOOP}:<A>/\n" + Q, "refused", "userinfo"),
    Attack("# before @", f"!profile secret\n!api http://{LOOP}:<B>#@{LOOP}:<A>/\n" + Q, "withheld", "withheld", "B"),
    Attack("? before @", f"!profile secret\n!api http://{LOOP}:<B>?@{LOOP}:<A>/\n" + Q, "withheld", "withheld", "B"),
    Attack("userinfo naming A", f"!profile secret\n!api http://{LOOP}:<A>@{LOOP}:<B>/\n" + Q, "refused", "userinfo"),
    Attack("userinfo, user and password", f"!profile secret\n!api http://me:pw@{LOOP}:<A>/v1\n" + Q, "refused", "userinfo"),
    Attack("percent-encoded host", "!profile secret\n!api http://127.0.0.%31:<A>/v1\n" + Q, "refused", "percent-encoding"),
    Attack("fullwidth number sign", "!profile secret\n!api http://ex\uff03ample/\n" + Q, "refused", "non-ASCII"),
    Attack("fullwidth reverse solidus", f"!profile secret\n!api http://{LOOP}:<B>\uff3c{LOOP}:<A>/\n" + Q, "refused", "non-ASCII"),
    Attack("no-break space in host", f"!profile secret\n!api http://{LOOP}:<B>\u00a0{LOOP}:<A>/\n" + Q, "refused", "U+00A0"),
    Attack("control character in path", f"!profile secret\n!api http://{LOOP}:<B>/\x1b[2J\n" + Q, "refused", "U+001B"),
    Attack("port out of range", "!profile secret\n!api http://127.0.0.1:99999/\n" + Q, "refused", "invalid port"),
    Attack("port is zero", "!profile secret\n!api http://127.0.0.1:0/\n" + Q, "refused", "invalid port"),
    Attack("unclosed bracket", "!profile secret\n!api p://[\n" + Q, "refused", "scheme"),
    Attack("unclosed IPv6 bracket", "!profile secret\n!api http://[::1\n" + Q, "refused", "[ with no ]"),
    Attack("IPv6 with backslash before @", "!profile secret6\n!api http://[::1]:<B>\\@[::1]:<A6>/\n" + Q, "refused", "backslash"),
    Attack("IPv6 userinfo", "!profile secret6\n!api http://[::1]:<B>@[::1]:<A6>/\n" + Q, "refused", "userinfo"),
    Attack("IPv6 zone id", "!profile secret6\n!api http://[::1%25lo]:<A6>/\n" + Q, "refused", "percent-encoding"),
    Attack("IPv6 key, request to IPv4", "!profile secret6\n!api http://127.0.0.1:<B>/v1\n" + Q, "withheld", "withheld", "B"),
    Attack("unbracketed IPv6", "!profile secret\n!api http://::1:<A>/v1\n" + Q, "refused", "brackets"),
    Attack("{key} interpolates a backslash", f"!profile secret\n!api http://{{h}}/v1\n!:h {LOOP}:<B>\\\\@{LOOP}:<A>\n" + Q, "refused", "backslash"),
    # --- issue 7.3: the key binds to its own profile's !api ------------------------------------
    Attack("untrusted profile's !api first", "!profile <DL>/evil.profile\n!profile secret\n" + Q, "withheld", "withheld", "B"),
    Attack("profile that loads the key after its own !api", "!profile outer\n" + Q, "withheld", "withheld", "B"),
    Attack("built-ins: gemini then openai", "!profile gemini\n!profile openai\n" + Q, "withheld", "withheld", "B"),
    Attack("built-ins: llama.cpp then openai", "!profile llama.cpp\n!profile openai\n" + Q, "withheld", "withheld", "B"),
    Attack("default profile after the buffer's !api", "!api http://127.0.0.1:<B>/v1\n" + Q, "withheld", "withheld", "B", env={"BUFBRIDGE_PROFILE": "secret"}),
    Attack("key from a profile without !api", "!profile outer-keyonly\n" + Q, "withheld", "bound to no server", "A"),
    Attack("literal key in a user profile", "!profile literal\n!api http://127.0.0.1:<B>/v1\n" + Q, "withheld", "withheld", "B"),
    Attack("other port, same host", "!profile secret\n!api http://127.0.0.1:<B>/v1\n" + Q, "withheld", "withheld", "B"),
    # --- issue 7.4: a secret that cannot be sent -----------------------------------------------
    Attack("secret ends with CR", "!profile secret\n" + Q, "refused", "$SECRET_VAR has a carriage return", env={"SECRET_VAR": SECRET + "\r"}, secret=SECRET + "\r", dry_run=False),
    Attack("secret has a line break", "!profile secret\n" + Q, "refused", "$SECRET_VAR has a line break", env={"SECRET_VAR": SECRET + "\nx"}, secret=SECRET + "\nx", dry_run=False),
    Attack("secret has an escape", "!profile secret\n" + Q, "refused", "$SECRET_VAR has a control character", env={"SECRET_VAR": "sk-\x1b[2J" + SECRET}, secret="sk-\x1b[2J" + SECRET, dry_run=False),
    Attack("secret is not ASCII", "!profile secret\n" + Q, "refused", "$SECRET_VAR has a non-ASCII", env={"SECRET_VAR": SECRET + "\u00e9"}, secret=SECRET + "\u00e9", dry_run=False),
    Attack("secret starts with a space", "!profile multi\n" + Q, "refused", "starts or ends with a space", env={"SECRET_VAR": " " + SECRET}, secret=" " + SECRET, dry_run=False),
    # --- issue 7.5: redirects ---------------------------------------------------------------------
    *[Attack(f"{status} to B", "!profile multi\n" + Q, "refused", f"HTTP {status} from http://127.0.0.1:<A>/v1/chat/completions: the server redirects to http://127.0.0.1:<B>/v1/chat/completions",
             "A", dry_run=False, a_says=lambda s, status=status: redirect(status, f"{s['B'].url}/v1/chat/completions")) for status in (301, 302, 303, 307, 308)],
    Attack("307 to its own origin", "!profile secret\n" + Q, "refused", "redirects to http://127.0.0.1:<A>/v2", "A", dry_run=False,
           a_says=lambda s: redirect(307, f"{s['A'].url}/v2")),
    Attack("307 with the key in the location", "!profile secret\n" + Q, "refused", "redirects to http://127.0.0.1:<B>/?key=[redacted]", "A", dry_run=False,
           a_says=lambda s: redirect(307, f"{s['B'].url}/?key={quote(SECRET, safe='')}")),
    # --- issue 7.4: the key echoed by its own server, in every escaping ------------------------------
    Attack("echo: JSON error message", "!profile secret\n" + Q, "refused", "HTTP 401", "A", dry_run=False,
           a_says=lambda s: fs.json_reply(401, {"error": {"message": f"bad key Bearer {SECRET}"}})),
    Attack("echo: JSON-escaped in text", "!profile secret\n" + Q, "refused", "HTTP 401", "A", dry_run=False,
           a_says=lambda s: fs.text_reply(401, "key " + json.dumps(SECRET).replace("/", "\\/") + " refused")),
    Attack("echo: Python repr", "!profile secret\n" + Q, "refused", "HTTP 500", "A", dry_run=False,
           a_says=lambda s: fs.text_reply(500, f"InvalidHeader: {('Bearer ' + SECRET)!r} and {('Bearer ' + SECRET).encode()!r}")),
    Attack("echo: percent-encoded in a URL", "!profile secret\n" + Q, "refused", "HTTP 403", "A", dry_run=False,
           a_says=lambda s: fs.text_reply(403, f"see https://x.example/?k={quote(SECRET, safe='')}&p={quote_plus(SECRET)}")),
    Attack("echo: mid-stream error", "!profile secret\n" + Q, "refused", "", "A", dry_run=False,
           a_says=lambda s: fs.Reply([*fs.openai_chat_stream(["Hi"])[:2], fs.sse({"error": {"message": f"key {json.dumps(SECRET)} revoked"}})])),
    # --- issue 7.6: a {key} in the profile's host ---------------------------------------------------
    Attack("buffer overrides the host key", "!profile azure\n!:resource 127.0.0.1:<B>\n" + Q, "withheld", "withheld", "B"),
    Attack("buffer overrides the host key, trailing #", "!profile azure\n!:resource 127.0.0.1:<B>/#\n" + Q, "withheld", "withheld", "B"),
    Attack("host key only the buffer sets", "!profile azure-open\n!:resource 127.0.0.1:<A>\n" + Q, "withheld", "cannot be resolved from the profile's own settings", "A"),
    # --- issue 7.7: framing headers and raw bytes in headers ----------------------------------------
    *[Attack(f"!>{name} from the buffer", f"!profile secret\n!>{name} {value}\n" + Q, "refused", f"!>{name} cannot be set")
      for name, value in [("host", "127.0.0.1:<B>"), ("Host", "other.example"), ("HOST", "x"), ("transfer-encoding", "chunked"),
                          ("content-length", "0"), ("connection", "close"), ("te", "trailers"), ("upgrade", "h2c"),
                          ("keep-alive", "300"), ("proxy-authorization", "Basic eA=="), ("expect", "100-continue")]],
    Attack("!>host from an untrusted profile", "!profile <DL>/evil-host.profile\n" + Q, "refused", "!>host cannot be set"),
    Attack("!>host from an untrusted profile, with --allow-env", "!profile <DL>/evil-host.profile\n" + Q, "refused", "!>host cannot be set",
           args=("--allow-env",)),
    Attack("!>host deleted from the buffer", "!profile router\n!>host\n" + Q, "refused", "!>host cannot be set"),
    Attack("tab in a header name", "!profile secret\n!>x\ty v\n" + Q, "refused", "header name"),
    Attack("NUL in a header name", "!profile secret\n!>x\0y v\n" + Q, "refused", "header name"),
    Attack("colon in a header name", "!profile secret\n!>x:y v\n" + Q, "refused", "header name"),
    Attack("NUL in a header value", "!profile secret\n!>x-a a\0b\n" + Q, "refused", "a NUL"),
    Attack("CR in a header value", "!profile secret\n!>x-a a\rinjected: 1\n" + Q, "refused", "a carriage return"),
    Attack("escape in a header value", "!profile secret\n!>x-a a\x1b[2Jb\n" + Q, "refused", "a control character (\\x1b)"),
    Attack("non-ASCII header value", "!profile secret\n!>x-a caf\u00e9\n" + Q, "refused", "a non-ASCII character"),
    # --- every path: cursor infill reads no directive, and its profile is bound the same way ----------
    Attack("infill: profile chain to B", "!api http://127.0.0.1:<B>/\n", "withheld", "withheld", "B", args=("--infill-at", "1:1"), env={"BUFBRIDGE_PROFILE": "outer"}),
    Attack("infill: the file's !api is text", "!api http://127.0.0.1:<B>\\@127.0.0.1:<A>/\n", "home", reached="A", args=("--infill-at", "1:1", "--profile", "secret")),
]


def renderings(secret):
    """The forms a secret can take in text, written independently of bufbridge's own redaction."""
    forms = set()
    for value in {secret, secret.strip()}:
        forms |= {value, json.dumps(value)[1:-1], json.dumps(value).replace("/", "\\/")[1:-1], repr(value)[1:-1],
                  repr(value.encode())[2:-1], quote(value, safe=""), quote(value), quote_plus(value)}
    return {form.encode("utf-8", "surrogateescape") for form in forms}


def fill(text, places):
    for token, value in places.items():
        text = text.replace(token, value)
    return text


def redirect(status, location):
    return fs.Reply([], status=status, framing="length", headers={"Location": location})


RUNS = [(attack, mode) for attack in ATTACKS for mode in ("send", "debug") if mode == "send" or attack.dry_run]


@pytest.mark.parametrize("attack, mode", RUNS, ids=[f"{attack.id}-{mode}" for attack, mode in RUNS])
def test_attack(attack, mode, world):
    servers, places = world
    if attack.a_says:
        servers["A"].handler = lambda _: attack.a_says(servers)
    buffer = fill(attack.buffer, places) + ("!debug\n" if mode == "debug" and "--infill-at" not in attack.args else "")
    args = [fill(a, places) for a in attack.args] + (["--debug"] if mode == "debug" and "--infill-at" in attack.args else ["--verbose"])
    result = run(buffer, *args, env={**ENV, **attack.env})
    assert_clean(result)
    never_shown(result, attack.secret)
    nothing_for_b(servers["B"], attack.secret)
    said = result.stderr if "--infill-at" in attack.args and mode == "send" else result.stdout
    says = fill(attack.says, places).encode()
    reached = {attack.reached} - {""} if mode == "send" else set()
    got = {name for name, server in servers.items() if server.requests}
    if attack.expect == "refused":
        assert result.returncode == 1, result.stdout + result.stderr
        line = one_error_line(result, "--infill-at" in attack.args)
        assert says in line, line
        assert got == reached, got
    elif attack.expect == "withheld":
        assert result.returncode == 0, result.stdout + result.stderr
        assert b"withheld" in said and says in said, said
        assert got == reached, got
        for server in servers.values():
            for request in server.requests:
                assert not credentials(request), request.headers
    else:
        assert result.returncode == 0, result.stdout + result.stderr
        assert got == reached, got
        if mode == "send":
            (request,) = servers[attack.reached].requests
            assert request.header("authorization") == f"Bearer {SECRET}"
        else:
            assert b"[redacted" in result.stdout


def never_shown(result, secret):
    for form in renderings(secret):
        if len(form) >= 4:
            assert form not in result.stdout, form
            assert form not in result.stderr, form


def credentials(request):
    """The credential headers of a request, but for B's own key (the gemini built-in sends it to B, its own server)."""
    return {name.lower() for name, value in request.headers if name.lower() in CREDENTIAL_HEADERS and value != OTHER_KEY}


def nothing_for_b(server, secret):
    for request in server.requests:
        assert not credentials(request), request.headers
        for form in renderings(secret):
            assert form not in request.raw


def one_error_line(result, infill):
    """The one error line: the !error block at the end of the reply (or, for cursor infill, standard error's last line)."""
    if infill:
        lines = result.stderr.decode().splitlines()
        assert lines and lines[-1].startswith("bufbridge: error: "), result.stderr
        line = lines[-1].encode()
    else:
        _, head, line = result.stdout.partition(b"\n\n!error\n\n")
        assert head and line.endswith(b"\n") and line.count(b"\n") == 1, result.stdout
        line = line[:-1]
    assert not re.search(rb"[\x00-\x1f\x7f]", line), line
    assert b"internal error" not in line
    return line
