#!/bin/sh
# ABI test: compare the built shared library with the stored baseline
# abi/libsparselut.abi (abidiff, Debian abigail-tools). Added functions or
# enumerators pass; removed or changed functions or variables fail. Internal
# splut__* symbols are suppressed (abi/internal.abignore). Without debug
# information in the library (release builds) only symbols can be compared;
# debug builds (e.g. the ASan build of scripts/test) compare every type.
# Skipped (77) when abidiff is not installed.
# usage: check-abidiff.sh BASELINE LIBRARY HEADER_DIR SUPPRESSIONS
set -eu
baseline=$1 lib=$2 headers=$3 suppr=$4
command -v abidiff >/dev/null || { echo "abidiff not installed: skipping"; exit 77; }
[ -f "$baseline" ] || { echo "no baseline $baseline (sh abi/update-baseline.sh)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

set +e
abidiff --hd2 "$headers" --drop-private-types --suppressions "$suppr" "$baseline" "$lib" \
    > "$tmp/report" 2>&1
rc=$?
set -e
cat "$tmp/report"
# exit status bits: 1 error, 2 usage error, 4 ABI change, 8 incompatible change
if [ $((rc & 3)) -ne 0 ]; then
    echo "FAIL: abidiff could not compare (exit $rc)"; exit 1
fi
if [ $((rc & 8)) -ne 0 ]; then
    echo "FAIL: incompatible ABI change (removed symbols?) against $baseline"; exit 1
fi
# An ABI change (bit 4) passes only if it consists of additions.
bad=$(awk '/changes summary:/ {
             for (i = 1; i <= NF; i++)
                 if (($(i + 1) ~ /^Removed/ || $(i + 1) ~ /^Changed/) && $i + 0 > 0) print
           }' "$tmp/report")
if [ -n "$bad" ]; then
    echo "FAIL: removed or changed interfaces against $baseline:"; echo "$bad"; exit 1
fi
if readelf -S "$lib" 2>/dev/null | grep -q '\.debug_info'; then depth="symbols and types"
else depth="symbols only (no debug information in this build)"; fi
echo "ok: no incompatible ABI change against the baseline ($depth; exit $rc)"
