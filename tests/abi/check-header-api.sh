#!/bin/sh
# ABI test: the functions declared SPLUT_API in the public header are exactly
# the functions the shared library exports. Both sides are read at test time,
# so new declarations are picked up without editing this test.
# usage: check-header-api.sh NM HEADER LIBRARY [MACRO]
# MACRO is the export macro of the header (default SPLUT_API; SPLUT_DATA_API
# for libsparselut-data).
set -eu
nm=$1 header=$2 lib=$3 macro=${4:-SPLUT_API}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Strip comments and preprocessor lines (with their continuations), join the
# rest and split into statements at ';'; a statement holding SPLUT_API
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
}' "$header" | sort -u > "$tmp/header"

"$nm" -D --defined-only "$lib" |
    awk 'NF >= 3 && ($2 == "T" || $2 == "W" || $2 == "i") { sub(/@.*/, "", $3); print $3 }' |
    sort -u > "$tmp/library"

[ -s "$tmp/header" ] || { echo "no SPLUT_API declarations found in $header"; exit 1; }
missing=$(comm -23 "$tmp/header" "$tmp/library")
extra=$(comm -13 "$tmp/header" "$tmp/library")
status=0
if [ -n "$missing" ]; then
    echo "declared SPLUT_API in the header but not exported (not implemented?):"
    printf '  %s\n' $missing
    status=1
fi
if [ -n "$extra" ]; then
    echo "exported by the library but not declared SPLUT_API in the header:"
    printf '  %s\n' $extra
    status=1
fi
[ $status -eq 0 ] && echo "ok: $(wc -l < "$tmp/header") functions, header and library agree"
exit $status
