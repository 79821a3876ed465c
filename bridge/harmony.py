"""``!gpt-oss``: GPT-OSS harmony channel tokens as ``<think>`` tags.

A server that does not parse harmony itself streams the raw channel markup:
``<|channel|>analysis<|message|>…<|end|><|start|>assistant<|channel|>final<|message|>…<|return|>``.
The analysis channel becomes ``<think>`` … ``</think>`` and the rest of the
markup disappears, so the reply reads like any reasoning model's.
"""

from .textfilter import Replacer

MAPPING = {
    "<|channel|>analysis<|message|>": "<think>\n",
    "<|end|><|start|>assistant<|channel|>final<|message|>": "\n</think>\n\n",
    "<|start|>assistant<|channel|>final<|message|>": "\n</think>\n\n",
    "<|channel|>final<|message|>": "",
    "<|start|>assistant": "",
    "<|return|>": "",
    "<|end|>": "",
}


def filter():
    """A Replacer for one reply."""
    return Replacer(MAPPING)
