"""scipy's trust-ncg and trust-krylov on the instances of `examples/second_order.rs`, part 2.

f(U) = 1/2 ||U U^T - V V^T||_F^2, U, V in R^{n x r} stored column-major as in the Rust example,
with the closed-form gradient 2(U(U^T U) - V(V^T U)) and Hessian-vector product
2(W(U^T U) + U(W^T U + U^T W) - V(V^T W)). Two starts per instance: U = 0 exactly (the strict
saddle the Rust methods start from) and U = 1e-3 Z, Z standard normal from numpy's PCG64
seeded with the instance number. gtol = eps/2 = 5e-7, as the Rust methods' gradient tolerance.

Usage: python peer.py DIR [--max-d N] [--seeds N]   (DIR holds the exported instances; the
results are written next to them as result_{method}_{start}_d{d}_s{seed}.txt)
"""

import argparse
import pathlib
import time

import numpy as np
import scipy
from scipy.optimize import minimize


def load(path):
    lines = path.read_text().split("\n")
    n, r = (int(t) for t in lines[0].split())
    v = np.array([float(t) for t in lines[1 : 1 + n * r]])
    return n, r, v.reshape((r, n)).T.copy()  # column-major -> n x r


def problem(n, r, V):
    vtv = V.T @ V
    const = np.sum(vtv * vtv)

    def mat(x):
        return x.reshape((r, n)).T

    def flat(m):
        return m.T.reshape(-1)

    def f(x):
        U = mat(x)
        utu, utv = U.T @ U, U.T @ V
        return 0.5 * (np.sum(utu * utu) - 2.0 * np.sum(utv * utv) + const)

    def grad(x):
        U = mat(x)
        return flat(2.0 * (U @ (U.T @ U) - V @ (V.T @ U)))

    def hessp(x, w):
        U, W = mat(x), mat(w)
        return flat(2.0 * (W @ (U.T @ U) + U @ (W.T @ U + U.T @ W) - V @ (V.T @ W)))

    return f, grad, hessp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--max-d", type=int, default=10_000)
    ap.add_argument("--seeds", type=int, default=10)
    a = ap.parse_args()
    d_dir = pathlib.Path(a.dir)
    print(f"scipy {scipy.__version__}, numpy {np.__version__}")
    for d in [100, 1_000, 10_000]:
        if d > a.max_d:
            continue
        for seed in range(a.seeds):
            n, r, V = load(d_dir / f"lowrank_d{d}_s{seed}.txt")
            f, grad, hessp = problem(n, r, V)
            starts = {
                "zero": np.zeros(n * r),
                "perturbed": 1e-3 * np.random.default_rng(seed).standard_normal(n * r),
            }
            for method in ["trust-ncg", "trust-krylov"]:
                for name, x0 in starts.items():
                    t = time.perf_counter()
                    res = minimize(
                        f, x0, jac=grad, hessp=hessp, method=method,
                        options={"gtol": 5e-7, "maxiter": 10_000},
                    )
                    secs = time.perf_counter() - t
                    nhev = getattr(res, "nhev", 0)
                    out = d_dir / f"result_{method}_{name}_d{d}_s{seed}.txt"
                    body = "\n".join(f"{v:.17e}" for v in res.x)
                    out.write_text(f"{res.nfev} {res.njev} {nhev} {res.nit} {secs:.6f}\n{body}\n")
            print(f"d = {d}, instance {seed}: done")


if __name__ == "__main__":
    main()
