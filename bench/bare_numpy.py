"""The speed-of-light reference: a bare multi-layer perceptron with Adam in plain NumPy.

Dense layers with ReLU between them, a linear output with mean squared error or a softmax
output with categorical cross-entropy (one fused slope ``p - y``), and Keras's Adam on one
flat float32 buffer that holds every weight (layers are views into it, so the update is a
handful of whole-buffer NumPy calls). No callbacks, metrics, checks or History: it is what a
NumPy engine driven from Python cannot beat by much, and glassnet is measured against it.

NumPy cannot switch the CPU to flush-to-zero, and Adam's moments of dead ReLU units decay
geometrically into float32 subnormals, which are many times slower to compute with. So every
``flush_every`` steps the moments below the smallest normal float32 are set to zero.
"""

from __future__ import annotations

import numpy as np

TINY = np.finfo(np.float32).tiny  # smallest normal float32; anything below is subnormal


class BareMLP:
    def __init__(self, weights, loss="mse", lr=1e-3, beta_1=0.9, beta_2=0.999, eps=1e-7,
                 flush_every=256):
        self.loss, self.lr, self.b1, self.b2, self.eps = loss, lr, beta_1, beta_2, eps
        self.flush_every, self.t = flush_every, 0
        self.params = np.concatenate([np.ravel(w) for w in weights]).astype(np.float32)
        self.grads, self.m, self.v, self.tmp = (np.zeros_like(self.params) for _ in range(4))
        cuts = np.cumsum([w.size for w in weights])[:-1]

        def views(flat):  # np.split gives views, so the layers' arrays share the buffer
            return [p.reshape(w.shape) for p, w in zip(np.split(flat, cuts), weights, strict=True)]

        self.W, self.b = views(self.params)[0::2], views(self.params)[1::2]
        self.gW, self.gb = views(self.grads)[0::2], views(self.grads)[1::2]

    def forward(self, x):
        acts = [x]
        for i, (W, b) in enumerate(zip(self.W, self.b, strict=True)):
            z = acts[-1] @ W
            z += b
            if i < len(self.W) - 1:
                np.maximum(z, 0, out=z)
            acts.append(z)
        if self.loss == "cce":  # softmax in place
            z -= z.max(axis=1, keepdims=True)
            np.exp(z, out=z)
            z /= z.sum(axis=1, keepdims=True)
        return acts

    def train_step(self, x, y):
        acts = self.forward(x)
        d = acts[-1] - y  # slope of the loss w.r.t. the output's pre-activation, times n
        if self.loss == "mse":
            loss = float(np.vdot(d, d)) / d.size
            d *= 2.0 / d.size
        else:
            loss = -float(np.vdot(y, np.log(np.clip(acts[-1], 1e-7, 1 - 1e-7)))) / len(x)
            d /= len(x)
        for i in reversed(range(len(self.W))):
            np.matmul(acts[i].T, d, out=self.gW[i])
            np.sum(d, axis=0, out=self.gb[i])
            if i:
                d = d @ self.W[i].T
                d *= acts[i] > 0  # ReLU slope
        self.adam()
        return loss

    def adam(self):
        self.t += 1
        g, m, v, tmp = self.grads, self.m, self.v, self.tmp
        np.subtract(g, m, out=tmp)
        tmp *= np.float32(1 - self.b1)
        m += tmp
        np.multiply(g, g, out=tmp)
        tmp -= v
        tmp *= np.float32(1 - self.b2)
        v += tmp
        alpha = self.lr * np.sqrt(1 - self.b2**self.t) / (1 - self.b1**self.t)
        np.sqrt(v, out=tmp)
        tmp += np.float32(self.eps)
        np.divide(m, tmp, out=tmp)
        tmp *= np.float32(alpha)
        self.params -= tmp
        if self.t % self.flush_every == 0:  # subnormal moments -> 0 (see module docstring)
            m[np.abs(m) < TINY] = 0
            v[v < TINY] = 0

    def fit(self, x, y, batch_size=32, epochs=1, seed=0):
        rng, n, history = np.random.default_rng(seed), len(x), []
        for _ in range(epochs):
            order = rng.permutation(n)
            xs, ys = x[order], y[order]
            total = 0.0
            for start in range(0, n, batch_size):
                xb, yb = xs[start:start + batch_size], ys[start:start + batch_size]
                total += self.train_step(xb, yb) * len(xb)
            history.append(total / n)
        return history

    def predict(self, x, batch_size=1024):
        if len(x) <= batch_size:
            return self.forward(x)[-1]
        out = np.empty((len(x), self.W[-1].shape[1]), dtype=np.float32)
        for start in range(0, len(x), batch_size):
            out[start:start + batch_size] = self.forward(x[start:start + batch_size])[-1]
        return out
