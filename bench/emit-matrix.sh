#!/bin/sh
# Verification matrix: emit MODEL in every language and pipelining option
# (optionally also with --dont-care), simulate N vectors of DATA with
# `sparselut emit --verify`, and print one JSON object per run on stdout.
#
# Usage: emit-matrix.sh SPARSELUT MODEL DATA N [--dont-care-too] [-- extra data options]
# Environment: SIMULATOR=verilator|iverilog picks the Verilog simulator.
# Example: bench/emit-matrix.sh build/tools/sparselut m.splut mnist:.cache/mnist 2000
# SPDX-License-Identifier: Apache-2.0
set -eu
[ $# -ge 4 ] || { echo "usage: $0 SPARSELUT MODEL DATA N [--dont-care-too] [-- data options]" >&2; exit 2; }
exe=$1 model=$2 data=$3 n=$4
shift 4
variants="plain"
if [ "${1:-}" = "--dont-care-too" ]; then variants="plain dont-care"; shift; fi
[ "${1:-}" = "--" ] && shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for fmt in verilog vhdl hls; do
    for pipe in none layer sublayer; do
        for v in $variants; do
            flag=""
            [ "$v" = "dont-care" ] && flag="--dont-care"
            [ "$fmt" = verilog ] && [ -n "${SIMULATOR:-}" ] && flag="$flag --simulator $SIMULATOR"
            # shellcheck disable=SC2086
            if ! "$exe" emit --model "$model" --format "$fmt" --pipeline "$pipe" $flag \
                --out "$work/$fmt-$pipe-$v" --data "$data" "$@" --vectors "$n" --verify --json \
                >"$work/out.json"; then
                status=1
            fi
            printf '{"format":"%s","pipeline":"%s","variant":"%s","result":%s}\n' \
                "$fmt" "$pipe" "$v" "$(cat "$work/out.json")"
            rm -rf "${work:?}/$fmt-$pipe-$v"
        done
    done
done
exit $status
