"""Shared by the JAX and PyTorch peers of `bash bench/run.sh`: the workloads, their inputs (read
from the files the Rust side wrote, so points, weights and data are identical), the timer and
the output format.

Each workload W has, in the data folder, W.x.f64 (point or weights), W.v.f64 (direction) and,
for the networks, W.data.f64 (inputs row-major samples x inputs, then the labels as floats). A peer
writes W.<peer>.f64 = [f, grad..., hvp...] and <peer>.csv (workload,op,seconds).
"""

import os
import statistics
import time

import numpy as np

# The MLP's shape: the same constants as in crates/autodiff-objectives/benches/peers.rs.
INPUTS, HIDDEN, CLASSES, SAMPLES = 32, 48, 10, 256
WEIGHTS = INPUTS * HIDDEN + HIDDEN + HIDDEN * CLASSES + CLASSES


# The zoo's review network at its CIFAR-10 shape (objective_zoo::MlpShape::review_cifar) on
# CIFAR_SAMPLES synthetic images: the same constants as the `cifar_net` workload in peers.rs.
CIFAR_INPUTS, CIFAR_HIDDEN, CIFAR_BOTTLENECK, CIFAR_CLASSES, CIFAR_SAMPLES = 3072, 128, 32, 10, 64


def workloads(folder):
    """The workloads the Rust side wrote, in its order (from rust.csv)."""
    names = []
    with open(os.path.join(folder, "rust.csv")) as csv:
        next(csv)
        for line in csv:
            name = line.split(",")[0]
            if name not in names:
                names.append(name)
    return names


def load(folder, name, suffix):
    return np.fromfile(os.path.join(folder, f"{name}.{suffix}.f64"), dtype="<f8")


def mlp_data(folder):
    data = load(folder, "mlp", "data")
    assert data.size == SAMPLES * INPUTS + SAMPLES, "mlp.data.f64 has the wrong size"
    inputs = data[: SAMPLES * INPUTS].reshape(SAMPLES, INPUTS)
    labels = data[SAMPLES * INPUTS :].astype(np.int64)
    return inputs, labels


def cifar_data(folder):
    data = load(folder, "cifar_net", "data")
    n, p = CIFAR_SAMPLES, CIFAR_INPUTS
    assert data.size == n * p + n, "cifar_net.data.f64 has the wrong size"
    return data[: n * p].reshape(n, p), data[n * p :].astype(np.int64)


def split_cifar_weights(theta):
    """theta = (W1 hidden x inputs, b1, W2 bottleneck x hidden, b2, W3 classes x bottleneck, b3),
    each W row-major: objective_zoo::MlpShape's layout."""
    p, h, b, c = CIFAR_INPUTS, CIFAR_HIDDEN, CIFAR_BOTTLENECK, CIFAR_CLASSES
    return split_groups(theta, [(h, p), (h,), (b, h), (b,), (c, b), (c,)])


def split_weights(theta):
    """theta = (W1 row-major HIDDEN x INPUTS, b1, W2 row-major CLASSES x HIDDEN, b2)."""
    a = INPUTS * HIDDEN
    b = a + HIDDEN
    c = b + HIDDEN * CLASSES
    return (
        theta[:a].reshape(HIDDEN, INPUTS),
        theta[a:b],
        theta[b:c].reshape(CLASSES, HIDDEN),
        theta[c:],
    )


def timeit(call, budget=0.6):
    """Median seconds per call of `call` (which must block until its result is ready); the
    first two calls (compilation, warm-up) are not timed. Batches of about 10 ms."""
    call()
    t0 = time.perf_counter()
    call()
    once = max(time.perf_counter() - t0, 1e-9)
    per_sample = max(1, int(0.01 / once))
    samples = min(101, max(5, int(budget / (once * per_sample))))
    times = []
    for _ in range(samples):
        t = time.perf_counter()
        for _ in range(per_sample):
            call()
        times.append((time.perf_counter() - t) / per_sample)
    return statistics.median(times)


def write_values(folder, name, peer, fx, grad, hv):
    values = np.concatenate([[float(fx)], np.asarray(grad, dtype=np.float64), np.asarray(hv, dtype=np.float64)])
    values.astype("<f8").tofile(os.path.join(folder, f"{name}.{peer}.f64"))


def write_csv(folder, peer, rows):
    with open(os.path.join(folder, f"{peer}.csv"), "w") as out:
        out.write("workload,op,seconds\n")
        for name, op, seconds in rows:
            out.write(f"{name},{op},{seconds:e}\n")


def report(peer, name, t_f, t_g, t_h):
    print(
        f"{peer:>5} {name:>18}: f {t_f * 1e6:10.2f} us   grad {t_g * 1e6:10.2f} us   hvp {t_h * 1e6:10.2f} us",
        flush=True,
    )


def fashion_data(folder, name):
    """A Fashion-MNIST-shaped workload's images (n x 1 x 28 x 28), labels, sizes (`meta`: n,
    then for the VGG its three block widths) and dropout masks, as the Rust side wrote them."""
    meta = load(folder, name, "meta").astype(np.int64)
    n = int(meta[0])
    data = load(folder, name, "data")
    assert data.size == n * 784 + n, f"{name}.data.f64 has the wrong size"
    images = data[: n * 784].reshape(n, 1, 28, 28)
    return images, data[n * 784 :].astype(np.int64), meta, load(folder, name, "masks")


def split_groups(theta, shapes):
    """theta cut into consecutive row-major arrays of the given shapes."""
    out, at = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        out.append(theta[at : at + size].reshape(shape))
        at += size
    assert at == theta.shape[0], "the weights have the wrong size"
    return out
