#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Train a small PolyLUT-Add model on MNIST from Python, then check LUT-mode
inference against the model and write Verilog.

Reads the IDX files (raw or .gz) from .cache/mnist, which
``bash scripts/fetch-data`` fills; exits with status 77 (skipped) when they
are absent. Uses numpy when available, plain lists otherwise.

    PYTHONPATH=bindings/python SPARSELUT_LIB=build/lib/libsparselut.so \\
        python3 examples/python/train_mnist.py [--quick] [--epochs N] [--out DIR]
"""

import argparse
import array
import gzip
import os
import random
import struct
import sys
import tempfile
import time

import sparselut as sl

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SKIP = 77  # meson's "skipped" exit status


def read_idx(directory, stem, limit):
    """First ``limit`` records of an IDX file as (count, record size, bytes)."""
    for name in (stem, stem + ".gz"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rb") as f:
                magic = struct.unpack(">I", f.read(4))[0]
                dims = struct.unpack(">" + "I" * (magic & 0xFF), f.read(4 * (magic & 0xFF)))
                count = min(dims[0], limit)
                size = 1
                for d in dims[1:]:
                    size *= d
                return count, size, f.read(count * size)
    return None


def load_split(directory, prefix, limit):
    """Normalised features and labels of one split (as in ``sparselut train``)."""
    images = read_idx(directory, prefix + "-images-idx3-ubyte", limit)
    labels = read_idx(directory, prefix + "-labels-idx1-ubyte", limit)
    if images is None or labels is None:
        return None
    count, size, pixels = images
    if sl.have_numpy():
        import numpy as np
        x = (np.frombuffer(pixels, dtype=np.uint8).reshape(count, size).astype(np.float32)
             / 255.0 - 0.1307) / 0.3081
        return x.astype(np.float32), np.frombuffer(labels[2], dtype=np.uint8).astype(np.int32)
    flat = array.array("B", pixels)
    x = [[(flat[i * size + j] / 255.0 - 0.1307) / 0.3081 for j in range(size)]
         for i in range(count)]
    return x, list(labels[2])


def batches(n, batch, rng):
    """Shuffled index lists of ``batch`` samples (the last short one dropped)."""
    order = list(range(n))
    rng.shuffle(order)
    for i in range(0, n - batch + 1, batch):
        yield order[i:i + batch]


def take(data, idx):
    if sl.have_numpy():
        return data[idx]
    return [data[i] for i in idx]


def accuracy(pred, labels):
    pred = pred.tolist() if hasattr(pred, "tolist") else pred
    labels = labels.tolist() if hasattr(labels, "tolist") else labels
    return sum(int(p == q) for p, q in zip(pred, labels)) / len(labels)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.path.join(REPO, ".cache", "mnist"))
    ap.add_argument("--quick", action="store_true",
                    help="a few seconds: 6000 training and 1000 test images, 3 epochs")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--out", help="Verilog output directory (default: a temporary one)")
    args = ap.parse_args()
    if not sl.have_numpy() and not args.quick:
        print("without numpy only --quick is practical", file=sys.stderr)
        return 2
    n_train, n_test, epochs = (6000, 1000, 3) if args.quick else (60000, 10000, args.epochs)
    train = load_split(args.data, "train", n_train)
    test = load_split(args.data, "t10k", n_test)
    if train is None or test is None:
        print("MNIST not found in %s (run: bash scripts/fetch-data); skipping" % args.data)
        return SKIP

    with sl.Context(seed=1) as ctx:
        # 784 pixels of 2 bits → 128 PolyLUT-Add neurons (A=2, F=4, D=2, 2 bits) → 10 classes
        model = sl.Model(ctx, 784, 2, [sl.Layer("poly_add", 128, 4, 2, degree=2, sub_neurons=2),
                                       sl.Layer("poly_add", 10, 4, 3, degree=2, sub_neurons=2)])
        trainer = sl.Trainer(model, learning_rate=0.03)
        rng = random.Random(1)
        start = time.time()
        for epoch in range(epochs):
            losses = [trainer.step(take(train[0], idx), take(train[1], idx))
                      for idx in batches(len(train[1]), args.batch, rng)]
            acc = accuracy(model.predict(test[0]), test[1])
            print("epoch %d: loss %.4f -> %.4f, test accuracy %.4f (%.1f s)"
                  % (epoch + 1, losses[0], losses[-1], acc, time.time() - start))
        trainer.close()

        with model.tables() as tables:
            codes = model.input_codes(test[0])
            by_tables = tables.forward(codes)
            same = accuracy(model.classify_codes(by_tables), test[1]) == acc and (
                (by_tables == model.forward_codes(codes)).all() if sl.have_numpy()
                else by_tables == model.forward_codes(codes))
            out = args.out or tempfile.mkdtemp(prefix="splut-mnist-")
            tables.emit("verilog", out, pipeline="layer")
            print("LUT inference %s the model; about %d LUT6; Verilog (latency %d) in %s"
                  % ("matches" if same else "DOES NOT match", tables.cost(),
                     tables.latency("layer"), out))
        model.close()
    # an untrained 10-class model is at chance (0.1); a few hundred steps are well above it
    return 0 if same and acc > 0.3 else 1


if __name__ == "__main__":
    sys.exit(main())
