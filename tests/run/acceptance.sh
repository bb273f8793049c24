#!/bin/sh
# Issue 25, acceptance 1: the same recipe (hdr-add2, learned connectivity with a
# switch epoch, EMA, distillation from a saved teacher, image shifts, frozen
# BatchNorm, keep-best, 4 short epochs) through `sparselut train`, through a C
# program on the public header (run-client) and through the Python binding
# writes byte-identical model files.
# usage: acceptance.sh SPARSELUT RUN_CLIENT SOURCE_ROOT BUILD_ROOT
# The first 2,000 / 500 MNIST images when MNIST is found (SPLUT_MNIST_DIR or
# SOURCE_ROOT/.cache/mnist), else a synthetic MNIST-shaped set.
set -eu
cli=$1 client=$2 src=$3 build=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mnist=${SPLUT_MNIST_DIR:-$src/.cache/mnist}
py=python3 # the system Python first: it has numpy on Debian
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
if [ -e "$mnist/train-labels-idx1-ubyte" ] || [ -e "$mnist/train-labels-idx1-ubyte.gz" ]; then
    "$py" "$src/tests/run/make_subset.py" "$tmp/data" 2000 500 "$mnist"
    echo "data: the first 2000 / 500 images of $mnist"
else
    "$py" "$src/tests/run/make_subset.py" "$tmp/data" 2000 500
    echo "data: synthetic MNIST-shaped set (MNIST not found)"
fi
"$cli" train --arch '784:2 poly:32:F6:D2:b2 poly:10:F6:D2:b2' --data "mnist:$tmp/data" \
    --epochs 1 --seed 5 --out "$tmp/teacher.splut"
"$cli" train --preset hdr-add2 --data "mnist:$tmp/data" --seed 3 --epochs 4 \
    --connectivity learned --switch-epoch 2 --ema 0.99 --distill "$tmp/teacher.splut" \
    --augment-shift 1 --restart-epochs 4 --bn-freeze 1 --keep-best --out "$tmp/cli.splut"
keys="epochs=4 run_seed=3 connectivity=1 switch_epoch=2 ema=0.99 augment_shift=1 \
restart_epochs=4 bn_freeze=1 keep_best=1"
# shellcheck disable=SC2086
"$client" "$tmp/data" hdr-add2 3 "$tmp/teacher.splut" "$tmp/c.splut" $keys
cmp "$tmp/cli.splut" "$tmp/c.splut"
echo "sparselut train and the C client: identical"
if [ "${SPLUT_SKIP_PYTHON:-0}" = 1 ]; then
    echo "sanitizer build: Python client skipped"
elif "$py" -c 'import numpy' 2>/dev/null; then
    # shellcheck disable=SC2086
    SPARSELUT_LIB="$build/lib/libsparselut.so" PYTHONPATH="$src/bindings/python" \
        "$py" "$src/tests/run/run_client.py" "$tmp/data" hdr-add2 3 "$tmp/teacher.splut" \
        "$tmp/py.splut" $keys
    cmp "$tmp/cli.splut" "$tmp/py.splut"
    echo "sparselut train and the Python binding: identical"
else
    echo "numpy missing: Python client skipped"
fi
