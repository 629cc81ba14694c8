"""Inference through compressed sparse layers (the packed network of the kernels)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..backends import dispatch
from ..utils.parallel import sync_numba_threads
from ._criteria import _check_layers, _check_like

ACTIVATIONS = {"identity": 0, "relu": 1, "tanh": 2, "logistic": 3}


class SparseNetwork(NamedTuple):
    """A multi-layer perceptron with CSR layers packed into flat arrays.

    Layer ``l`` has shape ``(dims[l], dims[l + 1])``; its ``dims[l] + 1`` CSR row
    pointers follow those of the layers before it in ``indptr`` and point (absolute
    positions) into ``indices`` (output columns) and ``data`` (weights); its biases
    follow in ``bias``. Built by :func:`to_sparse_network`, used by
    :func:`sparse_network_forward` (the ``sparse_mlp_forward`` kernel).

    Attributes
    ----------
    dims : ndarray of int64 of shape (n_layers + 1,)
    indptr : ndarray of int64 of shape (sum(dims[:-1]) + n_layers,)
    indices : ndarray of int64 of shape (nnz,)
    data : ndarray of shape (nnz,)
    bias : ndarray of shape (sum(dims[1:]),)

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.pruning import to_sparse_network
    >>> net = to_sparse_network([np.array([[0.0, 2.0], [3.0, 0.0]])], [np.ones(2)])
    >>> net.indptr.tolist(), net.indices.tolist(), net.data.tolist()
    ([0, 1, 2], [1, 0], [2.0, 3.0])
    >>> [a.tolist() for a in net.layer(0)]
    [[0, 1, 2], [1, 0], [2.0, 3.0], [1.0, 1.0]]
    """

    dims: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    bias: np.ndarray

    @property
    def nnz(self):
        """Number of stored weights."""
        return int(self.data.shape[0])

    def layer(self, i):
        """CSR arrays ``(indptr, indices, data, bias)`` of layer ``i`` (relative
        ``indptr``), the arguments of the ``sparse_layer_forward`` kernel."""
        dims = self.dims
        if not 0 <= i < len(dims) - 1:
            raise IndexError(f"layer index {i} out of range for {len(dims) - 1} layers.")
        p0 = int(np.sum(dims[:i]) + i)
        q0 = int(np.sum(dims[1:i + 1]))
        ptr = self.indptr[p0:p0 + dims[i] + 1]
        lo, hi = int(ptr[0]), int(ptr[-1])
        return (ptr - lo, self.indices[lo:hi], self.data[lo:hi],
                self.bias[q0:q0 + dims[i + 1]])


def to_sparse_network(coefs, intercepts, masks=None, dtype=None):
    """Pack the layers of an MLP into compressed sparse rows.

    Parameters
    ----------
    coefs : list of ndarray of shape (n_in, n_out)
        Layer weights (scikit-learn's ``coefs_``); zeros (or entries outside
        ``masks``) are not stored.
    intercepts : list of ndarray of shape (n_out,)
        Biases (scikit-learn's ``intercepts_``).
    masks : list of ndarray of bool or None, default=None
        Keep only these entries (True = kept).
    dtype : {np.float32, np.float64} or None, default=None
        dtype of the weights; None: that of ``coefs[0]`` (float32 stays float32,
        other types become float64).

    Returns
    -------
    network : SparseNetwork

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.pruning import to_sparse_network
    >>> net = to_sparse_network([np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([[3.0], [0.0]])],
    ...                         [np.zeros(2), np.zeros(1)])
    >>> net.dims.tolist(), net.nnz
    ([2, 2, 1], 3)
    """
    owner = "to_sparse_network"
    coefs = _check_layers(coefs, owner)
    masks = _check_like(masks, coefs, "masks", owner, as_bool=True)
    if len(intercepts) != len(coefs):
        raise ValueError(f"{owner}: intercepts must have one array per layer ({len(coefs)}), "
                         f"got {len(intercepts)}.")
    if dtype is None:
        dtype = np.float32 if coefs[0].dtype == np.float32 else np.float64
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"{owner}: dtype must be float32 or float64, got {dtype}.")
    dims = [coefs[0].shape[0]]
    ptrs, idx, vals, biases = [], [], [], []
    offset = 0
    for i, w in enumerate(coefs):
        if w.shape[0] != dims[-1]:
            raise ValueError(f"{owner}: coefs[{i}] has {w.shape[0]} rows but the previous layer "
                             f"has {dims[-1]} outputs.")
        b = np.asarray(intercepts[i])
        if b.shape != (w.shape[1],):
            raise ValueError(f"{owner}: intercepts[{i}] must have shape ({w.shape[1]},), "
                             f"got {b.shape}.")
        if not np.isfinite(b).all():
            raise ValueError(f"{owner}: intercepts[{i}] contains NaN or infinity.")
        keep = w != 0
        if masks is not None:
            keep &= masks[i]
        rows, cols = np.nonzero(keep)  # row-major order: CSR with sorted columns
        counts = np.bincount(rows, minlength=w.shape[0])
        ptrs.append(offset + np.concatenate([[0], np.cumsum(counts)]))
        idx.append(cols)
        vals.append(w[rows, cols])
        biases.append(b)
        offset += rows.size
        dims.append(w.shape[1])
    return SparseNetwork(
        dims=np.asarray(dims, dtype=np.int64),
        indptr=np.concatenate(ptrs).astype(np.int64),
        indices=np.concatenate(idx).astype(np.int64),
        data=np.concatenate(vals).astype(dtype),
        bias=np.concatenate(biases).astype(dtype),
    )


def sparse_network_forward(X, network, activation="relu", engine=None):
    """Forward pass of a :class:`SparseNetwork` (output layer before its activation).

    The fused kernel keeps each block of samples' hidden activations in cache: no
    hidden layer is written to memory.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Input; computed in the network's dtype.
    network : SparseNetwork
        From :func:`to_sparse_network`.
    activation : {"relu", "identity", "tanh", "logistic"}, default="relu"
        Activation of the hidden layers.
    engine : {"numpy", "numba"} or None, default=None
        Kernel backend (None: the configuration).

    Returns
    -------
    out : ndarray of shape (n_samples, n_outputs)
        The last layer's pre-activation (apply softmax / logistic yourself).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.pruning import to_sparse_network, sparse_network_forward
    >>> coefs = [np.array([[1.0, -1.0]]), np.array([[2.0], [3.0]])]
    >>> net = to_sparse_network(coefs, [np.zeros(2), np.array([0.5])])
    >>> sparse_network_forward(np.array([[1.0], [-1.0]]), net)
    array([[2.5],
           [3.5]])
    """
    owner = "sparse_network_forward"
    if not isinstance(network, SparseNetwork):
        raise TypeError(f"{owner}: network must be a SparseNetwork (see to_sparse_network).")
    if activation not in ACTIVATIONS:
        raise ValueError(f"{owner}: activation must be one of {sorted(ACTIVATIONS)}, "
                         f"got {activation!r}.")
    X = np.ascontiguousarray(X, dtype=network.data.dtype)
    if X.ndim != 2 or X.shape[1] != network.dims[0]:
        raise ValueError(f"{owner}: X must have shape (n_samples, {int(network.dims[0])}), "
                         f"got {X.shape}.")
    if not np.isfinite(X).all():
        raise ValueError(f"{owner}: X contains NaN or infinity.")
    sync_numba_threads()  # a prange kernel: follow the thread cap (Dask worker plugin)
    return dispatch("sparse_mlp_forward", X, network.dims, network.indptr, network.indices,
                    network.data, network.bias, ACTIVATIONS[activation], engine=engine)
