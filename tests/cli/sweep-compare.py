#!/usr/bin/python3
"""Compare two sweep output directories: the same finished points, each with
an identical model.slm and the same point.json apart from its "run" member
(times, host, directory). Exit 0 when equal, 1 with the differences listed."""
import json
import os
import sys


def points(top):
    """Finished points: those of points.txt (the current sweep file) if any."""
    base = os.path.join(top, "points")
    done = {}
    listed = os.path.join(top, "points.txt")
    names = open(listed).read().split() if os.path.exists(listed) else os.listdir(base)
    for h in sorted(names):
        pj = os.path.join(base, h, "point.json")
        if os.path.exists(pj):
            done[h] = os.path.join(base, h)
    return done


def main(a, b):
    pa, pb = points(a), points(b)
    problems = []
    if set(pa) != set(pb):
        problems.append("finished points differ: only in %s: %s; only in %s: %s" % (
            a, sorted(set(pa) - set(pb)), b, sorted(set(pb) - set(pa))))
    for h in sorted(set(pa) & set(pb)):
        ja = json.load(open(os.path.join(pa[h], "point.json")))
        jb = json.load(open(os.path.join(pb[h], "point.json")))
        ja.pop("run", None)
        jb.pop("run", None)
        if ja != jb:
            keys = sorted(k for k in set(ja) | set(jb) if ja.get(k) != jb.get(k))
            problems.append("%s: point.json differs in %s" % (h, keys))
        ma = open(os.path.join(pa[h], "model.slm"), "rb").read()
        mb = open(os.path.join(pb[h], "model.slm"), "rb").read()
        if ma != mb:
            problems.append("%s: model.slm differs" % h)
    for p in problems:
        print(p)
    print("%d points compared, %d differences" % (len(set(pa) & set(pb)), len(problems)))
    return 1 if problems or not pa else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
