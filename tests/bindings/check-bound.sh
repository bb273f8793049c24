#!/bin/sh
# Every SPLUT_API function of the public header is bound, by name, in the
# Python binding (a "name" key of PROTOTYPES in _lib.py) and in the Julia
# module (a (:name, libsparselut) ccall); neither binds a function the header
# no longer declares.
# usage: check-bound.sh HEADER PYTHON_LIB_PY JULIA_MODULE [MACRO JULIA_LIB]
# MACRO/JULIA_LIB default to SPLUT_API/libsparselut; libsparselut-data uses
# SPLUT_DATA_API/libsparselut_data (its Python prototypes are in _data_lib.py).
set -eu
header=$1 py=$2 jl=$3 macro=${4:-SPLUT_API} jlib=${5:-libsparselut}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Header: drop comments and preprocessor lines, split into statements at ';',
# a statement holding SPLUT_API declares the identifier before its first '('.
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
        i = index(line, "/*")
        if (i == 0) { out = out line; break }
        out = out substr(line, 1, i - 1); line = substr(line, i + 2); incomment = 1
    }
    if (out ~ /^[ \t]*#/) { cont = (out ~ /\\$/); next }
    text = text " " out
}
END {
    n = split(text, stmt, ";")
    for (k = 1; k <= n; k++) {
        at = index(stmt[k], macro)
        if (at == 0) continue
        s = substr(stmt[k], at + length(macro))
        p = index(s, "(")
        if (p == 0) continue
        s = substr(s, 1, p - 1)
        m = split(s, w, /[^A-Za-z0-9_]+/)
        if (w[m] == "") m--
        print w[m]
    }
}' "$header" | sort -u > "$tmp/header"
[ -s "$tmp/header" ] || { echo "no $macro declarations found in $header"; exit 1; }

grep -o '"splut_[a-z0-9_]*": *(' "$py" | sed 's/"\(splut_[a-z0-9_]*\)".*/\1/' | sort -u > "$tmp/python"
grep -o "(:splut_[a-z0-9_]*, *$jlib)" "$jl" | sed 's/(:\(splut_[a-z0-9_]*\),.*/\1/' |
    sort -u > "$tmp/julia"

status=0
for lang in python julia; do
    missing=$(comm -23 "$tmp/header" "$tmp/$lang")
    stale=$(comm -13 "$tmp/header" "$tmp/$lang")
    if [ -n "$missing" ]; then
        echo "$lang binding lacks these header functions:"; printf '  %s\n' $missing; status=1
    fi
    if [ -n "$stale" ]; then
        echo "$lang binding binds functions the header does not declare:"; printf '  %s\n' $stale
        status=1
    fi
done
[ $status -eq 0 ] && echo "ok: all $(wc -l < "$tmp/header") $macro functions bound in Python and Julia"
exit $status
