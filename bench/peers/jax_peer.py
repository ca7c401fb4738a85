"""JAX peer of `bash bench/run.sh`: jit-compiled, float64, CPU; gradient by
`jax.value_and_grad`, gradient and Hessian-vector product together by forward-over-reverse
(`jax.jvp` of `jax.grad`). Every timed call ends in `block_until_ready()`.

    python bench/peers/jax_peer.py DATA_FOLDER
"""

import os
import sys

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import common  # noqa: E402

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


def mlp(inputs, labels):
    inputs = jnp.asarray(inputs)
    labels = jnp.asarray(labels)

    def loss(theta):
        w1, b1, w2, b2 = common.split_weights(theta)
        hidden = jnp.tanh(inputs @ w1.T + b1)
        logits = hidden @ w2.T + b2
        lse = jax.nn.logsumexp(logits, axis=1)
        return jnp.mean(lse - jnp.take_along_axis(logits, labels[:, None], axis=1)[:, 0])

    return loss


def cifar_net(inputs, labels):
    """The zoo's review network: sigmoid(W1 x + b1) -> W2 . + b2 -> W3 . + b3, softmax
    cross-entropy, mean over the images."""
    inputs = jnp.asarray(inputs)
    labels = jnp.asarray(labels)

    def loss(theta):
        w1, b1, w2, b2, w3, b3 = common.split_cifar_weights(theta)
        hidden = jax.nn.sigmoid(inputs @ w1.T + b1)
        logits = (hidden @ w2.T + b2) @ w3.T + b3
        lse = jax.nn.logsumexp(logits, axis=1)
        return jnp.mean(lse - jnp.take_along_axis(logits, labels[:, None], axis=1)[:, 0])

    return loss


def main():
    folder = sys.argv[1]
    rows = []
    for name in common.workloads(folder):
        if name.startswith(("fashion_mlp", "vgg")):
            continue  # the networks on Fashion-MNIST shapes are compared with PyTorch only
        if name.startswith("rosenbrock"):
            f = rosenbrock
        elif name.startswith("trigonometric"):
            f = trigonometric
        elif name.startswith("cifar_net"):
            f = cifar_net(*common.cifar_data(folder))
        else:
            f = mlp(*common.mlp_data(folder))
        x = jnp.asarray(common.load(folder, name, "x"))
        v = jnp.asarray(common.load(folder, name, "v"))
        value = jax.jit(f)
        grad = jax.jit(jax.value_and_grad(f))
        hvp = jax.jit(lambda x, v, f=f: jax.jvp(jax.grad(f), (x,), (v,)))
        fx, g = grad(x)
        _, hv = hvp(x, v)
        common.write_values(folder, name, "jax", fx, g, hv)
        t_f = common.timeit(lambda: value(x).block_until_ready())
        t_g = common.timeit(lambda: jax.block_until_ready(grad(x)))
        t_h = common.timeit(lambda: jax.block_until_ready(hvp(x, v)))
        common.report("jax", name, t_f, t_g, t_h)
        rows += [(name, "f", t_f), (name, "grad", t_g), (name, "hvp", t_h)]
    common.write_csv(folder, "jax", rows)


if __name__ == "__main__":
    main()
