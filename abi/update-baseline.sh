#!/bin/sh
# Regenerate abi/libsparselut.abi, the ABI baseline that the test abi-abidiff
# compares every build against. Run it deliberately, after an intended ABI
# change (new functions, or a new major version), and commit the result:
#
#     sh abi/update-baseline.sh [BUILD_DIR]    (default: build-abi)
#
# The library is built with debug information (buildtype debugoptimized) so
# that the baseline records the types of every public function; types not
# declared in include/sparselut/ (the opaque handles' contents) are dropped.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build-abi}
command -v abidw >/dev/null || { echo "abidw not found (Debian: apt-get install abigail-tools)"; exit 1; }
[ -f "$build/build.ninja" ] ||
    meson setup "$build" "$repo" -Dbuildtype=debugoptimized -Dtests=disabled -Ddocs=disabled \
        -Dexamples=false -Dwerror=false >/dev/null
ninja -C "$build" >/dev/null
abidw --headers-dir "$repo/include/sparselut" --drop-private-types --no-corpus-path \
    --suppressions "$repo/abi/internal.abignore" \
    --no-comp-dir-path --short-locs "$build/lib/libsparselut.so" > "$repo/abi/libsparselut.abi.tmp"
mv "$repo/abi/libsparselut.abi.tmp" "$repo/abi/libsparselut.abi"
echo "wrote abi/libsparselut.abi: $(grep -c '<elf-symbol ' "$repo/abi/libsparselut.abi") symbols"
