"""Loopback fixtures: a fake server and bufbridge subprocesses that are always cleaned up."""

import pytest

import fakeserver
from loopback import Running


@pytest.fixture
def server():
    """A FakeServer with no reply set yet; the test sets ``server.reply`` or ``server.routes``."""
    with fakeserver.FakeServer() as srv:
        yield srv


@pytest.fixture
def running():
    """Start bufbridge subprocesses with ``running(buffer, *args)``; every one is killed at the end."""
    started = []

    def start(buffer, *args, env=None):
        proc = Running(buffer, *args, env=env)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.kill()
