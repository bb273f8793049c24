# SPDX-License-Identifier: Apache-2.0
"""Write a small MNIST-layout IDX directory (raw files) for the run tests.

usage: make_subset.py OUT_DIR N_TRAIN N_TEST [MNIST_DIR]
With MNIST_DIR (raw or .gz IDX files) the first rows of MNIST are taken;
without it a synthetic MNIST-shaped set: 28 x 28 images of a bright bar whose
position and orientation give one of ten classes, plus seeded noise.
"""
import gzip
import os
import random
import sys


def read_idx(directory, name):
    for path, opener in ((os.path.join(directory, name), open),
                         (os.path.join(directory, name + ".gz"), gzip.open)):
        if os.path.exists(path):
            with opener(path, "rb") as f:
                return f.read()
    raise FileNotFoundError(os.path.join(directory, name))


def synthetic(n, seed):
    rnd = random.Random(seed)
    images, labels = bytearray(), bytearray()
    for _ in range(n):
        label = rnd.randrange(10)
        img = [rnd.randrange(40) for _ in range(784)]
        pos = 3 + 2 * (label % 5) + rnd.randrange(2)
        for k in range(6, 22):
            idx = (k * 28 + pos) if label < 5 else (pos * 28 + k)
            img[idx] = 200 + rnd.randrange(56)
        images += bytes(img)
        labels.append(label)
    return bytes(images), bytes(labels)


def header(magic, dims):
    return b"".join(v.to_bytes(4, "big") for v in [magic] + dims)


def main(argv):
    out, n_train, n_test = argv[1], int(argv[2]), int(argv[3])
    src = argv[4] if len(argv) > 4 else None
    os.makedirs(out, exist_ok=True)
    for prefix, n, seed in (("train", n_train, 1), ("t10k", n_test, 2)):
        if src:
            img = read_idx(src, prefix + "-images-idx3-ubyte")[16:16 + n * 784]
            lab = read_idx(src, prefix + "-labels-idx1-ubyte")[8:8 + n]
        else:
            img, lab = synthetic(n, seed)
        with open(os.path.join(out, prefix + "-images-idx3-ubyte"), "wb") as f:
            f.write(header(0x803, [n, 28, 28]) + img)
        with open(os.path.join(out, prefix + "-labels-idx1-ubyte"), "wb") as f:
            f.write(header(0x801, [n]) + lab)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
