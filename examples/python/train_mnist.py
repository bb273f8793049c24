#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Train a PolyLUT-Add model on MNIST from Python with the run API, then check
LUT-mode inference against the model and write Verilog.

The training is ``sparselut.Run``: the library's loop with the recipe of
``sparselut train`` (seeded shuffle, AdamW with cosine restarts in epochs,
evaluation after every epoch), so the same preset, seed and epochs give the
same model file as ``sparselut train --preset hdr-add2 --data mnist:DIR``.

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
import struct
import sys
import tempfile
import time

import sparselut as sl

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SKIP = 77  # meson's "skipped" exit status
MEAN, STD = 0.1307, 0.3081  # torchvision's MNIST normalisation


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
    """Features and labels of one split, normalised in float32 exactly as the
    ``mnist:`` loader of ``sparselut train`` does (ToTensor, then Normalize)."""
    images = read_idx(directory, prefix + "-images-idx3-ubyte", limit)
    labels = read_idx(directory, prefix + "-labels-idx1-ubyte", limit)
    if images is None or labels is None:
        return None
    count, size, pixels = images
    if sl.have_numpy():
        import numpy as np
        f32 = np.float32
        x = (np.frombuffer(pixels, dtype=np.uint8).reshape(count, size).astype(f32) / f32(255)
             - f32(MEAN)) / f32(STD)
        return x, np.frombuffer(labels[2], dtype=np.uint8).astype(np.int32)
    flat = array.array("B", pixels)
    x = [[(flat[i * size + j] / 255.0 - MEAN) / STD for j in range(size)]
         for i in range(count)]
    return x, list(labels[2])


def accuracy(pred, labels):
    pred = pred.tolist() if hasattr(pred, "tolist") else pred
    labels = labels.tolist() if hasattr(labels, "tolist") else labels
    return sum(int(p == q) for p, q in zip(pred, labels)) / len(labels)


def show(info):
    """Progress callback: one line per epoch (returning True would stop the run)."""
    if info["kind"] == "epoch":
        r = info["record"]
        print("epoch %d/%d: loss %.4f, train accuracy %.4f, test accuracy %.4f (%.1f s)"
              % (r["epoch"], info["epochs"], r["loss"], r["train_accuracy"],
                 r["test_accuracy"], r["seconds"]), flush=True)
    return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.path.join(REPO, ".cache", "mnist"))
    ap.add_argument("--quick", action="store_true",
                    help="seconds: a small model, 6000 training and 1000 test images, 3 epochs")
    ap.add_argument("--preset", default="hdr-add2")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--save", help="write the trained model file here")
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
    background = (0.0 - MEAN) / STD  # an empty pixel, for image shifts (augment_shift)

    with sl.Context(seed=args.seed) as ctx:
        if args.quick:  # 784 → 128 → 10 PolyLUT-Add neurons (A=2, F=4, D=2, 2 bits)
            model = sl.Model(ctx, 784, 2,
                             [sl.Layer("poly_add", 128, 4, 2, degree=2, sub_neurons=2),
                              sl.Layer("poly_add", 10, 4, 3, degree=2, sub_neurons=2)])
            params = {"learning_rate": 0.03}
        else:  # the preset and its published recipe (learning rate, batch)
            model = sl.Model.from_preset(ctx, args.preset)
            params = {}
        start = time.time()
        with sl.Run(model, (train[0], train[1], (28, 28, background)), test, epochs=epochs,
                    seed=args.seed, progress=show, **params) as run:
            run.fit()
            final = run.final_model
            acc = run.history[-1]["test_accuracy"]
            print("trained %d epochs in %.1f s: test accuracy %.4f"
                  % (epochs, time.time() - start, acc))
            if args.save:
                final.save(args.save)
            with final.tables() as tables:
                codes = final.input_codes(test[0])
                by_tables = tables.forward(codes)
                same = accuracy(final.classify_codes(by_tables), test[1]) == acc and (
                    (by_tables == final.forward_codes(codes)).all() if sl.have_numpy()
                    else by_tables == final.forward_codes(codes))
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
