"""Fixtures for the host tests: a loopback fake server."""

import pytest

import fakeserver


@pytest.fixture
def server():
    """A FakeServer with no reply set yet; the test sets ``server.reply`` or ``server.handler``."""
    with fakeserver.FakeServer() as srv:
        yield srv
