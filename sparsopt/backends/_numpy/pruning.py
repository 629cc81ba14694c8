"""NumPy reference kernels of the pruning family (``sparsopt.pruning``).

* ``nm_mask``: the N:M mask of a layer ``(n_in, n_out)`` along axis 0, by a stable
  argsort of each group of ``m`` rows.
"""

import numpy as np

from .._registry import register_kernel


@register_kernel("nm_mask", "numpy")
def nm_mask(W, n, m):
    """Keep the ``n`` largest ``|W|`` in every ``m`` consecutive rows of each column.

    ``W`` has shape ``(n_in, n_out)`` with ``n_in % m == 0``. Ties go to the lower
    row. Returns a bool array of the shape of ``W``.
    """
    n_in, n_out = W.shape
    g = np.abs(W).reshape(n_in // m, m, n_out)
    order = np.argsort(-g, axis=1, kind="stable")  # stable: equal magnitudes, lower row first
    keep = np.zeros(g.shape, dtype=bool)
    np.put_along_axis(keep, order[:, :n, :], True, axis=1)
    return keep.reshape(n_in, n_out)


def _dense_from_csr(indptr, indices, data, n_in, n_out, dtype):
    """The dense ``(n_in, n_out)`` matrix of CSR arrays (duplicates are summed)."""
    rows = np.repeat(np.arange(n_in), np.diff(indptr))
    W = np.zeros((n_in, n_out), dtype=dtype)
    np.add.at(W, (rows, indices), data)
    return W


def _act(z, activation):
    if activation == 1:
        return np.maximum(z, 0, out=z)
    if activation == 2:
        return np.tanh(z, out=z)
    if activation == 3:
        return np.divide(1, 1 + np.exp(-z), out=z)
    return z


@register_kernel("sparse_layer_forward", "numpy")
def sparse_layer_forward(X, indptr, indices, data, bias, relu):
    """``X @ W + bias`` (then ReLU) with the CSR ``W`` made dense: a BLAS oracle."""
    W = _dense_from_csr(indptr, indices, data, X.shape[1], bias.shape[0], X.dtype)
    out = X @ W + bias.astype(X.dtype)
    return _act(out, 1 if relu else 0)


@register_kernel("sparse_mlp_forward", "numpy")
def sparse_mlp_forward(X, dims, indptr, indices, data, bias, activation):
    """Forward pass of the packed sparse MLP, one dense product per layer."""
    h = X
    p0 = q0 = 0
    n_layers = len(dims) - 1
    for layer in range(n_layers):
        n_in, n_out = int(dims[layer]), int(dims[layer + 1])
        ptr = indptr[p0:p0 + n_in + 1]
        lo, hi = int(ptr[0]), int(ptr[-1])
        W = _dense_from_csr(ptr - lo, indices[lo:hi], data[lo:hi], n_in, n_out, X.dtype)
        h = h @ W + bias[q0:q0 + n_out].astype(X.dtype)
        if layer < n_layers - 1:
            h = _act(h, int(activation))
        p0 += n_in + 1
        q0 += n_out
    return h.astype(X.dtype, copy=False)


@register_kernel("masked_adam", "numpy")
def masked_adam(param, grad, mask, m, v, lr, beta1, beta2, eps, t):
    """One Adam step in place, vectorised; masked entries of param, m, v set to 0."""
    m *= beta1
    m += (1 - beta1) * grad
    v *= beta2
    v += (1 - beta2) * np.square(grad)
    rate = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    param -= rate * m / (np.sqrt(v) + eps)
    if mask is not None:
        off = ~mask
        param[off] = 0
        m[off] = 0
        v[off] = 0
