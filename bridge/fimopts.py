"""The command-line options of cursor infill (``--infill-at``).

Kept apart from ``fim.py`` and ``stops.py`` so that parsing the command line
of an ordinary chat request does not import the FIM machinery.
"""

CHARS_PER_TOKEN = 4  # a cheap, deliberately rough estimate; budgets are options
DEFAULT_PREFIX_LINES = 256
DEFAULT_SUFFIX_LINES = 64
DEFAULT_CTX_TOKENS = 4096
DEFAULT_EXTRA_TOKENS = 4096
SUFFIX_SHARE = 4  # the suffix gets at most 1/SUFFIX_SHARE of the token budget (as llama.cpp's /infill)

HELP = """\
With --infill-at the input is a plain source file: no line of it is read as
a directive. The profile comes from --profile or $BUFBRIDGE_PROFILE, the FIM
template from --fim or $BUFBRIDGE_FIM (without one, llama.cpp's /infill
builds the prompt). Only the text to insert is written to standard output;
errors go to standard error (exit status 1).

Stop heuristics (turn one off with --no-stop NAME, or in the template's
"heuristics" field): stop-strings, suffix-repeat, dedent, new-definition,
brackets, max-lines, max-time, trim, drop-empty."""


DEFAULT_MAX_LINES = 40
DEFAULT_MAX_MS = 5000
# The server's token limit (``max_tokens``, which llama.cpp also reads as
# ``n_predict``) follows the line budget: lines × TOKENS_PER_LINE, at most
# MAX_PREDICT_TOKENS, unless the profile sets max_tokens or n_predict itself.
TOKENS_PER_LINE = 32  # a long line of code (about 128 characters)
MAX_PREDICT_TOKENS = 2000  # the buffer language's default max_tokens: never more than before


def add_arguments(parser):
    """The cursor-infill options of ``bufbridge``."""
    g = parser.add_argument_group("cursor infill", HELP)
    g.add_argument("--infill-at", metavar="LINE:COL", help="fill in at this position of the input: 1-based line and column, the column in bytes like Vim's col('.') (one past the end of the line is its end)")
    g.add_argument("--fim", metavar="TEMPLATE", help="FIM template from fim_templates/ (qwen, deepseek, codellama, starcoder, starcoder2, codegemma, granite, granite4, mistral, or your own); default $BUFBRIDGE_FIM, else the profile's, else none: the server's /infill")
    g.add_argument("--filename", metavar="NAME", help="the file's name, shown to the model and used for its comment syntax (default: FILE)")
    g.add_argument("--extra", metavar="FILE", action="append", default=[], help="another file to give as context (repeatable; sent sorted by name, so the prompt is the same whatever the order)")
    g.add_argument("--extra-json", metavar="FILE", action="append", default=[], help='extra context as a JSON array of {"filename": ..., "text": ...}, e.g. the editor\'s open buffers (repeatable)')
    g.add_argument("--repo", metavar="NAME", help="repository name for templates with a repository-level form (default: the current folder's name)")
    g.add_argument("--prefix-lines", type=nonnegative, default=DEFAULT_PREFIX_LINES, metavar="N", help=f"lines before the cursor (default {DEFAULT_PREFIX_LINES})")
    g.add_argument("--suffix-lines", type=nonnegative, default=DEFAULT_SUFFIX_LINES, metavar="N", help=f"lines after the cursor (default {DEFAULT_SUFFIX_LINES})")
    g.add_argument("--ctx-tokens", type=nonnegative, default=DEFAULT_CTX_TOKENS, metavar="N", help=f"token budget for the text around the cursor, estimated as characters/{CHARS_PER_TOKEN}; the suffix gets at most a quarter (default {DEFAULT_CTX_TOKENS})")
    g.add_argument("--extra-tokens", type=nonnegative, default=DEFAULT_EXTRA_TOKENS, metavar="N", help=f"token budget for the extra files (default {DEFAULT_EXTRA_TOKENS})")
    g.add_argument("--no-stop", metavar="NAME", action="append", default=[], help="turn a stop heuristic off (repeatable, comma-separated, or all)")
    g.add_argument("--max-lines", type=positive, metavar="N", help=f"line budget of the completion (default {DEFAULT_MAX_LINES}); the server's max_tokens is N × {TOKENS_PER_LINE}, at most {MAX_PREDICT_TOKENS}, unless the profile sets max_tokens or n_predict")
    g.add_argument("--max-ms", type=positive, metavar="MS", help=f"time budget in milliseconds from the first text, checked as text arrives (default {DEFAULT_MAX_MS}): complete lines are kept, an unfinished one dropped (the first line is kept up to its last word); also sent to /infill as t_max_predict_ms")


def nonnegative(text):
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


def positive(text):
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value
