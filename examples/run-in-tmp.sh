#!/bin/sh
# Run an example program with a fresh temporary output directory as its last
# argument and check that it wrote files matching a pattern.
# usage: run-in-tmp.sh PATTERN PROGRAM [ARGS...]
set -eu
pattern=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$@" "$tmp"
n=$(find "$tmp" -name "$pattern" | wc -l)
[ "$n" -gt 0 ] || { echo "no $pattern written into the output directory"; exit 1; }
echo "ok: $n files matching $pattern"
