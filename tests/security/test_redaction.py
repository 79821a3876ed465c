"""Redaction matches every rendering of a secret, and only the secret."""

import json
from urllib.parse import quote, quote_plus

import pytest

from attack_world import SECRET
from bridge.cli import redact

CR_SECRET = "sk-crlf-0123456789\r"

RENDERINGS = [
    ("raw", SECRET, SECRET),
    ("JSON", SECRET, json.dumps(SECRET)[1:-1]),
    ("JSON, solidus escaped", SECRET, json.dumps(SECRET)[1:-1].replace("/", "\\/")),
    ("Python repr", SECRET, repr(SECRET)[1:-1]),
    ("bytes repr", SECRET, repr(SECRET.encode())[2:-1]),
    ("percent-encoded", SECRET, quote(SECRET, safe="")),
    ("form-encoded", SECRET, quote_plus(SECRET)),
    ("CR: raw", CR_SECRET, CR_SECRET),
    ("CR: repr", CR_SECRET, repr(CR_SECRET)[1:-1]),
    ("CR: JSON", CR_SECRET, json.dumps(CR_SECRET)[1:-1]),
    ("CR: trimmed by the server", CR_SECRET, CR_SECRET.strip()),
    ("CR: percent-encoded", CR_SECRET, quote(CR_SECRET, safe="")),
]


@pytest.mark.parametrize("secret, form", [(s, f) for _, s, f in RENDERINGS], ids=[name for name, *_ in RENDERINGS])
def test_every_rendering_is_redacted(secret, form):
    assert redact(f"HTTP 401: key '{form}' refused", (secret,)) == "HTTP 401: key '[redacted]' refused"


def test_text_without_the_secret_is_unchanged():
    text = "!>authorization: $SECRET_VAR in !>authorization was sent literally; sk-other"
    assert redact(text, (SECRET, CR_SECRET)) == text
