#!/bin/sh
# ABI test: the public header compiles on its own with the given compiler and
# flags (C99 pedantic, C++11 pedantic, ...), with the experimental header.
# usage: compile-header.sh SUFFIX INCLUDE_DIR COMPILER [ARGS...] -- [FLAGS...]
set -eu
suffix=$1 incdir=$2
shift 2
cmd=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do cmd="$cmd $1"; shift; done
[ $# -gt 0 ] && shift
# INCLUDE_DIR may list several directories separated by ':'.
incflags=$(printf '%s' "$incdir" | tr ':' '\n' | sed 's/^/-I/' | tr '\n' ' ')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src="$tmp/standalone.$suffix"
cat > "$src" <<'SRC'
#include <sparselut/sparselut.h>
#include <sparselut/sparselut.h> /* include guard */
#include <sparselut/sparselut-experimental.h>

/* Touch a few declarations so they are not only parsed. */
int splut_standalone_check(void);
int splut_standalone_check(void)
{
    splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
    splut_status st = SPLUT_E_NOMEM;
    const char *(*fn)(splut_status) = splut_status_str;
    splut_param frozen = SPLUT_P_BN_FROZEN;
    return (int)d.size + (int)st + (fn != 0) + SPLUT_CHECK_VERSION(0, 0, 0) + (int)frozen;
}
SRC
# shellcheck disable=SC2086
$cmd "$@" $incflags -c "$src" -o "$tmp/standalone.o"
echo "ok:$cmd $*"
