"""Prints the side-by-side table of `bash bench/run.sh`: times, ratios ours / peer, and the
largest relative difference between our values and each peer's, checked before any ratio is
reported (a ratio is shown only where the values agree to 1e-10 relative).

    python bench/peers/compare.py DATA_FOLDER [--svg chart.svg]

The relative difference of two vectors a (ours) and b (peer) is max_i |a_i - b_i| / max_i |b_i|
(the infinity norm of the difference over that of the peer's vector): f, the gradient and the
Hessian-vector product are compared separately, and a row shows the worst of the values its
operation returns (grad: f and the gradient; hvp: the gradient and the product).
"""

import csv
import os
import sys

import numpy as np

TOLERANCE = 1e-10
PEERS = ("jax", "torch")


def read_times(folder, who):
    path = os.path.join(folder, f"{who}.csv")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return {(r["workload"], r["op"]): float(r["seconds"]) for r in csv.DictReader(f)}


def values(folder, name, who):
    path = os.path.join(folder, f"{name}.{who}.f64")
    if not os.path.exists(path):
        return None
    a = np.fromfile(path, dtype="<f8")
    d = (a.size - 1) // 2
    return a[0], a[1 : 1 + d], a[1 + d :]


def rel(a, b):
    a, b = np.atleast_1d(a), np.atleast_1d(b)
    if a.shape != b.shape:
        return float("inf")
    scale = max(float(np.max(np.abs(b))), np.finfo(float).tiny)
    return float(np.max(np.abs(a - b))) / scale


def fmt_time(t):
    if t is None:
        return "—"
    if t < 1e-3:
        return f"{t * 1e6:.1f} µs"
    if t < 1:
        return f"{t * 1e3:.2f} ms"
    return f"{t:.2f} s"


def svg_chart(rows, path):
    """A horizontal bar chart of ours / peer per workload and operation, log scale, with the
    parity line at 1; written by hand (no plotting dependency)."""
    bars = [(f"{r['workload']} {r['op']}", p, r["ratio"][p]) for r in rows for p in PEERS if r["ratio"].get(p)]
    if not bars:
        return
    lo, hi = 0.1, max(100.0, max(b[2] for b in bars) * 1.2)
    width, left, bar_h, top = 900, 250, 14, 40
    height = top + len(bars) * (bar_h + 4) + 50
    span = np.log10(hi) - np.log10(lo)

    def xpos(v):
        return left + (width - left - 20) * (np.log10(max(v, lo)) - np.log10(lo)) / span

    colors = {"jax": "#4c72b0", "torch": "#dd8452"}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">time ours / time peer (log scale; below 1: ours faster)</text>',
    ]
    for k, (label, peer, ratio) in enumerate(bars):
        y = top + k * (bar_h + 4)
        out.append(f'<text x="{left - 6}" y="{y + bar_h - 3}" text-anchor="end">{label} vs {peer}</text>')
        out.append(
            f'<rect x="{xpos(lo):.1f}" y="{y}" width="{xpos(ratio) - xpos(lo):.1f}" height="{bar_h}" fill="{colors[peer]}"/>'
        )
        out.append(f'<text x="{xpos(ratio) + 4:.1f}" y="{y + bar_h - 3}">{ratio:.2f}</text>')
    axis_y = top + len(bars) * (bar_h + 4) + 5
    tick = lo
    while tick <= hi * 1.0001:
        x = xpos(tick)
        out.append(f'<line x1="{x:.1f}" y1="{top - 5}" x2="{x:.1f}" y2="{axis_y}" stroke="#ccc" stroke-width="0.5"/>')
        out.append(f'<text x="{x:.1f}" y="{axis_y + 14}" text-anchor="middle">{tick:g}</text>')
        tick *= 10
    x1 = xpos(1.0)
    out.append(f'<line x1="{x1:.1f}" y1="{top - 5}" x2="{x1:.1f}" y2="{axis_y}" stroke="black" stroke-width="1.2"/>')
    for k, peer in enumerate(PEERS):
        out.append(f'<rect x="{left + k * 120}" y="{axis_y + 24}" width="12" height="12" fill="{colors[peer]}"/>')
        out.append(f'<text x="{left + k * 120 + 16}" y="{axis_y + 34}">{peer}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    print(f"wrote {path}")


def main():
    folder = sys.argv[1]
    svg = sys.argv[sys.argv.index("--svg") + 1] if "--svg" in sys.argv else None
    ours = read_times(folder, "rust")
    peers = {p: read_times(folder, p) for p in PEERS}
    names = []
    for name, _ in ours:
        if name not in names:
            names.append(name)
    rows = []
    refused = 0
    for name in names:
        mine = values(folder, name, "rust")
        for op in ("grad", "hvp"):
            row = {"workload": name, "op": op, "ours": ours.get((name, op)), "f": ours.get((name, "f")), "ratio": {}, "diff": {}, "time": {}}
            for p in PEERS:
                theirs = values(folder, name, p)
                t = peers[p].get((name, op))
                if theirs is None or t is None:
                    continue
                if op == "grad":
                    diff = max(rel(mine[0], theirs[0]), rel(mine[1], theirs[1]))
                else:
                    diff = max(rel(mine[1], theirs[1]), rel(mine[2], theirs[2]))
                row["diff"][p] = diff
                row["time"][p] = t
                if diff <= TOLERANCE:
                    row["ratio"][p] = row["ours"] / t
                else:
                    refused += 1
            rows.append(row)
    header = "| workload | op | ours | ours / f | " + " | ".join(f"{p} | ours / {p} | rel. diff {p}" for p in PEERS) + " |"
    print(header)
    print("|---|---|---:|---:|" + "---:|---:|---:|" * len(PEERS))
    for r in rows:
        cells = [r["workload"], r["op"], fmt_time(r["ours"]), f"{r['ours'] / r['f']:.1f}" if r["f"] else "—"]
        for p in PEERS:
            if p not in r["diff"]:
                cells += ["—", "—", "—"]
                continue
            ratio = r["ratio"].get(p)
            cells += [fmt_time(r["time"][p]), f"{ratio:.2f}" if ratio is not None else "VALUES DIFFER", f"{r['diff'][p]:.1e}"]
        print("| " + " | ".join(cells) + " |")
    if refused:
        print(f"\n{refused} ratio(s) refused: values differ by more than {TOLERANCE:g} relative")
    if svg:
        svg_chart(rows, svg)
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
