#!/bin/sh
# ABI test: the shared library exports splut_* symbols only (plus the version
# nodes of lib/sparselut.map), each with the version of one release node of
# the map, defines every node of the map, and carries the soname of the ABI
# major.
# usage: check-exports.sh NM OBJDUMP LIBRARY SONAME MAP
set -eu
export LC_ALL=C
nm=$1 objdump=$2 lib=$3 soname=$4 map=$5

syms=$("$nm" -D --defined-only "$lib") || { echo "nm failed on $lib"; exit 1; }
# Version nodes show up as absolute symbols named like the map's node.
bad=$(printf '%s\n' "$syms" | awk 'NF >= 3 {
        name = $3; sub(/@.*/, "", name)
        if ($2 == "A" && name ~ /^SPARSELUT_([A-Z]+_)?[0-9.]+$/) next
        if (name !~ /^splut_/) print $2, name
      }')
if [ -n "$bad" ]; then
    echo "symbols exported without the splut_ prefix:"
    printf '%s\n' "$bad"
    exit 1
fi
# No internal cross-module helpers (splut__*) either.
internal=$(printf '%s\n' "$syms" | awk 'NF >= 3 && $3 ~ /^splut__/ {print $3}')
if [ -n "$internal" ]; then
    echo "internal splut__ symbols leak from the shared library:"
    printf '%s\n' "$internal"
    exit 1
fi
# Release nodes of the map, and the version of every exported function.
nodes=$(awk '/^[A-Z][A-Z0-9_.]* *\{/ {print $1}' "$map" | sort)
defined=$(printf '%s\n' "$syms" | awk '$2 == "A" {sub(/@.*/, "", $3); print $3}' | sort -u)
if [ "$nodes" != "$defined" ]; then
    echo "version nodes of $map: $(echo $nodes); defined by the library: $(echo $defined)"
    exit 1
fi
unversioned=$(printf '%s\n' "$syms" | awk 'NF >= 3 && $3 ~ /^splut_/ {
        n = split($3, a, "@@"); if (n != 2 || a[2] !~ /^SPARSELUT_([A-Z]+_)?[0-9.]+$/) print $3 }')
if [ -n "$unversioned" ]; then
    echo "exported without a SPARSELUT_x.y version:"
    printf '  %s\n' $unversioned
    exit 1
fi
count=$(printf '%s\n' "$syms" | awk 'NF >= 3 && $3 ~ /^splut_/' | wc -l)
[ "$count" -gt 0 ] || { echo "no splut_ symbols exported at all"; exit 1; }

got=$("$objdump" -p "$lib" | awk '$1 == "SONAME" {print $2}')
if [ "$got" != "$soname" ]; then
    echo "soname is '$got', expected '$soname'"
    exit 1
fi
echo "ok: $count splut_ symbols in nodes $(echo $nodes), soname $got"
