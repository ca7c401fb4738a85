"""JAX side of `bash bench/run.sh --operator` (issue 25): the Hessian at one point as JAX
applies it, `jax.linearize` of `jax.grad(f)` at x once, then the linear map applied to the
same K = 50 vectors as ours, jit-compiled, one vector per call and vmapped over 8 per call;
and `jax.jit(jax.grad(f))` beside our gradient. Workloads without a JAX function here (the
review MLP) are skipped.
Every product is first compared with ours (W.rust.f64, written by
`cargo bench -p saddle-bench-operator --bench operator`), then timed; the table puts the
times per vector beside ours (rust_operator.csv).

    python bench/peers/jax_operator.py DATA_FOLDER
"""

import os
import sys

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import common  # noqa: E402
import jax_peer  # noqa: E402  (enables float64)

K = 50
LANES = 8


def ours(folder):
    """{workload: {op: seconds per vector}} from rust_operator.csv, in the file's order."""
    table = {}
    with open(os.path.join(folder, "rust_operator.csv")) as csv:
        next(csv)
        for line in csv:
            name, op, seconds = line.strip().split(",")
            table.setdefault(name, {})[op] = float(seconds)
    return table


def objective(folder, name):
    """The workload's function in JAX, or None where this script has none (the review MLP)."""
    if name.startswith("rosenbrock"):
        return jax_peer.rosenbrock
    if name.startswith("trigonometric"):
        return jax_peer.trigonometric
    if name.startswith("mlp"):
        return jax_peer.mlp(*common.mlp_data(folder))
    return None


def main():
    folder = sys.argv[1]
    rows = ours(folder)
    print(
        "| workload | d | ours apply (µs) | JAX linearized, one vector (µs) | ours / JAX |"
        " ours apply_many(8) per vector (µs) | JAX vmapped ×8, per vector (µs) | ours / JAX |"
        " ours f (µs) | apply / f | ours gradient (µs) | JAX jit(grad) (µs) | ours / JAX |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in rows.items():
        f = objective(folder, name)
        if f is None:
            continue
        x = jnp.asarray(common.load(folder, name, "x"))
        d = x.shape[0]
        vs = common.load(folder, name, "V").reshape(K, d)
        want = common.load(folder, name, "rust").reshape(K, d)
        _, lin = jax.linearize(jax.grad(f), x)
        one = jax.jit(lin)
        many = jax.jit(jax.vmap(lin))
        blocks = [jnp.asarray(vs[s : s + LANES]) for s in range(0, K, LANES)]
        got = np.concatenate([np.asarray(many(b)) for b in blocks])
        single = np.stack([np.asarray(one(jnp.asarray(v))) for v in vs])
        for k in range(K):
            for theirs, how in ((single[k], "one vector"), (got[k], "vmapped")):
                diff = np.linalg.norm(theirs - want[k]) / max(np.linalg.norm(want[k]), 1e-300)
                assert diff <= 1e-10, f"{name}: JAX ({how}) differs from ours by {diff:e} at vector {k}"
        grad = jax.jit(jax.grad(f))
        g = np.asarray(grad(x))
        g_ours = common.load(folder, name, "grad")
        diff = np.linalg.norm(g - g_ours) / max(np.linalg.norm(g_ours), 1e-300)
        assert diff <= 1e-10, f"{name}: JAX's gradient differs from ours by {diff:e}"
        t_grad = common.timeit(lambda: grad(x).block_until_ready())
        v0 = jnp.asarray(vs[0])
        t_one = common.timeit(lambda: one(v0).block_until_ready())
        b0 = blocks[0]
        t_many = common.timeit(lambda: many(b0).block_until_ready()) / LANES
        us = 1e6
        print(
            f"| {name} | {d} | {r['apply'] * us:.1f} | {t_one * us:.1f} | **{r['apply'] / t_one:.2f}** |"
            f" {r['apply_many'] * us:.1f} | {t_many * us:.1f} | **{r['apply_many'] / t_many:.2f}** |"
            f" {r['f'] * us:.1f} | {r['apply'] / r['f']:.2f} |"
            f" {r['gradient'] * us:.1f} | {t_grad * us:.1f} | **{r['gradient'] / t_grad:.2f}** |"
        )


if __name__ == "__main__":
    main()
