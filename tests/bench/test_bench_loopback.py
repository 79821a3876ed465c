"""``bufbridge bench`` against loopback servers whose answers are known, so every score is checked exactly."""

import io
import json
import os
import signal
import subprocess
import threading

import pytest

import fakeserver as fs
import loopback
from bridge import cli
from benchkit import REPO, Bench, pieces, profile, server_for


def test_a_perfect_profile_scores_one_on_every_hole_kind(tmp_path, isolated_config):
    with server_for(lambda want: fs.llama_stream(pieces(want))) as server:
        label = profile(isolated_config, "perfect", server)
        run = Bench(["-p", label, "-n", "8", "-o", str(tmp_path / "r.json"), str(REPO)])
        assert run.status == 0, run.err
        assert len(server.requests) == 8 and all(r.path == "/infill" for r in server.requests)
    results = run.results(label)
    assert sorted({r["kind"] for r in results}) == ["block", "line", "line-end", "span"]
    for r in results:
        assert (r["exact"], r["first_line"], r["similarity"], r["cut"], r["lines_over"]) == (True, True, 1.0, True, 0), r
        assert r["generated"] == r["kept"] == len(pieces(next(t["expected"] for t in run.data["tasks"] if t["id"] == r["task"])))
        assert r["error"] is None and r["truncated"] == [] and r["finish"] == "eos"
        assert r["context"] == 12 and r["context_from"] == "server"  # the fake stream's prompt_n + cache_n
    assert run.err == ""
    line = next(line for line in run.out.splitlines() if line.split()[:1] == ["perfect"]).split()
    assert line[1:7] == ["8", "100%", "100%", "1.00", "100%", "100%"], line


def test_a_broken_profile_scores_zero_and_a_failing_one_counts_its_errors(tmp_path, isolated_config):
    with server_for(lambda want: fs.llama_stream(["@@@", "@@"])) as garbage, \
            fs.FakeServer(fs.json_reply(500, {"error": {"message": "model crashed"}})) as failing:
        wrong, down = profile(isolated_config, "wrong", garbage), profile(isolated_config, "down", failing)
        run = Bench(["-p", wrong, "-p", down, "-n", "4", "-o", str(tmp_path / "r.json"), str(REPO)])
    assert run.status == 0, run.err
    expected = {t["id"]: t["expected"] for t in run.data["tasks"]}
    for r in run.results(wrong):
        assert (r["exact"], r["first_line"], r["similarity"]) == (False, False, 0.0), r
        assert r["cut"] is ("\n" not in expected[r["task"]])  # one line, as long as the hole was
        assert r["got"] == "@@@@@" and r["error"] is None
    for r in run.results(down):
        assert (r["exact"], r["similarity"], r["generated"], r["kept"]) == (False, 0.0, 0, 0)
        assert "500" in r["error"] and "model crashed" in r["error"] and "\n" not in r["error"]
    assert "warning: " + down + ": 4 of 4 requests failed" in run.out


def test_a_truncating_profile_shows_its_truncations(tmp_path, isolated_config):
    def half(want):
        return fs.llama_stream(pieces(want[: len(want) // 2]), stop_type="limit")

    with server_for(half) as server:
        label = profile(isolated_config, "short", server)
        run = Bench(["-p", label, "-n", "4", "--kinds", "line,line-end", "-o", str(tmp_path / "r.json"), str(REPO)])
    assert run.status == 0, run.err
    results = run.results(label)
    assert [r["truncated"] for r in results] == [["output"]] * 4 and {r["finish"] for r in results} == {"limit"}
    assert not any(r["exact"] for r in results) and all(r["first_line"] is False for r in results)
    assert f"warning: {label}: 4 of 4 replies were truncated" in run.out


def test_tokens_generated_and_kept_when_the_stop_heuristics_cut(tmp_path, isolated_config):
    """A model that runs on past the line: the line budget cuts it, the kept share shows what was thrown away."""
    def runaway(want):
        return fs.llama_stream(pieces(want) + ["\nnot this", " line\n", "nor this\n"])

    with server_for(runaway) as server:
        label = profile(isolated_config, "chatty", server)
        run = Bench(["-p", f"{label} --max-lines 1", "-n", "4", "--kinds", "line", "-o", str(tmp_path / "r.json"), str(REPO)])
    assert run.status == 0, run.err
    for r in run.results(f"{label} --max-lines 1"):
        assert r["exact"] and r["stop"] == "max-lines" and r["finish"] == "stop heuristic: max-lines"
        assert r["generated"] == r["kept"] + 1, r  # the piece that starts a second line is the last one read
    assert "--max-lines 1" in run.out


def test_a_profile_that_answers_nothing_scores_zero_without_an_error(tmp_path, isolated_config):
    """An empty insertion is a result (the filter says why on its own stderr), not a failure of the bench."""
    with server_for(lambda want: fs.llama_stream([])) as server:
        label = profile(isolated_config, "mute", server)
        run = Bench(["-p", label, "-n", "2", "--kinds", "line", "-o", str(tmp_path / "r.json"), str(REPO)])
    assert run.status == 0, run.err
    for r in run.results(label):
        assert (r["got"], r["exact"], r["generated"], r["kept"], r["error"]) == ("", False, 0, 0, None), r


def test_the_tasks_are_the_same_for_the_same_seed_and_differ_for_another(tmp_path, isolated_config):
    with server_for(lambda want: fs.llama_stream(pieces(want))) as server:
        label = profile(isolated_config, "p", server)
        runs = [Bench(["-p", label, "-n", "6", "--seed", seed, "-o", str(tmp_path / f"{i}.json"), str(REPO)])
                for i, seed in enumerate(["7", "7", "8"])]
    ids = [[t["id"] for t in run.data["tasks"]] for run in runs]
    assert ids[0] == ids[1] and ids[0] != ids[2]


def test_a_rerun_asks_only_what_is_missing_and_other_settings_are_refused(tmp_path, isolated_config):
    out = str(tmp_path / "r.json")
    with server_for(lambda want: fs.llama_stream(pieces(want))) as server:
        a, b = profile(isolated_config, "a", server), profile(isolated_config, "b", server)
        first = Bench(["-p", a, "-n", "4", "-o", out, str(REPO)])
        assert first.status == 0 and len(server.requests) == 4
        again = Bench(["-p", a, "-p", b, "-n", "4", "-o", out, str(REPO)])
        assert again.status == 0 and len(server.requests) == 8  # only b's four
        assert len(again.data["results"]) == 8 and again.data["profiles"] == [a, b]
        other = Bench(["-p", a, "-n", "5", "-o", out, str(REPO)])
        assert len(server.requests) == 8
    assert other.status == 1
    assert other.err == f"bufbridge: error: bench: {out} holds a run with other settings or files; give another --out FILE, or --fresh to start this file over\n"


def test_ctrl_c_keeps_finished_results_and_the_same_command_resumes(tmp_path, isolated_config):
    """The real command in its own process: SIGINT while the third request waits; the rerun sends only the rest."""
    gate = fs.Gate()
    sent = []

    def handler(received):
        from benchkit import middle, originals

        sent.append(received)
        script = fs.llama_stream(pieces(middle(received, originals())))
        return fs.Reply([gate] + script if len(sent) == 3 else script)

    out = tmp_path / "r.json"
    with fs.FakeServer(handler=handler, timeout=20) as server:
        argv = ["bench", "-p", profile(isolated_config, "p", server), "-n", "5", "-o", str(out), str(REPO)]
        process = subprocess.Popen(loopback.bufbridge_command() + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env=loopback.child_env(), cwd=tmp_path, preexec_fn=default_sigint)
        try:
            assert gate.wait_reached(20), "the third request never came"
            process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            gate.open()
        assert process.returncode == 130, stderr
        assert stderr.decode().strip() == f"bufbridge: interrupted: 3 of 5 requests not done; the others are kept in {out}: run the same command again to finish"
        kept = json.loads(out.read_text())
        assert len(kept["results"]) == 2 and b"2" in stdout  # the table of what is done
        done = subprocess.run(loopback.bufbridge_command() + argv, capture_output=True, env=loopback.child_env(), cwd=tmp_path, timeout=60)
        assert done.returncode == 0, done.stderr
        assert len(sent) == 6  # 3 before the interrupt, then the 3 missing ones
    final = json.loads(out.read_text())
    assert sorted(r["task"] for r in final["results"]) == sorted(t["id"] for t in final["tasks"])
    assert all(r["exact"] for r in final["results"])
    loopback.assert_clean(done)


def default_sigint():
    """Ctrl-C raises KeyboardInterrupt in the child even when the test runner was started with SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_chat_tasks_pass_or_fail_their_checks(tmp_path, isolated_config):
    chat = tmp_path / "chat"
    chat.mkdir()
    files = {
        "add.chat": "!user\nWhat is 2+2? Answer with the number only.\n", "add.expect": "4\n",
        "name.chat": "!user\nName a colour.\n", "name.regex": r"^(red|green|blue)\b",
        "code.chat": "!user\nWrite a shell line that prints ok.\n", "code.check": 'grep -qx "echo ok" "$BUFBRIDGE_REPLY"\n',
        "wrong.chat": "!user\nSay no.\n", "wrong.expect": "no\n",
    }
    for name, text in files.items():
        (chat / name).write_text(text)
    answers = {"2+2": "4", "colour": "green, as grass", "shell": "echo ok\n", "Say no": "yes"}

    def handler(received):
        asked = received.json["messages"][-1]["content"]
        return fs.Reply(fs.openai_chat_stream(pieces(next(a for q, a in answers.items() if q in asked))))

    with fs.FakeServer(handler=handler) as server:
        label = profile(isolated_config, "chatter", server)
        run = Bench(["-p", label, "--chat", str(chat), "-o", str(tmp_path / "r.json")])
    assert run.status == 0, run.err
    got = {r["task"]: (r["passed"], r["got"]) for r in run.results(label)}
    assert got == {"chat:add.chat": (True, "4"), "chat:code.chat": (True, "echo ok\n"),
                   "chat:name.chat": (True, "green, as grass"), "chat:wrong.chat": (False, "yes")}
    assert "75%" in run.out  # chat ok


def test_compare_shows_both_runs_and_which_way_each_metric_moved(tmp_path, isolated_config):
    with server_for(lambda want: fs.llama_stream(pieces(want))) as good, server_for(lambda want: fs.llama_stream(["@@"])) as bad:
        a = Bench(["-p", profile(isolated_config, "m", good), "-n", "4", "-o", str(tmp_path / "a.json"), str(REPO)])
        b = Bench(["-p", profile(isolated_config, "m", bad), "-n", "4", "-o", str(tmp_path / "b.json"), str(REPO)])
    assert a.status == b.status == 0
    html = tmp_path / "c.html"
    run = Bench(["--compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--html", str(html)])
    assert run.status == 0, run.err
    rows = {line.split()[1]: line.split()[2:] for line in run.out.splitlines() if line.split()[:1] == ["m"]}
    assert rows["exact"] == ["100%", "0%", "-100", "pt", "worse"]
    assert rows["similar"] == ["1.00", "0.00", "-1.00", "worse"]
    assert run.out.endswith("4 tasks in common\n")
    page = html.read_text()
    assert page.count("<svg") >= 4 and "<script" not in page and "src=" not in page and "href=" not in page


def test_compare_needs_a_profile_in_common(tmp_path, isolated_config):
    with server_for(lambda want: fs.llama_stream(pieces(want))) as server:
        for name, labels in (("a", ["x", "y"]), ("b", ["z", "w"])):
            for label in labels:
                profile(isolated_config, label, server)
            assert Bench([arg for label in labels for arg in ("-p", label)] + ["-n", "2", "-o", str(tmp_path / f"{name}.json"), str(REPO)]).status == 0
    run = Bench(["--compare", str(tmp_path / "a.json"), str(tmp_path / "b.json")])
    assert run.status == 1
    assert run.err == (f"bufbridge: error: bench --compare: {tmp_path}/a.json and {tmp_path}/b.json have no profile in common; "
                       "compare runs of the same profiles, or files of one profile each\n")


def test_the_html_report_escapes_what_it_shows(tmp_path):
    from bridge.bench import report, scoring

    rows = [{"profile": "<b>x</b> & 'y'", "tasks": 1, **{key: 0.5 for key, *_ in scoring.METRICS}}]
    result = {"task": "a.py:1:1:line", "profile": "<b>x</b>", "kind": "line", "similarity": 0.5, "cut": False, "lines_over": 2,
              "ttft_ms": None, "got": "</pre><script>alert(2)</script>", "error": None}
    page = report.html_report([("<i>run</i>", rows)], ["<script>alert(1)</script>"], [result])
    assert "<b>x</b>" not in page and "<i>run</i>" not in page and "<script>" not in page
    assert "<td>+2 lines</td>" in page and "&lt;/pre&gt;&lt;script&gt;alert(2)" in page
    assert "&lt;b&gt;x&lt;/b&gt; &amp; " in page


@pytest.mark.parametrize("argv, message", [
    (["-n", "2", str(REPO)], "bufbridge: error: bench: no profile to bench; name one or more with --profile NAME\n"),
    (["-p", "nosuch-profile-xyz", str(REPO)], "bufbridge: error: bench --profile nosuch-profile-xyz: "),
    (["-p", "llama.cpp"], "bufbridge: error: bench: nothing to bench; name a folder of code (PATH) or of chat buffers (--chat FOLDER)\n"),
    (["-p", "llama.cpp", "{tmp}/nowhere"], "bufbridge: error: bench: {tmp}/nowhere: not a folder or a file; name folders, git work trees or source files\n"),
    (["-p", "x --no-such-option", str(REPO)], "bufbridge: error: bench --profile 'x --no-such-option': unrecognized arguments: --no-such-option\n"),
    (["-p", "llama.cpp qwen", str(REPO)], "bufbridge: error: bench --profile 'llama.cpp qwen': 'qwen' is not an option; after the profile come only options, e.g. --fim qwen\n"),
    (["--compare", "{tmp}/a.json", "{tmp}/a.json"], "bufbridge: error: bench: cannot read {tmp}/a.json: No such file or directory\n"),
    (["--compare", "{tmp}/bad.json", "{tmp}/bad.json"], "bufbridge: error: bench: {tmp}/bad.json is not a bufbridge bench result file (format 1); give a file written by bufbridge bench\n"),
])
def test_mistakes_are_one_line(tmp_path, argv, message):
    (tmp_path / "bad.json").write_text('{"bufbridge_bench": 1, "results": 3}')
    run = Bench([a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert run.status == 1
    assert run.err.count("\n") == 1 and "Traceback" not in run.err
    message = message.replace("{tmp}", str(tmp_path))
    assert run.err == message if message.endswith("\n") else run.err.startswith(message), run.err


def test_a_progress_bar_runs_on_a_terminal_and_is_gone_at_the_end(tmp_path, isolated_config):
    """stderr a pseudo-terminal: the bar counts the requests; nothing of it stays on the screen, and stdout has only the table."""
    main, secondary = os.openpty()
    seen = []

    def read():
        while True:
            try:
                data = os.read(main, 65536)
            except OSError:
                return
            if not data:
                return
            seen.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    with server_for(lambda want: fs.llama_stream(pieces(want))) as server:
        with os.fdopen(secondary, "w") as terminal:
            out = io.BytesIO()
            status = cli.main(["bench", "-p", profile(isolated_config, "p", server), "-n", "3", "-o", str(tmp_path / "r.json"), str(REPO)],
                              stdout=out, stderr=terminal, env=dict(os.environ))
    reader.join(10)
    os.close(main)
    screen = b"".join(seen)
    assert status == 0
    assert b"3/3" in screen and screen.endswith(b"\x1b[2K")  # the last thing drawn erases the bar's line
    assert b"\x1b" not in out.getvalue() and b"p " in out.getvalue()


def test_the_filter_never_imports_bench_or_rich():
    code = ("import io, sys; from bridge import cli; "
            "cli.main(['--debug'], stdin=io.BytesIO(b'!api http://127.0.0.1:9/\\n!user\\nhi\\n'), stdout=io.BytesIO(), stderr=io.StringIO()); "
            "print(sorted(m for m in sys.modules if m.startswith(('rich', 'bridge.bench'))))")
    done = subprocess.run([loopback.sys.executable, "-c", code], capture_output=True, text=True, env=loopback.child_env(), timeout=30)
    assert (done.returncode, done.stdout, done.stderr) == (0, "[]\n", "")
