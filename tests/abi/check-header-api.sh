#!/bin/sh
# ABI test: the functions declared SPLUT_API in the public headers are exactly
# the functions the shared library exports, and each is listed in exactly one
# release node of the version script (lib/sparselut.map) and exported with that
# node's version. All sides are read at test time, so new declarations are
# picked up without editing this test.
# usage: check-header-api.sh NM LIBRARY MAP HEADER...
# The export macro is SPLUT_API unless SPLUT_ABI_MACRO names another
# (SPLUT_DATA_API for libsparselut-data).
set -eu
export LC_ALL=C
nm=$1 lib=$2 map=$3
macro=${SPLUT_ABI_MACRO:-SPLUT_API}
shift 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Strip comments and preprocessor lines (with their continuations), join the
# rest and split into statements at ';'; a statement holding the macro
# declares the identifier right before its first '('.
awk -v macro="$macro" '
BEGIN { incomment = 0; cont = 0; text = "" }
{
    line = $0
    if (cont) { cont = (line ~ /\\$/); next }
    out = ""
    while (length(line) > 0) {
        if (incomment) {
            i = index(line, "*/")
            if (i == 0) { line = ""; break }
            line = substr(line, i + 2); incomment = 0; continue
        }
        i = index(line, "/*"); j = index(line, "//")
        if (j > 0 && (i == 0 || j < i)) { out = out substr(line, 1, j - 1); line = ""; break }
        if (i == 0) { out = out line; line = ""; break }
        out = out substr(line, 1, i - 1); line = substr(line, i + 2); incomment = 1
    }
    if (out ~ /^[ \t]*#/) { cont = (out ~ /\\$/); next }
    text = text " " out
}
END {
    n = split(text, stmt, ";")
    for (k = 1; k <= n; k++) {
        s = stmt[k]
        at = index(s, macro)
        if (at == 0) continue
        s = substr(s, at + length(macro))
        p = index(s, "(")
        if (p == 0) continue
        s = substr(s, 1, p - 1)
        sub(/[ \t]+$/, "", s)
        m = split(s, words, /[^A-Za-z0-9_]+/)
        print words[m]
    }
}' "$@" | sort -u > "$tmp/header"

"$nm" -D --defined-only "$lib" |
    awk 'NF >= 3 && ($2 == "T" || $2 == "W" || $2 == "i") { sub(/@.*/, "", $3); print $3 }' |
    sort -u > "$tmp/library"

[ -s "$tmp/header" ] || { echo "no $macro declarations found in $*"; exit 1; }
missing=$(comm -23 "$tmp/header" "$tmp/library")
extra=$(comm -13 "$tmp/header" "$tmp/library")
status=0
if [ -n "$missing" ]; then
    echo "declared $macro in the header but not exported (not implemented?):"
    printf '  %s\n' $missing
    status=1
fi
if [ -n "$extra" ]; then
    echo "exported by the library but not declared $macro in the header:"
    printf '  %s\n' $extra
    status=1
fi

# The version script: "name;" lines inside "NODE {" ... "}" blocks.
awk '/\/\*/, /\*\// { next }
     /^[A-Z][A-Z0-9_.]* *\{/ { node = $1; next }
     node != "" && $1 ~ /^splut_[a-z0-9_]*;$/ { name = $1; sub(/;$/, "", name); print name, node }
     /^\}/ { node = "" }' "$map" | sort > "$tmp/map"
dup=$(awk '{print $1}' "$tmp/map" | uniq -d)
if [ -n "$dup" ]; then
    echo "listed in more than one node of $map:"; printf '  %s\n' $dup; status=1
fi
unlisted=$(awk '{print $1}' "$tmp/map" | sort -u | comm -13 - "$tmp/header")
if [ -n "$unlisted" ]; then
    echo "declared $macro but listed in no node of $map (add them to the newest node):"
    printf '  %s\n' $unlisted; status=1
fi
stale=$(awk '{print $1}' "$tmp/map" | sort -u | comm -23 - "$tmp/header")
if [ -n "$stale" ]; then
    echo "listed in $map but declared in no header:"; printf '  %s\n' $stale; status=1
fi
"$nm" -D --defined-only "$lib" |
    awk 'NF >= 3 && $3 ~ /@@/ { split($3, a, "@@"); print a[1], a[2] }' | sort > "$tmp/versions"
wrong=$(join "$tmp/map" "$tmp/versions" | awk '$2 != $3 {print $1 " is " $3 ", map says " $2}')
if [ -n "$wrong" ]; then
    echo "exported with another version than its node:"; printf '%s\n' "$wrong"; status=1
fi
[ $status -eq 0 ] && echo "ok: $(wc -l < "$tmp/header") functions; headers, map nodes and library agree"
exit $status
