#!/usr/bin/env python3
"""Summarise `sparselut train --json` outputs (or a checkpoint's .run sidecar of
an unfinished run) as Markdown rows: epochs, test accuracy at selected epochs,
best test accuracy, final accuracy.

Usage: bench/mnist_table.py NAME=FILE [NAME=FILE ...]
FILE is a train JSON or a CHECKPOINT.run file.
"""
import json
import sys

MARKS = (1, 3, 10, 30, 100, 200, 300, 400, 500)


def history(path):
    if path.endswith(".run"):
        rows = []
        with open(path) as f:
            for line in f:
                p = line.split()
                if p and p[0] == "epoch":
                    rows.append((int(p[1]), float(p[4])))
        return rows
    with open(path) as f:
        d = json.load(f)
    return [(h["epoch"], h["test_accuracy"]) for h in d["history"]]


def main(args):
    print("| run | epochs | " + " | ".join(f"@{m}" for m in MARKS) + " | best (epoch) | last |")
    print("|---|---|" + "---|" * len(MARKS) + "---|---|")
    for arg in args:
        name, path = arg.rsplit("=", 1)
        h = dict(history(path))
        if not h:
            continue
        best = max(h, key=lambda e: (h[e], -e))
        last = max(h)
        cells = [f"{100 * h[m]:.2f}" if m in h else "" for m in MARKS]
        print(f"| {name} | {last} | " + " | ".join(cells) +
              f" | {100 * h[best]:.2f} ({best}) | {100 * h[last]:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
