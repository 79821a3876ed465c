"""The command line: read a buffer, send one request, stream the reply.

Only ``main`` prints errors. Everything it needs from the outside world
(arguments, streams, environment, transport) can be passed in.
"""

import argparse
import functools
import os
import sys
import time

from . import __version__
from .errors import BridgeError, printable
from .output import Closed, Output, WriteError

DESCRIPTION = """\
Read a buffer on standard input, send it to a language model as one request
(lines starting with ! configure it), and stream the reply to standard output.
See the README or `:help bufbridge` for the buffer language."""


class UsageError(Exception):
    """A command-line argument argparse refused; ``main`` prints it where this run's errors go."""


class Parser(argparse.ArgumentParser):
    """argparse, with its errors raised instead of printed to the process's stderr and exiting.

    The editor host runs many requests at once in one process: a bad argument
    in one must reach that request's stderr and end only that request.
    """

    def error(self, message):
        raise UsageError(message)


@functools.cache  # built once per process: the host parses every request's arguments
def parser():
    p = Parser(prog="bufbridge", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", nargs="?", help="read the buffer from FILE instead of standard input")
    p.add_argument("-p", "--profile", metavar="NAME", help="default profile when the buffer names none (a name or a path; overrides $BUFBRIDGE_PROFILE)")
    p.add_argument("--allow-env", action="store_true", help="expand $VAR in the buffer's own !> headers (off by default: only profiles may read the environment)")
    p.add_argument("--allow-files", action="store_true", help="let the buffer's !context, !profile PATH, !reddit and !github read files outside the current folder (never /proc, /sys, /dev or the configuration folder)")
    p.add_argument("--timeout", type=seconds, metavar="SECONDS", help="give up when the server sends nothing for SECONDS (default 600, or `timeout` in config.toml; 0: never)")
    p.add_argument("--debug", action="store_true", help="dry run: print the request instead of sending it (like !debug)")
    p.add_argument("--stats", action="store_true", help="end the reply with the !stats note, like !stats (with --infill-at, on standard error)")
    p.add_argument("-v", "--verbose", action="store_true", help="log the request and response status to standard error (secrets redacted)")
    p.add_argument("--list-profiles", action="store_true", help="list the profiles and FIM templates a buffer can name, and where each comes from")
    p.add_argument("--version", action="version", version=f"bufbridge {__version__}")
    from .fimopts import add_arguments

    add_arguments(p)  # --infill-at and its options: a source file at a cursor, no directives read
    return p


def seconds(text):
    """An argparse type: a number of seconds, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"not a number of seconds (0 or more): {text!r}")
    return value


def main(argv=None, *, stdin=None, stdout=None, stderr=None, env=None, transport=None, cwd=None, cancel=None, extra=()):
    """Run the filter; return the exit status.

    ``cwd``: where relative paths start (default: the current folder).
    ``cancel``: a ``send.Cancel`` another thread may fire to stop the request
    at once (the editor host's ``cancel``).
    ``extra``: ``fim.Extra`` context for cursor infill, after the ``--extra`` files, in this order (the host's ``extra``).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    env = os.environ if env is None else env
    stdout = stdout if stdout is not None else sys.stdout.buffer
    stderr = stderr if stderr is not None else sys.stderr
    if argv[:1] == ["serve"]:
        from .serve import main as serve_main

        return serve_main(argv[1:], env=env, stdout=stdout, stderr=stderr)
    if argv[:1] == ["bench"]:
        from .bench.main import main as bench_main

        return bench_main(argv[1:], env=env, stdout=stdout, stderr=stderr, transport=transport)
    try:
        args = parser().parse_args(argv)
        args.extra_items = tuple(extra)
    except UsageError as err:
        print(f"{parser().format_usage()}bufbridge: error: {err}", file=stderr)
        return 2
    if args.file == "host":  # `bufbridge [OPTIONS] host`: the editor's host, OPTIONS for its every request
        if argv[-1] != "host":
            print("bufbridge: host must be the last argument (bufbridge [OPTIONS] host); to read a file named host, write ./host", file=stderr)
            return 2
        from .host.server import main as host_main

        return host_main(argv[:-1], env=env)
    out = Output(stdout)
    secrets = ()
    as_line = args.infill_at is not None or args.list_profiles  # stdout is code or a listing: no !error block in it
    try:
        if args.list_profiles:
            return list_profiles(env, out)
        text = read_input(os.path.join(cwd, args.file) if cwd and args.file else args.file, stdin)
        args.timeout = idle_timeout(args, env)
        if args.infill_at is not None:  # even "--infill-at ''": the file is never read as directives
            from .fim import plan as plan_infill

            request, stops = plan_infill(text, env, args, cwd)
        else:
            request, stops = plan_buffer(text, env, args, cwd)
        secrets = request.secrets
        return run(request, out, stderr, args, transport, stops, cancel)
    except Closed:
        return 1  # the editor stopped reading: nothing to say, nowhere to say it
    except KeyboardInterrupt:
        return 130
    except BridgeError as err:
        return report(out, redact(str(err), secrets), stderr, as_line=as_line)
    except Exception as err:  # a bug: still no traceback unless asked for
        if env.get("BUFBRIDGE_DEBUG"):
            raise
        return report(out, redact(f"internal error: {type(err).__name__}: {err}; rerun with BUFBRIDGE_DEBUG=1 to see the traceback, and please report it", secrets), stderr, as_line=as_line)


def report(out, line, stderr, *, as_line=False):
    """Write the ``!error`` block (to ``stderr`` as one line with ``as_line``, or when ``out`` fails); exit status 1."""
    line = printable(line)  # buffer and server text in it must not move the cursor or split the line
    if not as_line:
        try:
            out.write(f"\n\n!error\n\n{line}\n")
            return 1
        except (Closed, WriteError):  # standard output itself failed: the line goes where it still can
            pass
    print(f"bufbridge: error: {line}", file=stderr)
    return 1


def redact(text, secrets):
    """``text`` with every secret replaced, in every form it can take there (security rule 4)."""
    from .envvars import redact as redacted

    return redacted(text, secrets)


def read_input(path, stdin):
    if path:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as err:
            raise BridgeError(f"cannot read {path}: {err.strerror}") from None
    else:
        data = (stdin if stdin is not None else sys.stdin.buffer).read()
    if isinstance(data, str):
        return data
    return data.decode("utf-8", errors="replace")


def load_config(env):
    """The user's ``config.toml`` (``allow_env``, ``allow_files``, ``timeout``), or {}."""
    from .profiles import config_dir

    path = config_dir(env) / "config.toml"
    if not path.is_file():
        return {}
    from .cache import by_file

    return by_file("config", path, _read_config)


def _read_config(path):
    import tomllib

    from .files import Reader

    try:
        return tomllib.loads(Reader().read(str(path), "config.toml"))
    except tomllib.TOMLDecodeError as err:
        raise BridgeError(f"{path}: {err}", hint="fix or remove the configuration file") from None


def config_flag(env, name):
    """A true/false setting of ``config.toml`` (false when absent); anything else is an error."""
    value = load_config(env).get(name, False)
    if not isinstance(value, bool):
        raise BridgeError(f"config.toml: {name} = {value!r} is not true or false", hint=f"write {name} = true or {name} = false")
    return value


def idle_timeout(args, env):
    """The idle timeout in seconds (None: none): --timeout, else ``timeout`` in config.toml, else the default."""
    from .profiles import config_dir
    from .send import IDLE_TIMEOUT

    value = args.timeout
    if value is None:
        value = load_config(env).get("timeout", IDLE_TIMEOUT)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
            raise BridgeError(f"{config_dir(env) / 'config.toml'}: timeout must be a number of seconds (0 or more), not {value!r}",
                              hint="fix the configuration file")
    return value or None


def plan(text, env, args, cwd=None):
    """Load and build: the Request for ``text``."""
    return plan_buffer(text, env, args, cwd)[0]


def plan_buffer(text, env, args, cwd=None):
    """Load and build: the Request for ``text``, and for an ``!infill`` marker the stop filter for its reply (else None)."""
    from .build import build
    from .load import Loader

    allow_env = args.allow_env or config_flag(env, "allow_env")
    allow_files = getattr(args, "allow_files", False) or config_flag(env, "allow_files")
    doc = Loader(env, allow_env=allow_env, allow_files=allow_files, cwd=cwd).load_buffer(text, default_profile=args.profile)
    if args.debug:
        doc.debug = True
    request = build(doc)
    if doc.mode != "infill":
        return request, None
    from .fim import marker_stops  # only here: a chat request does not import the FIM machinery

    return request, marker_stops(doc, request)


def run(request, out, stderr, args, transport, stops=None, cancel=None, stats=None):
    """Send the request (or print it, for a dry run) and stream the reply; ``stats``: a ``stream.Stats`` to fill (``bench`` reads it)."""
    if request.debug:
        out.write("\n\n" + redact(request.render(), request.secrets))
        write_notes(request, out, stderr)
        return 0
    for problem in request.problems:
        raise problem
    from .send import Cancel, RequestsTransport, open_reply
    from .stream import Stats, format_stats, stream

    if args.verbose:
        print(redact(request.render(), request.secrets), file=stderr)
    cancel = cancel or Cancel()  # the reader going away shuts the connection, even while the server is silent
    transport = transport or RequestsTransport(args.timeout, cancel)
    if stats is None:
        stats = Stats(started=time.monotonic())
    with out.reader_watch(cancel.fire):
        response = open_reply(transport, request)
        stats.responded = time.monotonic()
        if args.verbose:
            print(printable(f"HTTP {response.status} {response.headers.get('content-type', '')}"), file=stderr)
        complete = False
        try:
            if request.header_line:
                out.write("\n" if request.header_there else "\n\n!assistant\n\n")
            if request.header_line or request.mode != "chat":
                out.write(request.prepend)
            with out.per_read(response.chunks()) as chunks:  # one write per network read, not one per token
                stream(request, chunks, out, stats, stops=stops)
            complete = stops is None or not stops.reason
        finally:
            response.close(complete=complete)  # closing the connection is what stops generation on the server
    if stops is not None and stops.reason and args.verbose:
        print(f"bufbridge: completion cut by the {stops.reason} heuristic", file=stderr)
    empty = stops.empty_note() if stops is not None else None  # an insertion that is nothing says why
    write_notes(request, out, stderr, stats.notes + ([empty] if empty else []) + ([format_stats(stats)] if request.stats or args.stats else []))
    return 0


def write_notes(request, out, stderr, more=()):
    """Notes (then ``more``, e.g. !stats) go into the reply as ``!note`` lines, except in infill modes, where text is code."""
    for note in map(printable, [*request.notes, *more]):
        if request.mode in ("chat", "completion") or request.debug:
            out.write(f"\n\n!note {note}\n")
        else:
            print(f"bufbridge: {note}", file=stderr)


def list_profiles(env, out):
    from .profiles import available, describe

    rows = [(found.name, found.origin, describe(found), str(found.path)) for found in available(env)]
    width = max((len(name) for name, *_ in rows), default=0)
    for name, origin, description, path in rows:
        out.write(f"{name.ljust(width)}  {origin:<8}  {description}\n{'':{width}}            {path}\n")
    return 0


def entry():
    """Console-script entry point."""
    sys.exit(main())
