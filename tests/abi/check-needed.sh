#!/bin/sh
# ABI test: a program built against sparselut_dep loads the shared library
# (DT_NEEDED names the soname), so the client test really exercises the ABI.
# usage: check-needed.sh OBJDUMP PROGRAM SONAME
set -eu
objdump=$1 prog=$2 soname=$3
needed=$("$objdump" -p "$prog" | awk '$1 == "NEEDED" {print $2}')
if ! printf '%s\n' "$needed" | grep -qx "$soname"; then
    echo "$prog does not load $soname; NEEDED entries:"
    printf '  %s\n' $needed
    exit 1
fi
echo "ok: $prog loads $soname"
