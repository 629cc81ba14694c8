"""Numba kernels of the pruning family (``sparsopt.pruning``).

* ``nm_mask``: the N:M mask of a layer ``(n_in, n_out)`` along axis 0: a weight is kept
  when fewer than ``n`` weights of its group of ``m`` rows beat it (larger magnitude,
  or equal magnitude and a lower row).
* ``sparse_layer_forward``: ``X @ W + bias`` (optional ReLU) with ``W`` of shape
  ``(n_in, n_out)`` stored as CSR (``indptr`` of length ``n_in + 1``).
* ``sparse_mlp_forward``: the whole forward pass of a sparse MLP, layers packed one
  after the other (see :func:`sparsopt.pruning.to_sparse_network`).
* ``masked_adam``: one Adam step in place, masked entries (and their moments) held at 0.

Sparse products work on blocks of ``_BLOCK`` samples in parallel (``prange``): a block
of ``X`` is transposed into a ``(n_in, _BLOCK)`` buffer, so that every stored weight
``W[r, j]`` updates a contiguous row ``acc[j, :] += W[r, j] * xt[r, :]`` of the
``(n_out, _BLOCK)`` accumulator (a SIMD loop that reuses one index load for the whole
block), and the block's result is written back transposed. The fused network kernel
keeps the hidden activations of a block in two such buffers, so no hidden layer is
ever written to memory. Per sample rows (scatter ``out[i, j] += x[i, r] * W[r, j]``) or
columns (gather ``sum_k W[r_k, j] * x[i, r_k]``) were 4-6x slower on 784-1024-1024-10
at 2 % density.
"""

import numpy as np
from numba import njit, prange

from ...utils.parallel import prange_ok
from .._registry import register_kernel

_opts = dict(cache=True, nogil=True)
# "contract" only: lets LLVM fuse a * b + c into one FMA (no reassociation, NaN-safe)
_par = dict(cache=True, nogil=True, parallel=True, fastmath={"contract"})
# not cached: Numba keys its cache on the function's code, not on ``parallel``, so a
# cached serial twin of a parallel kernel could load the parallel machine code
_serial = dict(nogil=True, fastmath={"contract"})
_BLOCK = 64  # samples per block: measured best of 16/32/64/128 (64 and 128 tie)

ACT_IDENTITY, ACT_RELU, ACT_TANH, ACT_LOGISTIC = 0, 1, 2, 3


@register_kernel("nm_mask", "numba")
@njit(**_opts)
def nm_mask(W, n, m):
    """Keep the ``n`` largest ``|W|`` in every ``m`` consecutive rows of each column
    (ties: the lower row). ``W`` is ``(n_in, n_out)`` with ``n_in % m == 0``."""
    n_in, n_out = W.shape
    keep = np.zeros((n_in, n_out), dtype=np.bool_)
    for g0 in range(0, n_in, m):
        for j in range(n_out):
            for a in range(g0, g0 + m):
                wa = abs(W[a, j])
                rank = 0
                for b in range(g0, g0 + m):
                    wb = abs(W[b, j])
                    if wb > wa or (wb == wa and b < a):
                        rank += 1
                keep[a, j] = rank < n
    return keep


@njit(**_opts)
def _load_block(X, b0, nbk, xt):
    """``xt[:, :nbk] = X[b0:b0 + nbk].T`` (rows of ``xt`` past ``nbk`` columns untouched)."""
    for r in range(X.shape[1]):
        for b in range(nbk):
            xt[r, b] = X[b0 + b, r]


@njit(**_opts)
def _csr_block(xt, indptr, indices, data, bias, n_in, n_out, p0, q0, acc):
    """``acc[:n_out] = W.T @ xt[:n_in] + bias`` for one block; ``W`` is the CSR layer
    whose row pointers start at ``indptr[p0]`` and whose biases start at ``bias[q0]``."""
    B = acc.shape[1]
    for j in range(n_out):
        bj = bias[q0 + j]
        for b in range(B):
            acc[j, b] = bj
    for r in range(n_in):
        for k in range(indptr[p0 + r], indptr[p0 + r + 1]):
            w = data[k]
            j = indices[k]
            for b in range(B):
                acc[j, b] += w * xt[r, b]


@njit(**_opts)
def _activate(acc, n_rows, act):
    B = acc.shape[1]
    if act == ACT_RELU:
        for j in range(n_rows):
            for b in range(B):
                if acc[j, b] < 0:
                    acc[j, b] = 0
    elif act == ACT_TANH:
        for j in range(n_rows):
            for b in range(B):
                acc[j, b] = np.tanh(acc[j, b])
    elif act == ACT_LOGISTIC:
        for j in range(n_rows):
            for b in range(B):
                acc[j, b] = 1.0 / (1.0 + np.exp(-acc[j, b]))


@njit(**_opts)
def _store_block(acc, n_out, out, b0, nbk):
    for b in range(nbk):
        for j in range(n_out):
            out[b0 + b, j] = acc[j, b]


@njit(**_par)
def _sparse_layer_forward(X, indptr, indices, data, bias, relu):
    """``X @ W + bias`` (then ``max(., 0)`` if ``relu``) for a CSR layer ``W``.

    ``X`` is ``(n_samples, n_in)`` C-contiguous; ``(indptr, indices, data)`` is the
    CSR of ``W`` of shape ``(n_in, n_out)`` (``indptr`` of length ``n_in + 1``),
    ``bias`` of shape ``(n_out,)``. Returns a new ``(n_samples, n_out)`` array of
    ``X``'s dtype. Parallel over blocks of samples.
    """
    n, n_in = X.shape
    n_out = bias.shape[0]
    out = np.empty((n, n_out), dtype=X.dtype)
    nb = (n + _BLOCK - 1) // _BLOCK
    act = ACT_RELU if relu else ACT_IDENTITY
    for blk in prange(nb):
        b0 = blk * _BLOCK
        nbk = min(n, b0 + _BLOCK) - b0
        xt = np.zeros((n_in, _BLOCK), dtype=X.dtype)
        acc = np.empty((n_out, _BLOCK), dtype=X.dtype)
        _load_block(X, b0, nbk, xt)
        _csr_block(xt, indptr, indices, data, bias, n_in, n_out, 0, 0, acc)
        _activate(acc, n_out, act)
        _store_block(acc, n_out, out, b0, nbk)
    return out


@njit(**_par)
def _sparse_mlp_forward(X, dims, indptr, indices, data, bias, activation):
    """Forward pass of a sparse MLP; returns the output layer before its activation.

    ``dims`` (int64) holds ``(n_in, n_1, ..., n_out)``. Layer ``l`` (shape
    ``(dims[l], dims[l + 1])``) is CSR: its ``dims[l] + 1`` row pointers follow those
    of the previous layers in ``indptr`` and point into the shared ``indices``/``data``
    (absolute positions); its biases follow in ``bias``. ``activation`` is applied to
    the hidden layers: 0 identity, 1 ReLU, 2 tanh, 3 logistic.
    """
    n = X.shape[0]
    n_layers = dims.shape[0] - 1
    n_out = dims[n_layers]
    width = 0
    for l in range(n_layers + 1):
        width = max(width, dims[l])
    out = np.empty((n, n_out), dtype=X.dtype)
    nb = (n + _BLOCK - 1) // _BLOCK
    for blk in prange(nb):
        b0 = blk * _BLOCK
        nbk = min(n, b0 + _BLOCK) - b0
        h = np.zeros((width, _BLOCK), dtype=X.dtype)
        g = np.zeros((width, _BLOCK), dtype=X.dtype)
        _load_block(X, b0, nbk, h)
        p0 = 0
        q0 = 0
        for l in range(n_layers):
            _csr_block(h, indptr, indices, data, bias, dims[l], dims[l + 1], p0, q0, g)
            if l < n_layers - 1:
                _activate(g, dims[l + 1], activation)
            p0 += dims[l] + 1
            q0 += dims[l + 1]
            h, g = g, h
        _store_block(h, n_out, out, b0, nbk)
    return out


# the same kernels compiled without ``parallel`` (``prange`` is then ``range``), for a
# process where a parallel region must not start: forked after Numba's GNU OpenMP
# threads had started, which would terminate it
_sparse_layer_forward_serial = njit(**_serial)(_sparse_layer_forward.py_func)
_sparse_mlp_forward_serial = njit(**_serial)(_sparse_mlp_forward.py_func)


@register_kernel("sparse_layer_forward", "numba")
def sparse_layer_forward(X, indptr, indices, data, bias, relu):
    """:func:`_sparse_layer_forward` on Numba's threads, or on this one where they must
    not run (:func:`~sparsopt.utils.parallel.prange_ok`)."""
    kernel = _sparse_layer_forward if prange_ok() else _sparse_layer_forward_serial
    return kernel(X, indptr, indices, data, bias, relu)


@register_kernel("sparse_mlp_forward", "numba")
def sparse_mlp_forward(X, dims, indptr, indices, data, bias, activation):
    """:func:`_sparse_mlp_forward` on Numba's threads, or on this one where they must
    not run (:func:`~sparsopt.utils.parallel.prange_ok`)."""
    kernel = _sparse_mlp_forward if prange_ok() else _sparse_mlp_forward_serial
    return kernel(X, dims, indptr, indices, data, bias, activation)


@register_kernel("masked_adam", "numba")
@njit(**_opts)
def masked_adam(param, grad, mask, m, v, lr, beta1, beta2, eps, t):
    """One Adam step in place on C-contiguous arrays of one shape (scikit-learn's form).

    ``m = beta1 m + (1 - beta1) g``, ``v = beta2 v + (1 - beta2) g^2``,
    ``param -= lr sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps)``, where
    ``mask`` (bool, or None for no mask) is True; elsewhere ``param``, ``m`` and ``v``
    are set to exactly 0. ``t >= 1`` is the step number.
    """
    p = param.reshape(-1)
    g = grad.reshape(-1)
    mm = m.reshape(-1)
    vv = v.reshape(-1)
    step = lr * np.sqrt(1.0 - beta2 ** t) / (1.0 - beta1 ** t)
    if mask is None:
        for i in range(p.shape[0]):
            gi = g[i]
            mm[i] = beta1 * mm[i] + (1.0 - beta1) * gi
            vv[i] = beta2 * vv[i] + (1.0 - beta2) * gi * gi
            p[i] -= step * mm[i] / (np.sqrt(vv[i]) + eps)
    else:
        mk = mask.reshape(-1)
        for i in range(p.shape[0]):
            if mk[i]:
                gi = g[i]
                mm[i] = beta1 * mm[i] + (1.0 - beta1) * gi
                vv[i] = beta2 * vv[i] + (1.0 - beta2) * gi * gi
                p[i] -= step * mm[i] / (np.sqrt(vv[i]) + eps)
            else:
                p[i] = 0.0
                mm[i] = 0.0
                vv[i] = 0.0
