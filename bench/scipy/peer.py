"""scipy's trust-ncg and trust-krylov on the instances of `experiments/src/bin/second_order.rs`.

Three families, exported by `second_order export DIR` (all numbers as 17-digit text):

- lowrank_d{d}_s{seed}.txt (part 2 and part 3's first family): "n r", then V column-major.
  f(U) = 1/2 ||U U^T - V V^T||_F^2 with the closed-form gradient 2(U(U^T U) - V(V^T U)) and
  Hessian-vector product 2(W(U^T U) + U(W^T U + U^T W) - V(V^T W)). Starts: U = 0 exactly
  (the strict saddle the Rust methods start from) and U = 1e-3 Z.
- octopus_d{d}_s{seed}.txt: "d L gamma tau", then the start x0 (the Rust methods' start, in
  the cube [-1, 1]^d around a saddle with 10 saddles to go). f is the recursion of
  objective_zoo::Octopus, its gradient the same closed form as the zoo's (forward weights
  W_k, backward T_k); the Hessian-vector product is a central difference of that exact
  gradient (step 1e-6 / ||w||), since the octopus's closed-form Hessian is not ported here.
  One start: the exported x0 ("given").
- network_d{d}_s{seed}.txt: "m p h", then the inputs X row-major (m x p), then the targets y.
  f = (1/m) sum 1/2 r_i^2, r = tanh(X W^T) v - y, theta = (W row-major, v); exact gradient
  and exact Hessian-vector product (the R-operator, derived by hand below). Starts: theta = 0
  exactly (the strict saddle) and 1e-3 Z.

Z is standard normal from numpy's PCG64 seeded with the instance number. gtol = eps/2 of the
family (5e-7 for lowrank, 5e-4 for octopus and network), as the Rust methods' gradient
tolerance.

Usage: python peer.py DIR [--max-d N] [--seeds N] [--families lowrank,octopus,network]
(results are written next to the instances as result_{family}_{method}_{start}_d{d}_s{seed}.txt:
"nfev njev nhev nit seconds", then x one entry per line)
"""

import argparse
import pathlib
import time

import numpy as np
import scipy
from scipy.optimize import minimize


def numbers(path):
    return path.read_text().split()


def lowrank(path):
    t = numbers(path)
    n, r = int(t[0]), int(t[1])
    V = np.array([float(v) for v in t[2 : 2 + n * r]]).reshape((r, n)).T.copy()
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

    return n * r, f, grad, hessp, None


def octopus(path):
    t = numbers(path)
    d = int(t[0])
    L, g, tau = float(t[1]), float(t[2]), float(t[3])
    x0 = np.array([float(v) for v in t[4 : 4 + d]])
    nu = (37.0 * L + 13.0 * g) * tau * tau / 6.0
    c3 = (-14.0 * L + 10.0 * g) / tau
    c4 = (5.0 * L - 3.0 * g) / (tau * tau)

    def levels(x):
        """Per coordinate: A, A', B, B', C, C' of T_k = A + B S_{k+1} + C T_{k+1}."""
        a = np.abs(x)
        sign = np.where(x < 0.0, -1.0, 1.0)
        A = np.zeros(d); Ap = np.zeros(d)
        B = np.zeros(d); Bp = np.zeros(d)
        C = np.zeros(d); Cp = np.zeros(d)
        low = a <= tau
        mid = (a > tau) & (a <= 2.0 * tau)
        high = a > 2.0 * tau
        A[low] = -g * x[low] ** 2
        Ap[low] = -2.0 * g * x[low]
        B[low] = L
        am, sm = a[mid], sign[mid]
        tt = am - tau
        g1 = -g * am * am + (c3 / 3.0) * tt**3 + (c4 / 2.0) * tt**4
        g1p = -2.0 * g * am + c3 * tt * tt + 2.0 * c4 * tt**3
        u = (am - 2.0 * tau) / tau
        s = -10.0 * u**3 - 15.0 * u**4 - 6.0 * u**5
        sp = -30.0 * u * u * (1.0 + u) ** 2 / tau
        A[mid] = g1
        Ap[mid] = sm * g1p
        B[mid] = L * s
        Bp[mid] = sm * L * sp
        C[mid] = 1.0 - s
        Cp[mid] = -sm * sp
        ah, sh = a[high], sign[high]
        A[high] = L * (ah - 4.0 * tau) ** 2 - nu
        Ap[high] = sh * 2.0 * L * (ah - 4.0 * tau)
        C[high] = 1.0
        return A, Ap, B, Bp, C, Cp

    def sweep(x):
        A, Ap, B, Bp, C, Cp = levels(x)
        s_next = np.concatenate([np.cumsum((x * x)[::-1])[::-1][1:], [0.0]])  # S_{k+1}
        t_next = np.zeros(d + 1)  # t_next[k] = T_k, T_d = 0
        for k in range(d - 1, -1, -1):
            t_next[k] = A[k] + B[k] * s_next[k] + C[k] * t_next[k + 1]
        return A, Ap, B, Bp, C, Cp, s_next, t_next

    def f(x):
        return sweep(x)[7][0]

    def grad(x):
        A, Ap, B, Bp, C, Cp, s_next, t = sweep(x)
        w = np.concatenate([[1.0], np.cumprod(C)[:-1]])  # W_k = prod_{m<k} C_m
        beta = np.concatenate([[0.0], np.cumsum(w * B)[:-1]])  # sum_{m<k} W_m B_m
        return w * (Ap + Bp * s_next + Cp * t[1:]) + 2.0 * x * beta

    def hessp(x, v):
        nv = np.linalg.norm(v)
        if nv == 0.0:
            return np.zeros(d)
        h = 1e-6 / nv
        return (grad(x + h * v) - grad(x - h * v)) / (2.0 * h)

    return d, f, grad, hessp, x0


def network(path):
    t = numbers(path)
    m, p, h = int(t[0]), int(t[1]), int(t[2])
    X = np.array([float(v) for v in t[3 : 3 + m * p]]).reshape((m, p))
    y = np.array([float(v) for v in t[3 + m * p : 3 + m * p + m]])

    def split(x):
        return x[: h * p].reshape((h, p)), x[h * p :]

    def forward(x):
        W, v = split(x)
        T = np.tanh(X @ W.T)  # m x h
        return W, v, T, 1.0 - T * T, T @ v - y

    def f(x):
        r = forward(x)[4]
        return 0.5 * np.mean(r * r)

    def grad(x):
        W, v, T, S, r = forward(x)
        G = r[:, None] * S * v[None, :]
        return np.concatenate([(G.T @ X).reshape(-1), T.T @ r]) / m

    def hessp(x, w):
        W, v, T, S, r = forward(x)
        dW, dv = split(w)
        dT = S * (X @ dW.T)
        dS = -2.0 * T * dT
        dr = dT @ v + T @ dv
        dG = (dr[:, None] * S + r[:, None] * dS) * v[None, :] + r[:, None] * S * dv[None, :]
        return np.concatenate([(dG.T @ X).reshape(-1), dT.T @ r + T.T @ dr]) / m

    return h * (p + 1), f, grad, hessp, None


FAMILIES = {"lowrank": (lowrank, 5e-7), "octopus": (octopus, 5e-4), "network": (network, 5e-4)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--max-d", type=int, default=10_000)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--families", default="lowrank,octopus,network")
    a = ap.parse_args()
    d_dir = pathlib.Path(a.dir)
    print(f"scipy {scipy.__version__}, numpy {np.__version__}")
    for family in a.families.split(","):
        load, gtol = FAMILIES[family]
        for d in [100, 1_000, 10_000]:
            if d > a.max_d:
                continue
            for seed in range(a.seeds):
                dim, f, grad, hessp, given = load(d_dir / f"{family}_d{d}_s{seed}.txt")
                if given is not None:
                    starts = {"given": given}
                else:
                    z = np.random.default_rng(seed).standard_normal(dim)
                    starts = {"zero": np.zeros(dim), "perturbed": 1e-3 * z}
                for method in ["trust-ncg", "trust-krylov"]:
                    for name, x0 in starts.items():
                        t0 = time.perf_counter()
                        res = minimize(
                            f, x0, jac=grad, hessp=hessp, method=method,
                            options={"gtol": gtol, "maxiter": 10_000},
                        )
                        secs = time.perf_counter() - t0
                        nhev = getattr(res, "nhev", 0)
                        out = d_dir / f"result_{family}_{method}_{name}_d{d}_s{seed}.txt"
                        body = "\n".join(f"{v:.17e}" for v in res.x)
                        out.write_text(
                            f"{res.nfev} {res.njev} {nhev} {res.nit} {secs:.6f}\n{body}\n"
                        )
                print(f"{family} d = {d}, instance {seed}: done", flush=True)


if __name__ == "__main__":
    main()
