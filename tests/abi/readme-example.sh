#!/bin/sh
# ABI test: the C example of README.md compiles against the installed-style
# header, links against the shared library only, and runs successfully.
# usage: readme-example.sh README INCLUDE_DIR LIBRARY_DIR COMPILER [ARGS...] -- [FLAGS...]
set -eu
readme=$1 incdir=$2 libdir=$3
shift 3
cmd=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do cmd="$cmd $1"; shift; done
[ $# -gt 0 ] && shift
# INCLUDE_DIR may list several directories separated by ':'.
incflags=$(printf '%s' "$incdir" | tr ':' '\n' | sed 's/^/-I/' | tr '\n' ' ')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The first ```c block of the README.
awk '/^```c[ \t]*$/ && !done { inside = 1; next }
     /^```/ && inside { inside = 0; done = 1; next }
     inside { print }' "$readme" > "$tmp/example.c"
[ -s "$tmp/example.c" ] || { echo "no \`\`\`c block in $readme"; exit 1; }
# shellcheck disable=SC2086
$cmd "$@" -std=c11 -Wall -Wextra -Werror $incflags "$tmp/example.c" -o "$tmp/example" \
    -L"$libdir" -lsparselut -Wl,-rpath,"$libdir"
"$tmp/example" "$tmp/hdl"
ls "$tmp/hdl" | grep -q '\.v$' || { echo "the example wrote no Verilog into $tmp/hdl"; exit 1; }
echo "ok: README example built, ran and wrote $(ls "$tmp/hdl" | wc -l) files"
