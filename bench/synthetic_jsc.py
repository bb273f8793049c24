#!/usr/bin/env python3
"""Synthetic stand-in for the jet substructure (JSC) data, which is not
reachable from the build machines: 16 features, 5 classes, written as
train/test CSV files with a header and a `label` column.

Each class is a Gaussian around its own random centre with a random linear
mixing, plus a nonlinear feature (a product of two others), so a small
LUT network reaches a non-trivial but imperfect accuracy — enough to give the
tables the structure of a trained network for HDL emission and synthesis.
Deterministic (seeded); pure Python, no numpy.

Usage: synthetic_jsc.py OUT_DIR [TRAIN_ROWS] [TEST_ROWS] [SEED]
"""
import os
import random
import sys


def make_rows(rng, n, centres, mixes):
    rows = []
    for _ in range(n):
        c = rng.randrange(len(centres))
        z = [rng.gauss(0.0, 1.0) for _ in range(16)]
        x = [centres[c][i] + sum(mixes[c][i][k] * z[k] for k in range(4)) + 2.0 * z[i]
             for i in range(16)]
        x[15] = x[0] * x[1] * 0.5 + 0.3 * z[15]
        rows.append((x, c))
    return rows


def write_csv(path, rows):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(",".join("f%d" % i for i in range(16)) + ",label\n")
        for x, c in rows:
            f.write(",".join("%.5f" % v for v in x) + ",%d\n" % c)
    os.replace(tmp, path)


def main():
    out = sys.argv[1]
    n_train = int(sys.argv[2]) if len(sys.argv) > 2 else 40000
    n_test = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 2024)
    centres = [[rng.gauss(0.0, 1.0) for _ in range(16)] for _ in range(5)]
    mixes = [[[rng.gauss(0.0, 0.5) for _ in range(4)] for _ in range(16)] for _ in range(5)]
    os.makedirs(out, exist_ok=True)
    write_csv(os.path.join(out, "train.csv"), make_rows(rng, n_train, centres, mixes))
    write_csv(os.path.join(out, "test.csv"), make_rows(rng, n_test, centres, mixes))


if __name__ == "__main__":
    main()
