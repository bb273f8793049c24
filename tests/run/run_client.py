# SPDX-License-Identifier: Apache-2.0
"""A training run through the Python binding (acceptance test of issue 25).

usage: run_client.py DIR PRESET SEED TEACHER OUT [NAME=VALUE ...]
DIR holds raw MNIST-layout IDX files; pixels go through the transform of the
command line's mnist: loader, in float32.
"""
import os
import sys

import numpy as np

import sparselut


def load_split(directory, prefix):
    with open(os.path.join(directory, prefix + "-images-idx3-ubyte"), "rb") as f:
        img = f.read()
    with open(os.path.join(directory, prefix + "-labels-idx1-ubyte"), "rb") as f:
        lab = f.read()
    n, h, w = (int.from_bytes(img[k:k + 4], "big") for k in (4, 8, 12))
    pixels = np.frombuffer(img, dtype=np.uint8, offset=16).reshape(n, h * w)
    x = (pixels.astype(np.float32) / np.float32(255.0) - np.float32(0.1307)) / np.float32(0.3081)
    y = np.frombuffer(lab, dtype=np.uint8, offset=8).astype(np.int32)
    background = (np.float32(0.0) - np.float32(0.1307)) / np.float32(0.3081)
    return x, y, (w, h, float(background))


def main(argv):
    directory, preset, seed, teacher_path, out = argv[1:6]
    params = {}
    for arg in argv[6:]:
        name, value = arg.split("=", 1)
        info = sparselut.param_info(name)
        params[name] = int(float(value)) if info["type"] == "int" else float(value)
    ctx = sparselut.Context(seed=int(seed))
    model = sparselut.Model.from_preset(ctx, preset)
    teacher = None if teacher_path == "-" else sparselut.Model.load(ctx, teacher_path)
    train = load_split(directory, "train")
    x_test, y_test, _ = load_split(directory, "t10k")
    run = sparselut.Run(model, train, (x_test, y_test), teacher=teacher, **params)
    run.fit()
    run.final_model.save(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
