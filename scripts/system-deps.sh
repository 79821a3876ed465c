#!/usr/bin/env bash
# System packages the tests and the build need: Vim (the editor tests drive a real one),
# curl (the benchmarks' baseline), cmake and a C++ compiler (to build llama.cpp's server).
set -euo pipefail
missing=()
command -v vim >/dev/null || missing+=(vim)
command -v curl >/dev/null || missing+=(curl)
command -v cmake >/dev/null || missing+=(cmake)
command -v g++ >/dev/null || missing+=(g++)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "bufbridge: installing ${missing[*]} with apt-get" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
    echo "bufbridge: please install: ${missing[*]}" >&2
    exit 1
fi
