"""``bufbridge bench``: which profile serves you better, measured on your own code and prompts."""

import argparse
import os
import sys

from .. import cli
from ..errors import BridgeError, printable
from ..output import Closed, Output

DESCRIPTION = """\
Compare profiles (models, quantizations, servers, templates, stop heuristics)
on your own code: holes cut out of the files under PATH (a git work tree lists
its files with git ls-files, so .gitignore is respected) are filled in through
the same cursor-infill path as the editor's, and scored; buffers of your own
(--chat FOLDER) are sent as chat requests and checked. Results go to a JSON
file after every task: run the same command again to resume after Ctrl-C."""
DEFAULT_OUT = "bufbridge-bench.json"
DEFAULT_TASKS = 20


def parser():
    from .tasks import KINDS

    p = cli.Parser(prog="bufbridge bench", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="*", metavar="PATH", help="folders, git work trees or source files to cut FIM tasks from")
    p.add_argument("-p", "--profile", action="append", default=[], metavar="SPEC",
                   help="a profile to bench (repeatable): its name or path, optionally followed by cursor-infill options in the same argument, e.g. 'llama.cpp --fim qwen'")
    p.add_argument("-n", "--tasks", type=_count, default=DEFAULT_TASKS, metavar="N", help=f"FIM tasks to sample (default {DEFAULT_TASKS})")
    p.add_argument("--seed", type=int, default=1, metavar="N", help="the seed of the sampling: the same files and seed give the same tasks (default 1)")
    p.add_argument("--kinds", type=_kinds, default=KINDS, metavar="K,...", help=f"hole kinds, comma-separated (default: {','.join(KINDS)})")
    p.add_argument("--chat", metavar="FOLDER", help="chat tasks: NAME.chat buffers, each with NAME.expect, NAME.regex or NAME.check beside it")
    p.add_argument("-o", "--out", default=DEFAULT_OUT, metavar="FILE", help=f"the JSON result file; an existing one of the same run is resumed (default {DEFAULT_OUT})")
    p.add_argument("--fresh", action="store_true", help="start the result file over instead of resuming it")
    p.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report with a chart per metric")
    p.add_argument("--timeout", type=cli.seconds, metavar="SECONDS", help="the idle timeout of each request, as for bufbridge")
    p.add_argument("--compare", nargs=2, metavar=("A.json", "B.json"), help="compare two result files instead of running")
    return p


def _count(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"not a number of tasks (0 or more): {text!r}")
    return value


def _kinds(text):
    from .tasks import KINDS

    names = tuple(dict.fromkeys(k.strip() for k in text.split(",") if k.strip()))
    unknown = [k for k in names if k not in KINDS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown hole kind {', '.join(unknown) or text!r}: choose from {', '.join(KINDS)}")
    return names


def main(argv, *, env=None, stdout=None, stderr=None, transport=None):
    """Run ``bufbridge bench ARGV``; return the exit status (130 after Ctrl-C, with the finished results kept)."""
    env = os.environ if env is None else env
    stdout = stdout if stdout is not None else sys.stdout.buffer
    stderr = stderr if stderr is not None else sys.stderr
    try:
        args = parser().parse_args(argv)
    except cli.UsageError as err:
        print(f"{parser().format_usage()}bufbridge bench: error: {err}", file=stderr)
        return 2
    try:
        _need_rich()
        if args.compare:
            return compare(args, stdout)
        return run(args, env, stdout, stderr, transport)
    except BridgeError as err:
        print(f"bufbridge: error: {printable(str(err))}", file=stderr)
        return 1
    except KeyboardInterrupt:  # before the first request or while the table is drawn: nothing to keep
        return 130
    except Closed:  # the reader of the table went away (`| head`): the results are in the file
        return 1


def _need_rich():
    try:
        import rich  # noqa: F401
    except ImportError:
        raise BridgeError("bufbridge bench needs the rich package", hint="install it: pip install 'bufbridge[bench]'") from None


def run(args, env, stdout, stderr, transport=None):
    """Ask every profile every task not yet in the result file, then show the summary."""
    from . import results

    profiles = _profiles(args, env)
    holes, chats = _tasks(args, env)
    settings = {"paths": [os.path.abspath(p) for p in args.paths], "seed": args.seed, "tasks": args.tasks,
                "kinds": list(args.kinds), "chat": os.path.abspath(args.chat) if args.chat else None}
    everything = [*holes, *chats]
    store = results.Store.open(args.out, settings, [t.describe() for t in everything], [p.label for p in profiles], fresh=args.fresh)
    todo = [(t, p) for t in everything for p in profiles if not store.done(p.label, t.id)]
    interrupted = _ask_all(todo, store, env, cli.idle_timeout(args, env), transport, stderr)
    store.save()  # also when nothing was left to do: the file names this run's profiles
    _show(store, [p.label for p in profiles], f"{len(holes)} FIM and {len(chats)} chat tasks, seed {args.seed}: {args.out}", args, stdout)
    if interrupted:
        left = sum(1 for t in everything for p in profiles if not store.done(p.label, t.id))
        print(f"bufbridge: interrupted: {left} of {len(everything) * len(profiles)} requests not done; "
              f"the others are kept in {args.out}: run the same command again to finish", file=stderr)
        return 130
    return 0


def _profiles(args, env):
    from .runner import Profile

    profiles = [Profile.parse(spec) for spec in args.profile]
    if not profiles:
        raise BridgeError("bench: no profile to bench", hint="name one or more with --profile NAME")
    if len({p.label for p in profiles}) != len(profiles):
        raise BridgeError("bench: the same --profile is named twice", hint="name each profile once")
    for profile in profiles:
        _check_profile(profile, env)
    return profiles


def _tasks(args, env):
    """(FIM holes, chat tasks) of this run."""
    from . import tasks

    if not args.paths and not args.chat:
        raise BridgeError("bench: nothing to bench", hint="name a folder of code (PATH) or of chat buffers (--chat FOLDER)")
    holes = tasks.sample([tasks.Source(path, env) for path in args.paths], args.tasks, args.seed, args.kinds)
    if args.paths and args.tasks and not holes:
        raise BridgeError(f"bench: no code file with a line to cut out under {', '.join(args.paths)}",
                          hint="name folders holding source files (.py, .c, .js, .go, .rs and the other languages of the stop heuristics)")
    return holes, tasks.chat_tasks(args.chat, env) if args.chat else []


def _show(store, labels, title, args, stdout):
    """The table, the verdict and the warnings on ``stdout``; the HTML report when asked for."""
    from . import report, scoring

    rows = scoring.summarise(store.results.values(), labels)
    warnings = scoring.flags(rows)
    out = Output(stdout)
    out.write(report.table(rows, report.escape(title), *_terminal(stdout)))
    for line in report.verdict(rows):
        out.write(f"{printable(line)}\n")
    for line in warnings:
        out.write(f"warning: {printable(line)}\n")
    if args.html:
        _write_html(args.html, report.html_report([(title, rows)], warnings, [r for r in store.results.values() if r["profile"] in labels]))


def _check_profile(profile, env):
    """Load the profile once before the first request, so a typo is one error rather than one per task."""
    from ..load import Loader

    try:
        Loader(env).load_buffer("", default_profile=profile.argv[1])
    except BridgeError as err:
        raise BridgeError(f"bench --profile {profile.label}: {err}") from None


def _ask_all(todo, store, env, timeout, transport, stderr):
    """Ask every (task, profile) in ``todo``, saving each result; True when Ctrl-C stopped it."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from . import runner
    from .report import escape

    console = Console(file=stderr, highlight=False)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        bar = progress.add_task("bench", total=len(todo))
        try:
            for task, profile in todo:
                progress.update(bar, description=escape(f"{profile.label}: {task.id}"[:60]))
                ask = runner.run_chat if task.describe()["kind"] == "chat" else runner.run_hole
                store.add(ask(task, profile, env, timeout, transport))
                progress.advance(bar)
        except KeyboardInterrupt:
            return True
    return False


def _terminal(stdout):
    """(width, is a terminal) of the output: a pipe or a file gets 120 columns of plain text."""
    try:
        if os.isatty(stdout.fileno()):
            return os.get_terminal_size(stdout.fileno()).columns, True
    except (AttributeError, OSError, ValueError):
        pass
    return 120, False


def _write_html(path, page):
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(page)
    except OSError as err:
        raise BridgeError(f"bench: cannot write {path}: {err.strerror}", hint="give another --html FILE") from None


def compare(args, stdout):
    from . import report, results, scoring

    (name_a, name_b), runs = args.compare, [results.load(path) for path in args.compare]
    shared = set.intersection(*({r["task"] for r in run["results"]} for run in runs))
    rows = [scoring.summarise([r for r in run["results"] if r["task"] in shared], run["profiles"]) for run in runs]
    if not shared:
        raise BridgeError(f"bench --compare: {name_a} and {name_b} have no task in common",
                          hint="compare runs over the same files with the same --seed, --tasks and --kinds")
    if not report.pairs(rows[0], rows[1]):
        raise BridgeError(f"bench --compare: {name_a} and {name_b} have no profile in common",
                          hint="compare runs of the same profiles, or files of one profile each")
    text = report.compare(rows[0], rows[1], report.escape(name_a), report.escape(name_b), *_terminal(stdout))
    Output(stdout).write(f"{text}{len(shared)} tasks in common\n")
    if args.html:
        _write_html(args.html, report.html_report([(f"A: {name_a}", rows[0]), (f"B: {name_b}", rows[1])]))
    return 0
