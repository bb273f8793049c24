#!/bin/sh
# Trains the same small models with several builds of sparselut (gcc with its
# AVX-512/AVX2 clones, clang without clones, sanitizer builds, ...) and checks
# that the model files are byte-identical: results must not depend on the
# compiler or the instruction set, only on the data and the seed.
#
# Usage: identical-models.sh SPARSELUT_A SPARSELUT_B [SPARSELUT_C ...]
# SPDX-License-Identifier: Apache-2.0
set -eu

[ $# -ge 2 ] || { echo "usage: $0 SPARSELUT_A SPARSELUT_B [...]" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A deterministic 16-feature, 5-class CSV (an LCG; labels depend on the features).
awk 'BEGIN {
    s = 12345; printf "f0";
    for (j = 1; j < 16; j++) printf ",f%d", j; print ",label";
    for (i = 0; i < 1500; i++) {
        t = 0;
        for (j = 0; j < 16; j++) {
            s = (s * 1103515245 + 12345) % 2147483648;
            v = (s % 20000) / 10000.0 - 1.0; t += v * (j % 3 - 1);
            printf "%s%.4f", (j ? "," : ""), v;
        }
        c = int((t + 3) * 5 / 6); if (c < 0) c = 0; if (c > 4) c = 4;
        print "," c;
    }
}' > "$work/data.csv"

# One architecture per neuron kind.
arch_add="16:3 add:24:F2:D3:b3:A2 add:5:F2:D3:b3:A2"
arch_poly="16:3 poly:24:F3:D2:b3 poly:5:F3:D2:b3"
arch_nl="16:3 neuralut:16:F3:N4:b3 neuralut:5:F3:N4:b3"

status=0
for kind in add poly nl; do
    eval arch=\$arch_$kind
    i=0
    for exe in "$@"; do
        i=$((i + 1))
        "$exe" train --arch "$arch" --data "csv:$work/data.csv" --standardize --epochs 2 \
            --batch 64 --lr 0.01 --seed 5 --threads 2 --out "$work/$kind-$i.splut" \
            >/dev/null
        if [ "$i" -gt 1 ] && ! cmp -s "$work/$kind-1.splut" "$work/$kind-$i.splut"; then
            echo "FAIL: $kind model from $exe differs from the one of $1" >&2
            status=1
        fi
    done
    [ "$status" -eq 0 ] && echo "ok: $kind models identical across $# builds"
done
exit $status
