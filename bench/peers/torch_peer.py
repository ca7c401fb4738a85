"""PyTorch peer of `bash bench/run.sh`: float64, CPU, one thread (`torch.set_num_threads(1)`);
gradient by `torch.autograd.grad`, Hessian-vector product by double backward (the gradient
with `create_graph=True`, then the gradient of its inner product with v), eager mode.

    python bench/peers/torch_peer.py DATA_FOLDER
"""

import sys

import numpy as np
import torch

import common

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)


def rosenbrock(x):
    a = x[1:] - x[:-1] ** 2
    b = 1.0 - x[:-1]
    return torch.sum(100.0 * a * a + b * b)


def trigonometric(x):
    d = x.shape[0]
    s, c = torch.sin(x), torch.cos(x)
    i = torch.arange(1, d + 1, dtype=x.dtype)
    r = (d - torch.sum(c)) + i * (1.0 - c) - s
    return torch.sum(r * r)


def mlp(inputs, labels):
    inputs = torch.from_numpy(inputs)
    labels = torch.from_numpy(labels)

    def loss(theta):
        w1, b1, w2, b2 = common.split_weights(theta)
        hidden = torch.tanh(inputs @ w1.T + b1)
        logits = hidden @ w2.T + b2
        return torch.nn.functional.cross_entropy(logits, labels)

    return loss


def cifar_net(inputs, labels):
    """The zoo's review network: sigmoid(W1 x + b1) -> W2 . + b2 -> W3 . + b3, softmax
    cross-entropy, mean over the images."""
    inputs = torch.from_numpy(inputs)
    labels = torch.from_numpy(labels)

    def loss(theta):
        w1, b1, w2, b2, w3, b3 = common.split_cifar_weights(theta)
        hidden = torch.sigmoid(inputs @ w1.T + b1)
        logits = (hidden @ w2.T + b2) @ w3.T + b3
        return torch.nn.functional.cross_entropy(logits, labels)

    return loss


def fashion_mlp(folder):
    """The review's MLP on Fashion-MNIST shapes: sigmoid(W1 x + b1) * scales -> W2 . + b2 ->
    W3 . + b3, softmax cross-entropy, mean over the images (objective_zoo::ReviewMlp)."""
    images, labels, meta, masks = common.fashion_data(folder, "fashion_mlp")
    n = int(meta[0])
    inputs = torch.from_numpy(images.reshape(n, 784))
    labels = torch.from_numpy(labels)
    scales = torch.from_numpy(masks.reshape(n, 128))
    shapes = [(128, 784), (128,), (32, 128), (32,), (10, 32), (10,)]

    def loss(theta):
        w1, b1, w2, b2, w3, b3 = common.split_groups(theta, shapes)
        hidden = torch.sigmoid(inputs @ w1.T + b1) * scales
        logits = (hidden @ w2.T + b2) @ w3.T + b3
        return torch.nn.functional.cross_entropy(logits, labels)

    return loss


def fashion_vgg(folder, name):
    """The review's VGG3 on 28x28 grey images (objective_zoo::ReviewVgg): three blocks of
    [3x3 conv, ReLU, 3x3 conv, ReLU, 2x2 max-pool, dropout], dense 128 ReLU, dropout, dense
    10, softmax cross-entropy; inverted dropout with the Rust side's masks."""
    images, labels, meta, masks = common.fashion_data(folder, name)
    n, widths = int(meta[0]), [int(w) for w in meta[1:4]]
    x0 = torch.from_numpy(images)
    labels = torch.from_numpy(labels)
    rates = (0.2, 0.3, 0.4, 0.2)
    sizes = [widths[0] * 196, widths[1] * 49, widths[2] * 9, 128]
    per_image = masks.reshape(n, sum(sizes))
    cut = np.cumsum([0] + sizes)
    keep = [torch.from_numpy(per_image[:, cut[k] : cut[k + 1]].copy()) / (1.0 - rates[k]) for k in range(4)]
    shapes, c_in = [], 1
    for w in widths:
        shapes += [(w, c_in, 3, 3), (w,), (w, w, 3, 3), (w,)]
        c_in = w
    shapes += [(128, widths[2] * 9), (128,), (10, 128), (10,)]
    conv = torch.nn.functional.conv2d
    pool = torch.nn.functional.max_pool2d
    relu = torch.relu

    def loss(theta):
        p = common.split_groups(theta, shapes)
        h = x0
        for b in range(3):
            k1, b1, k2, b2 = p[4 * b : 4 * b + 4]
            h = relu(conv(h, k1, b1, padding=1))
            h = relu(conv(h, k2, b2, padding=1))
            h = pool(h, 2)
            h = h * keep[b].reshape(h.shape)
        h = h.reshape(n, -1)
        h = relu(h @ p[12].T + p[13]) * keep[3]
        logits = h @ p[14].T + p[15]
        return torch.nn.functional.cross_entropy(logits, labels)

    return loss


def main():
    folder = sys.argv[1]
    rows = []
    for name in common.workloads(folder):
        if name.startswith("rosenbrock"):
            f = rosenbrock
        elif name.startswith("trigonometric"):
            f = trigonometric
        elif name.startswith("cifar_net"):
            f = cifar_net(*common.cifar_data(folder))
        elif name == "fashion_mlp":
            f = fashion_mlp(folder)
        elif name.startswith("vgg"):
            f = fashion_vgg(folder, name)
        else:
            f = mlp(*common.mlp_data(folder))
        x0 = torch.from_numpy(common.load(folder, name, "x"))
        v = torch.from_numpy(common.load(folder, name, "v"))

        def value():
            with torch.no_grad():
                return f(x0)

        def grad():
            x = x0.detach().requires_grad_(True)
            y = f(x)
            (g,) = torch.autograd.grad(y, x)
            return y.detach(), g

        def hvp():
            x = x0.detach().requires_grad_(True)
            y = f(x)
            (g,) = torch.autograd.grad(y, x, create_graph=True)
            (hv,) = torch.autograd.grad(g @ v, x)
            return y.detach(), g.detach(), hv

        fx, g = grad()
        _, _, hv = hvp()
        common.write_values(folder, name, "torch", fx.item(), g.numpy(), hv.numpy())
        t_f = common.timeit(value)
        t_g = common.timeit(grad)
        t_h = common.timeit(hvp)
        common.report("torch", name, t_f, t_g, t_h)
        rows += [(name, "f", t_f), (name, "grad", t_g), (name, "hvp", t_h)]
    common.write_csv(folder, "torch", rows)


if __name__ == "__main__":
    main()
