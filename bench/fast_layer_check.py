#!/usr/bin/env python3
"""Fast-count check of one layer with every output live (bench/results/hdl.md).

`sparselut synth --fast` always removes dead logic, so its per-layer counts are
not comparable with Yosys run on a single layer module (whose outputs are all
ports). This script repeats the tool's steps for one plain (LINEAR/POLY) layer
with all outputs kept: the tables are read from the emitted HLS C, each output
bit becomes a reduced multiplexer tree (most significant address bit at the
root), ABC maps them with synth_xilinx's LUT library and script, and LUT7/LUT8
are counted as their non-constant 64-entry slices (Yosys lut_map.v +
opt_lut_ins).

usage: fast_layer_check.py HLS_C LAYER WORKDIR [ABC]
  HLS_C   splut.c from `sparselut emit --format hls [--dont-care] [--no-reset]`
"""
import os
import re
import subprocess
import sys

LUT_LIB = "".join(f"{k} {c}.00 1.00\n" for k, c in
                  zip(range(1, 9), (2, 2, 3, 5, 5, 5, 10, 20)))
SCRIPT = ("read_lut xilinx.lut; read_blif layer.blif; strash; &get -n; &fraig -x; &put; "
          "scorr; dc2; dretime; strash; dch -f; if; mfs2; write_blif mapped.blif")


def write_blif(src, layer, path):
    tabs = [(n, [int(x) for x in b.replace("\n", "").split(",") if x.strip()])
            for n, _, b in re.findall(r"static const uint\d+_t (\w+)\[(\d+)\] = \{([^}]*)\}", src)
            if re.match(r"splut_l" + layer + r"_n\d+$", n)]
    ins, outs, body = [], [], []
    for ti, (_, vals) in enumerate(tabs):
        k = (len(vals) - 1).bit_length()
        ins += [f"t{ti}_{p}" for p in range(k)]
        for b in range(max(vals).bit_length()):
            v = [x >> b & 1 for x in vals]
            if all(v) or not any(v):
                continue
            memo, count, used = {}, [2], set()

            def node(off, lg):
                s = v[off:off + (1 << lg)]
                if not any(s) or all(s):
                    used.add(int(all(s)))
                    return int(all(s))
                key = (lg, tuple(s))
                if key not in memo:
                    lo, hi = node(off, lg - 1), node(off + (1 << (lg - 1)), lg - 1)
                    if lo == hi:
                        memo[key] = lo
                    else:
                        memo[key] = count[0]
                        count[0] += 1
                        body.append(f".names t{ti}_{lg - 1} t{ti}_{b}_{lo} t{ti}_{b}_{hi} "
                                    f"t{ti}_{b}_{memo[key]}\n01- 1\n1-1 1")
                return memo[key]

            root = node(0, k)
            for c in used:
                body.append(f".names t{ti}_{b}_{c}" + ("\n1" if c else ""))
            body.append(f".names t{ti}_{b}_{root} t{ti}_o{b}\n1 1")
            outs.append(f"t{ti}_o{b}")
    with open(path, "w") as f:
        f.write(".model m\n.inputs " + " ".join(ins) + "\n.outputs " + " ".join(outs) + "\n")
        f.write("\n".join(body) + "\n.end\n")
    return len(outs)


def yosys_luts(path):
    lines = open(path).read().replace("\\\n", " ").split("\n")
    i, luts = 0, 0
    while i < len(lines):
        if not lines[i].startswith(".names"):
            i += 1
            continue
        k = len(lines[i].split()) - 2
        rows = []
        i += 1
        while i < len(lines) and lines[i] and not lines[i].startswith("."):
            rows.append(lines[i])
            i += 1
        if k < 1:
            continue
        if k <= 6:
            luts += 1
            continue
        offset = rows[0].split()[-1] == "0"
        tt = [any(all(r[j] == "-" or int(r[j]) == (m >> j & 1) for j in range(k)) for r in rows)
              != offset for m in range(1 << k)]
        luts += sum(1 for q in range(1 << (k - 6))
                    if any(tt[q * 64:(q + 1) * 64]) and not all(tt[q * 64:(q + 1) * 64]))
    return luts


def main():
    src, layer, work = sys.argv[1], sys.argv[2], sys.argv[3]
    abc = sys.argv[4] if len(sys.argv) > 4 else "yosys-abc"
    os.makedirs(work, exist_ok=True)
    functions = write_blif(open(src).read(), layer, os.path.join(work, "layer.blif"))
    with open(os.path.join(work, "xilinx.lut"), "w") as f:
        f.write(LUT_LIB)
    subprocess.run([abc, "-q", SCRIPT], cwd=work, check=True, stdout=subprocess.DEVNULL)
    print(f"layer {layer}: {functions} functions, "
          f"{yosys_luts(os.path.join(work, 'mapped.blif'))} LUT (synth_xilinx equivalent)")


if __name__ == "__main__":
    main()
