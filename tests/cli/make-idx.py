#!/usr/bin/python3
"""Write a tiny MNIST-layout dataset (IDX files) for the sweep tests:
make-idx.py DIR [SIDE] [TRAIN] [TEST]. Three classes: a bright bar at the top,
middle or bottom of a SIDE x SIDE image, plus seeded noise."""
import os
import random
import struct
import sys


def write_split(d, prefix, n, side, rng):
    imgs, labels = bytearray(), bytearray()
    for _ in range(n):
        c = rng.randrange(3)
        row0 = c * side // 3
        for y in range(side):
            for x in range(side):
                v = rng.randrange(60)
                if row0 <= y < row0 + side // 3 and x % 2 == 0:
                    v += 180
                imgs.append(min(v, 255))
        labels.append(c)
    with open(os.path.join(d, prefix + "-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, side, side) + imgs)
    with open(os.path.join(d, prefix + "-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + labels)


def main():
    d = sys.argv[1]
    side = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    ntrain = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    ntest = int(sys.argv[4]) if len(sys.argv) > 4 else 90
    os.makedirs(d, exist_ok=True)
    rng = random.Random(7)
    write_split(d, "train", ntrain, side, rng)
    write_split(d, "t10k", ntest, side, rng)


main()
