"""OpenAI ``chat/completions`` streams (also llama.cpp, Ollama ``/v1``, vLLM, OpenRouter, DeepSeek, Gemini compat)."""

from . import Done, Fail, Reasoning, Text, _list, meta

NAME = "openai_chat"


def decode(event, kind=None):
    """Pieces of one chunk: ``choices[0].delta`` (or ``.message`` when not streamed)."""
    pieces = []
    for choice in _list(event.get("choices"))[:1]:
        if not isinstance(choice, dict):
            continue  # a malformed chunk is skipped, like any chunk of unknown shape
        delta = choice.get("delta") or choice.get("message") or {}
        if not isinstance(delta, dict):
            continue
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            pieces.append(Reasoning(reasoning))
        content = delta.get("content")
        if isinstance(content, str) and content:
            pieces.append(Text(content))
        finish = choice.get("finish_reason")
        if finish == "error":  # Mistral's in-stream error signal
            pieces.append(Fail("the server ended the reply with finish_reason \"error\""))
        elif finish:
            pieces.append(Done(finish))
    return pieces + meta(event)
