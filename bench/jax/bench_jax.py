"""JAX peer of `cargo bench -p autodiff-objectives --bench backends`.

Times f, the gradient (reverse mode, `jax.grad`) and the Hessian-vector product
(forward-over-reverse, `jax.jvp` of `jax.grad`) of the same two objectives at the same points,
jit-compiled, float64, on the CPU. Each timed call includes `block_until_ready()`.

    python3 bench/jax/bench_jax.py [--dims 10,100,1000] [--csv jax.csv]

Objectives (identical to objective_zoo::rosenbrock and objective_zoo::trigonometric):
    rosenbrock(x)    = sum_i 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2
    trigonometric(x) = sum_i (d - sum_j cos x_j + i (1 - cos x_i) - sin x_i)^2, i = 1..d
Point and direction: x_i = 0.1 (i mod 10) - 0.45, v_i = (i mod 3) - 1.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)


def rosenbrock(x):
    a = x[1:] - x[:-1] ** 2
    b = 1.0 - x[:-1]
    return jnp.sum(100.0 * a * a + b * b)


def trigonometric(x):
    d = x.shape[0]
    s, c = jnp.sin(x), jnp.cos(x)
    i = jnp.arange(1, d + 1, dtype=x.dtype)
    r = (d - jnp.sum(c)) + i * (1.0 - c) - s
    return jnp.sum(r * r)


def point(d):
    i = np.arange(d)
    x = 0.1 * (i % 10) - 0.45
    v = (i % 3).astype(np.float64) - 1.0
    return jnp.asarray(x, dtype=jnp.float64), jnp.asarray(v, dtype=jnp.float64)


def timeit(fn, *args, budget=0.4):
    """Median seconds per call; the first (compiling) call is not timed."""
    jax.block_until_ready(fn(*args))
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    once = max(time.perf_counter() - t0, 1e-9)
    per_sample = max(1, int(0.01 / once))
    samples = min(101, max(5, int(budget / (once * per_sample))))
    times = []
    for _ in range(samples):
        t = time.perf_counter()
        for _ in range(per_sample):
            out = fn(*args)
        jax.block_until_ready(out)
        times.append((time.perf_counter() - t) / per_sample)
    return statistics.median(times)


def ops(f):
    value = jax.jit(f)
    grad = jax.jit(jax.value_and_grad(f))

    def gradient_hvp(x, v):
        # forward-over-reverse: one jvp of the gradient gives (grad f, H v) together
        return jax.jvp(jax.grad(f), (x,), (v,))

    hvp = jax.jit(gradient_hvp)
    return value, grad, hvp


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", default="10,100,1000,10000,100000")
    parser.add_argument("--csv", default=None)
    args = parser.parse_args()
    dims = [int(t) for t in args.dims.split(",") if t.strip()]
    rows = []
    print(f"jax {jax.__version__}, devices {jax.devices()}, x64 {jax.config.jax_enable_x64}")
    print("| objective | d | f | ∇f | ∇²f·v |")
    print("|---|---:|---:|---:|---:|")
    for d in dims:
        for name, f in (("rosenbrock", rosenbrock), ("trigonometric", trigonometric)):
            x, v = point(d)
            value, grad, hvp = ops(f)
            tf = timeit(value, x)
            tg = timeit(grad, x)
            th = timeit(hvp, x, v)
            rows += [(name, d, "f", tf), (name, d, "grad", tg), (name, d, "hvp", th)]
            print(
                f"| {name} | {d} | {tf * 1e6:.1f} µs | {tg * 1e6:.1f} µs ({tg / tf:.1f}×) "
                f"| {th * 1e6:.1f} µs ({th / tf:.1f}×) |",
                flush=True,
            )
    if args.csv:
        with open(args.csv, "w") as out:
            out.write("objective,d,op,seconds\n")
            for name, d, op, t in rows:
                out.write(f"{name},{d},{op},{t:e}\n")


if __name__ == "__main__":
    main()
