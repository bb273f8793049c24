#!/bin/sh
# Install test: `meson install --destdir` from the build into a temporary
# directory, then build client.c with nothing but
# `pkg-config --cflags --libs sparselut` (PKG_CONFIG_PATH at the installed .pc,
# PKG_CONFIG_SYSROOT_DIR at the destdir) and run it with LD_LIBRARY_PATH;
# check that the header, both libraries, the .pc file and the CLI are installed.
# The companion library: client-data.c builds with `pkg-config sparselut-data`
# alone (which pulls in sparselut) and loads a CSV through the installed libraries.
# usage: check-install.sh MESON BUILD_ROOT CLIENT_C DATA_CLIENT_C COMPILER [ARGS...] --
#        [FLAGS...]
set -eu
meson=$1 build=$2 client=$3 data_client=$4
shift 4
cmd=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do cmd="$cmd $1"; shift; done
[ $# -gt 0 ] && shift
command -v pkg-config >/dev/null || { echo "pkg-config not installed: skipping"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest

"$meson" install -C "$build" --no-rebuild --quiet --destdir "$dest" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; echo "meson install failed"; exit 1; }

fail() { echo "FAIL: $*"; exit 1; }
pc=$(find "$dest" -name sparselut.pc | head -n 1)
[ -n "$pc" ] || fail "no sparselut.pc installed"
header=$(find "$dest" -path '*/include/sparselut/sparselut.h' | head -n 1)
[ -n "$header" ] || fail "no include/sparselut/sparselut.h installed"
libdir=$(dirname "$(find "$dest" -name 'libsparselut.so.0' | head -n 1)")
[ "$libdir" != . ] || fail "no libsparselut.so.0 installed"
[ -e "$libdir/libsparselut.so" ] || fail "no libsparselut.so development link"
[ -e "$libdir/libsparselut.a" ] || fail "no static libsparselut.a"
cli=$(find "$dest" -path '*/bin/sparselut' | head -n 1)
[ -n "$cli" ] && [ -x "$cli" ] || fail "no bin/sparselut installed"

# The system's .pc directories (zlib.pc, which sparselut-data.pc requires privately).
system_pc=$(pkg-config --variable pc_path pkg-config 2>/dev/null || true)
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR
PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_LIBDIR=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$dest
flags=$(pkg-config --cflags --libs sparselut) || fail "pkg-config does not know sparselut"
echo "pkg-config --cflags --libs sparselut: $flags"
case $flags in *"$dest"*) ;; *) fail "pkg-config flags do not point into the installation" ;; esac
# shellcheck disable=SC2086
$cmd "$@" -std=c11 -Wall -Wextra -Werror "$client" -o "$tmp/client" $flags ||
    fail "client does not build with the pkg-config flags"
LD_LIBRARY_PATH=$libdir "$tmp/client" || fail "client failed"
# the client really uses the installed library
LD_LIBRARY_PATH=$libdir ldd "$tmp/client" 2>/dev/null | grep -q "$libdir/libsparselut.so.0" ||
    fail "client does not load the installed libsparselut.so.0"

[ -n "$(find "$dest" -path '*/include/sparselut/sparselut-data.h')" ] ||
    fail "no include/sparselut/sparselut-data.h installed"
[ -e "$libdir/libsparselut-data.so.0" ] || fail "no libsparselut-data.so.0 installed"
[ -e "$libdir/libsparselut-data.a" ] || fail "no static libsparselut-data.a"
# zlib.pc (a private requirement) comes from the system's .pc directories.
dflags=$(PKG_CONFIG_LIBDIR="$(dirname "$pc"):$system_pc" pkg-config --cflags --libs \
    sparselut-data) || fail "pkg-config does not know sparselut-data"
echo "pkg-config --cflags --libs sparselut-data: $dflags"
# shellcheck disable=SC2086
$cmd "$@" -std=c11 -Wall -Wextra -Werror "$data_client" -o "$tmp/client-data" $dflags ||
    fail "data client does not build with the pkg-config flags"
printf 'a,b,label\n1,2,0\n3,4,1\n5,6,1\n7,8,0\n9,10,1\n' >"$tmp/t.csv"
LD_LIBRARY_PATH=$libdir "$tmp/client-data" "csv:$tmp/t.csv" || fail "data client failed"
LD_LIBRARY_PATH=$libdir ldd "$tmp/client-data" 2>/dev/null |
    grep -q "$libdir/libsparselut-data.so.0" ||
    fail "data client does not load the installed libsparselut-data.so.0"

LD_LIBRARY_PATH=$libdir "$cli" --version >"$tmp/version" || fail "installed CLI does not run"
grep -q "$(pkg-config --modversion sparselut)" "$tmp/version" ||
    fail "CLI version '$(cat "$tmp/version")' differs from the .pc version"
LD_LIBRARY_PATH=$libdir "$cli" --help | grep -q "emit" || fail "installed CLI --help"
echo "ok: installed into $dest: headers, shared + static libraries, sparselut.pc,"
echo "    sparselut-data.pc, CLI"
