# Shared by the sweep tests: a tiny image dataset and a 4-point sweep file.
# Usage: . sweep-common.sh; sweep_fixture DIR   (needs $PY, $HERE)

fail() {
    echo "FAIL: $*"
    exit 1
}

# DIR/data (8x8 IDX images, 3 classes) and DIR/tiny.ini (2 widths x 2 seeds,
# random and learned connectivity in two sections: 8 points).
sweep_fixture() {
    "$PY" "$HERE/make-idx.py" "$1/data" 8 300 90 || fail "cannot write the dataset"
    cat >"$1/tiny.ini" <<EOT
# tiny sweep of the tests
data = mnist:$1/data
arch = 64:2 poly:{W}:F3:D1:b2 poly:3:F3:D1:b2
{W} = 6, 12
epochs = 3
seed = 1..2
[random]
[learned]
connectivity = learned
switch-epoch = 1
EOT
}
