"""Tier 1: buffer in, exact request out (URL, headers, JSON body). Nothing is sent."""

import json

import pytest

import fakeserver as fs

from bridge.errors import BuildError, DirectiveError, ProfileError

from .helpers import request, run

LLAMA = {"cache_prompt": True, "stop": ["<|im_end|>"], "max_tokens": 2000, "stream": True}


def test_default_profile_chat():
    req = request("You are terse.\n!user\nHello\n")
    assert req.url == "http://localhost:8080/chat/completions"
    assert req.headers == (("content-type", "application/json"),)
    assert req.json == {**LLAMA, "messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hello"}]}
    assert req.header_line and req.mode == "chat" and req.wire == "openai_chat"


def test_messages_trim_newlines_and_drop_empty():
    req = request("\n\n!user\n\n\nfirst\n\nsecond\n\n!assistant\n\n!user\nthird\n")
    assert req.json["messages"] == [{"role": "user", "content": "first\n\nsecond"}, {"role": "user", "content": "third"}]


def test_crlf_is_lf():
    lf = "!:temperature 0.5\n!user\nline one\nline two\n!debug\n"
    assert request(lf.replace("\n", "\r\n")) == request(lf)


def test_escape_and_unknown_directives_are_text():
    req = request("!user\n!!user is escaped\n!unknown stays\n!usered too\n")
    assert req.json["messages"] == [{"role": "user", "content": "!user is escaped\n!unknown stays\n!usered too"}]


def test_role_words_need_the_exact_word():
    req = request("!user extra words are ignored\nhi\n")
    assert req.json["messages"] == [{"role": "user", "content": "hi"}]


def test_json_values_and_strings():
    req = request('!:a 1\n!:b [1, "x"]\n!:c not json\n!:d "quoted"\n!:e {"k": true}\n!:f NaN\n!user\nq\n')
    body = req.json
    assert (body["a"], body["b"], body["c"], body["d"], body["e"], body["f"]) == (1, [1, "x"], "not json", "quoted", {"k": True}, "NaN")


def test_key_deletion():
    assert "max_tokens" not in request("!:max_tokens\n!user\nq\n").json


def test_buffer_key_beats_profile_wherever_it_stands():
    for text in ("!:cache_prompt false\n!profile llama.cpp\n!user\nq\n", "!profile llama.cpp\n!:cache_prompt false\n!user\nq\n"):
        assert request(text).json["cache_prompt"] is False


def test_buffer_api_beats_profile():
    for text in ("!api http://a:1/v1\n!profile llama.cpp\n!user\nq\n", "!profile llama.cpp\n!api http://a:1/v1\n!user\nq\n"):
        assert request(text).url == "http://a:1/v1/chat/completions"


def test_api_interpolation_and_quoting():
    req = request("!api http://h/{model}/x\n!:model m-1\n!:n 3\n!user\nq\n")
    assert req.url == "http://h/m-1/x/chat/completions"
    assert request('!api "http://h/{model}/exact"\n!:model m\n!user\nq\n').url == "http://h/{model}/exact"
    assert request("!api http://h/{n}\n!:n 3\n!user\nq\n").url == "http://h/3/chat/completions"


@pytest.mark.parametrize("api, message", [("http://h/{model", "unmatched '{'"), ("http://h/{nokey}", "missing key: nokey")])
def test_api_interpolation_errors(api, message):
    with pytest.raises(BuildError, match=message):
        request(f"!api {api}\n!user\nq\n")


def test_completion_mode():
    req = request("!completion\nThe meaning of life is\n")
    assert req.url == "http://localhost:8080/completions"
    assert req.json["prompt"] == "The meaning of life is" and "messages" not in req.json
    assert not req.header_line and req.wire == "completions"


def test_completion_rejects_roles_with_location():
    with pytest.raises(BuildError) as err:
        request("!completion\ntext\n!user\nq\n")
    assert err.value.where == "<stdin>:3"


def test_infill_endpoint():
    req = request("def f(x):\n!infill\n    return y\n")
    assert req.url == "http://localhost:8080/infill"
    assert {k: req.json[k] for k in ("prompt", "input_prefix", "input_suffix")} == {"prompt": "", "input_prefix": "def f(x):\n", "input_suffix": "\n    return y"}
    assert req.mode == "infill" and not req.header_line


def test_infill_with_template_goes_to_completions():
    req = request("!infill <P>{prefix}<S>{suffix}<M>\na\n!infill\nb\n")
    assert req.url == "http://localhost:8080/completions"
    assert req.json["prompt"] == "<P>a\n<S>\nb<M>" and req.mode == "fim"


def test_fim_profile_sets_template_and_stops():
    req = request("!profile llama.cpp\n!profile fim:codellama\nint f() {\n!infill\n}\n")
    assert req.json["prompt"] == " <PRE> int f() {\n <SUF>\n} <MID>"
    assert req.json["stop"] == ["<EOT>"]


def test_second_infill_marker_is_an_error():
    with pytest.raises(DirectiveError) as err:
        request("a\n!infill\nb\n!infill\n")
    assert err.value.where == "<stdin>:4" and "<stdin>:2" in err.value.message


def test_continuing_an_assistant_reply():
    req = request("!user\nCount to five.\n!assistant\nOne, two,\n")
    assert req.json["messages"][-1] == {"role": "assistant", "content": "One, two,"}
    assert not req.header_line
    empty = request("!user\nq\n!assistant\n\n")
    assert empty.header_line and empty.header_there  # an empty reply is a new one, under the header already there
    assert empty.json["messages"] == [{"role": "user", "content": "q"}]
    assert not request("!user\nq\n!assistant\nA.\n!user\nr\n").header_there


def test_a_buffer_ending_in_an_empty_assistant_gets_no_second_header():
    with fs.FakeServer(fs.Reply(fs.openai_chat_stream(["Hi."]))) as server:
        status, out, _ = run(f"!api {server.url}/v1\n!user\nq\n!assistant\n")
    assert (status, out) == (0, "\nHi.")


def test_begin_and_end():
    req = request("!:temperature 0\nheader junk\n!begin\n!user\nkept\n!end\n!user\nignored\n!:temperature 1\n")
    assert req.json["messages"] == [{"role": "user", "content": "kept"}]
    assert req.json["temperature"] == 0


def test_note_is_not_sent():
    assert request("!user\n!note private\nq\n").json["messages"] == [{"role": "user", "content": "q"}]


def test_exclude_drops_tagged_blocks():
    text = "!exclude think\n!user\nq\n!assistant\n<think>\nhmm\n!user\n</think>\nanswer\n!user\nnext\n"
    assert request(text).json["messages"] == [
        {"role": "user", "content": "q"}, {"role": "assistant", "content": "answer"}, {"role": "user", "content": "next"}
    ]


def test_profile_text_joins_the_message_where_it_is_loaded():
    req = request("!profile qwen3\n!profile llama.cpp\n!user\nq\n")
    assert req.json["messages"][0] == {"role": "system", "content": "/no_think"}
    assert req.json["temperature"] == 0.7


def test_prepend_is_unescaped_when_quoted():
    assert request('!prepend "<think>\\n"\n!user\nq\n').prepend == "<think>\n"
    assert request("!prepend Sure,\n!user\nq\n").prepend == "Sure,"
    with pytest.raises(DirectiveError, match="!prepend"):
        request('!prepend "broken\n!user\nq\n')


def test_headers_set_and_delete():
    req = request("!>X-Use-Cache false\n!>content-type\n!>x-extra 1\n!>X-EXTRA\n!user\nq\n")
    assert req.headers == (("x-use-cache", "false"),)


def test_debug_render_matches_request():
    req = request("!debug\n!:model m\n!user\nq\n")
    head, body = req.render().split("\n\n", 1)
    assert head.splitlines() == ["POST http://localhost:8080/chat/completions HTTP/1.1", "content-type: application/json"]
    assert json.loads(body) == req.json and body.endswith("\n") and "\n" not in body.rstrip("\n")


def test_empty_chat_is_an_error():
    with pytest.raises(BuildError, match="nothing to send"):
        request("!user\n\n")


def test_unknown_profile_error_has_location_and_hint():
    with pytest.raises(ProfileError) as err:
        request("!user\nq\n!profile nosuch\n")
    assert err.value.where == "<stdin>:3" and "--list-profiles" in str(err.value)


def test_profile_loop_is_reported(isolated_config):
    (isolated_config / "profiles").mkdir()
    (isolated_config / "profiles" / "a.profile").write_text("!profile b\n")
    (isolated_config / "profiles" / "b.profile").write_text("!profile a\n")
    with pytest.raises(ProfileError, match="loop"):
        request("!profile a\n!user\nq\n")


def test_no_api_anywhere_is_an_error():
    with pytest.raises(BuildError, match="no API URL"):
        request("!profile fim:qwen\na\n!infill\nb\n")


@pytest.mark.parametrize("line, meant", [
    ("!User", "!user"), ("! user", "!user"), ("!usr", "!user"), ("!user:", "!user"), ("!ASSISTANT", "!assistant"),
    ("!assitant", "!assistant"), ("!contxt notes.txt", "!context"), ("!Profile openai", "!profile"),
])
def test_a_near_miss_of_a_directive_is_sent_as_text_with_a_note(line, meant):
    req = request(f"!user\nq\n{line}\nmore\n")
    assert req.json["messages"][-1]["content"].endswith(f"{line}\nmore")  # the request is what Illume sends
    assert any(f"<stdin>:3: `{line}` is not a directive" in note and f"did you mean `{meant}`?" in note for note in req.notes)


@pytest.mark.parametrize("line", ["!username is not one", "!important", "!!user", "!wow", "plain", "!", "!:key 1"])
def test_other_lines_get_no_note(line):
    assert not [note for note in request(f"!user\nq\n{line}\n").notes if "is not a directive" in note]
