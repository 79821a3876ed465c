"""Precedence, pinned by tables: buffer keys beat profile keys; the buffer's !api beats a profile's."""

import pytest

from bridge.resolve import DELETE, Setting, resolve_api, resolve_body, resolve_headers

B, P = True, False  # from the buffer / from a profile

BODY_CASES = [
    # (settings in load order, expected body on top of {"max_tokens": 2000})
    ("nothing set", [], {"max_tokens": 2000}),
    ("profile sets", [("t", 1, P)], {"max_tokens": 2000, "t": 1}),
    ("buffer sets", [("t", 1, B)], {"max_tokens": 2000, "t": 1}),
    ("buffer before profile: buffer wins", [("t", 1, B), ("t", 2, P)], {"max_tokens": 2000, "t": 1}),
    ("profile before buffer: buffer wins", [("t", 2, P), ("t", 1, B)], {"max_tokens": 2000, "t": 1}),
    ("two profiles: the later wins", [("t", 1, P), ("t", 2, P)], {"max_tokens": 2000, "t": 2}),
    ("buffer deletes a profile key", [("t", 2, P), ("t", DELETE, B)], {"max_tokens": 2000}),
    ("buffer deletion beats a later profile", [("t", DELETE, B), ("t", 2, P)], {"max_tokens": 2000}),
    ("profile deletes a default", [("max_tokens", DELETE, P)], {}),
    ("buffer deletes a default a profile re-sets", [("max_tokens", DELETE, B), ("max_tokens", 9, P)], {}),
    ("profile deletes, later profile sets", [("t", DELETE, P), ("t", 3, P)], {"max_tokens": 2000, "t": 3}),
    ("buffer sets twice: the last wins", [("t", 1, B), ("t", 5, B)], {"max_tokens": 2000, "t": 5}),
    ("buffer sets then deletes", [("t", 1, B), ("t", DELETE, B), ("t", 2, P)], {"max_tokens": 2000}),
    ("buffer empty string is a value", [("t", "", B), ("t", 2, P)], {"max_tokens": 2000, "t": ""}),
]


@pytest.mark.parametrize("settings, expected", [c[1:] for c in BODY_CASES], ids=[c[0] for c in BODY_CASES])
def test_body_precedence(settings, expected):
    recorded = [Setting(key, value, "x:1", from_buffer) for key, value, from_buffer in settings]
    assert resolve_body({"max_tokens": 2000}, recorded) == expected


API_CASES = [
    ("none", [], None),
    ("profile only", [("p1", P)], "p1"),
    ("first profile wins", [("p1", P), ("p2", P)], "p1"),
    ("buffer beats earlier profile", [("p1", P), ("b", B)], "b"),
    ("buffer beats later profile", [("b", B), ("p1", P)], "b"),
    ("last buffer !api wins", [("b1", B), ("p1", P), ("b2", B)], "b2"),
]


@pytest.mark.parametrize("apis, expected", [c[1:] for c in API_CASES], ids=[c[0] for c in API_CASES])
def test_api_precedence(apis, expected):
    assert resolve_api(apis) == expected


HEADER_CASES = [
    ("set", [("A", "1")], {"a": "1"}),
    ("names are case-insensitive; last wins", [("X-Key", "1"), ("x-key", "2")], {"x-key": "2"}),
    ("none deletes", [("a", "1"), ("A", None)], {}),
    ("delete then set", [("a", None), ("a", "3")], {"a": "3"}),
]


@pytest.mark.parametrize("ops, expected", [c[1:] for c in HEADER_CASES], ids=[c[0] for c in HEADER_CASES])
def test_header_order(ops, expected):
    assert resolve_headers(ops) == expected
