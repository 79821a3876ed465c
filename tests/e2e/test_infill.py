"""A working /infill: a copy of the bundled model that claims fill-in-the-middle tokens.

llama.cpp enables /infill when the vocabulary has FIM prefix, suffix and
middle tokens (``llama_vocab_fim_pre/suf/mid``); otherwise it answers 501.
The loader takes them from the GGUF keys ``tokenizer.ggml.fim_{pre,suf,mid}_token_id``,
or guesses them from token texts such as ``<|fim_prefix|>``, which SmolLM2
does not have. So the test writes a copy of the model whose metadata names
three existing (unused) special tokens. The model was never trained on them:
the test checks the plumbing (the request is accepted and text streams), not
the quality of the middle.
"""

import pytest

from .support import buffer, bufbridge, bundled_model, import_gguf, start_server

pytestmark = pytest.mark.e2e

FIM_TOKENS = {  # GGUF key -> text of an existing token in SmolLM2's vocabulary
    "tokenizer.ggml.fim_pre_token_id": "<jupyter_start>",
    "tokenizer.ggml.fim_suf_token_id": "<jupyter_text>",
    "tokenizer.ggml.fim_mid_token_id": "<jupyter_code>",
}


def copy_with_fim_tokens(source, target):
    """Write ``target``: the GGUF ``source`` with FIM token ids added to its metadata."""
    gguf = import_gguf()
    reader = gguf.GGUFReader(source)
    tokens = reader.get_field("tokenizer.ggml.tokens").contents()
    writer = gguf.GGUFWriter(target, reader.get_field("general.architecture").contents())
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name == "general.architecture":
            continue  # the writer adds these itself
        kind = field.types[0]
        writer.add_key_value(field.name, field.contents(), kind, sub_type=field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None)
    for key, text in FIM_TOKENS.items():
        writer.add_uint32(key, tokens.index(text))
    for tensor in reader.tensors:
        writer.add_tensor_info(tensor.name, tensor.data.shape, tensor.data.dtype, tensor.data.nbytes, tensor.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for tensor in reader.tensors:
        writer.write_tensor_data(tensor.data)
    writer.close()


@pytest.fixture(scope="module")
def fim_llama(tmp_path_factory):
    """A second llama-server, on the FIM-token copy of the bundled model."""
    source = bundled_model()
    model = tmp_path_factory.mktemp("fim-model") / "smollm2-with-fim-tokens.gguf"
    copy_with_fim_tokens(source, model)
    server = start_server(model=model, port=0, ctx_size=2048)
    try:
        yield server
    finally:
        server.stop()


def test_infill_streams_text_when_the_model_has_fim_tokens(fim_llama):
    # !heuristics off: the untrained middle as it streams (the stop heuristics would cut it, line by line)
    run = bufbridge(buffer(fim_llama, "!stats", "!heuristics off", "!:temperature 0", "!:max_tokens 12", "!:ignore_eos true", "def add(a, b):", "!infill", "    return c"))
    assert run.status == 0, run.out.strip()
    assert "!error" not in run.out and "!assistant" not in run.out
    assert run.out.strip(), "no text for the middle"
    assert len(run.writes) >= 3, f"{len(run.writes)} writes: the reply did not stream"
    assert "generated 12 tok" in run.err  # infill's !stats go to stderr: its stdout is code
