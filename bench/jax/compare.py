"""Prints Rust (autodiff-objectives, default backend and reverse mode) against JAX, side by side.

    python3 bench/jax/compare.py rust.csv jax.csv

Both CSVs have the columns objective,d,op,seconds (written by the `backends` bench with
`--csv` and by bench_jax.py with `--csv`). A ratio below 1 means Rust is faster.
"""

import csv
import sys


def load(path):
    with open(path) as f:
        return {(r["objective"], int(r["d"]), r["op"]): float(r["seconds"]) for r in csv.DictReader(f)}


def us(t):
    return f"{t * 1e6:.1f} µs" if t < 1e-2 else f"{t * 1e3:.2f} ms"


def main():
    rust, jax = load(sys.argv[1]), load(sys.argv[2])
    print("| objective | d | op | Rust default | Rust reverse | JAX | default / JAX |")
    print("|---|---:|---|---:|---:|---:|---:|")
    keys = sorted({(o, d) for (o, d, _) in rust} & {(o, d) for (o, d, _) in jax}, key=lambda k: (k[1], k[0]))
    for o, d in keys:
        for op, rop, dop in (("f", "f", "f"), ("grad", "grad_reverse", "grad_default"), ("hvp", "hvp_reverse", "hvp_default")):
            j = jax.get((o, d, op))
            r = rust.get((o, d, rop))
            dflt = rust.get((o, d, dop))
            if j is None or r is None or dflt is None:
                continue
            print(f"| {o} | {d} | {op} | {us(dflt)} | {us(r)} | {us(j)} | {dflt / j:.2f} |")


if __name__ == "__main__":
    main()
