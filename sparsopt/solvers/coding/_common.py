"""Shared plumbing of the batched sparse-coding solvers.

Layout (scikit-learn's): ``X`` (n_samples, n_features), ``dictionary`` (n_components,
n_features) with atoms as rows, codes (n_samples, n_components), ``X ~ codes @
dictionary``. Every solver works on ``G = D D^T`` and ``B = X D^T`` only; the
per-sample objective is ``1/2 ||x - c D||^2 + pen(c)``.
"""

from __future__ import annotations

import numpy as np

from ...penalties import L1, get_penalty
from ...utils.validation import check_array


class CodingProblem:
    """Validated data of a batched sparse-coding call (G, B, squared norms, dtype)."""

    def __init__(self, X, dictionary, name, gram=None, cov=None):
        X = check_array(X, "X", name, ndim=2)
        D = check_array(dictionary, "dictionary", name, ndim=2)
        if X.shape[1] != D.shape[1]:
            raise ValueError(
                f"{name}: X has {X.shape[1]} features but dictionary has {D.shape[1]} columns "
                "(atoms are rows: dictionary must be (n_components, n_features))."
            )
        dtype = np.float32 if X.dtype == np.float32 else np.float64
        self.X = X.astype(dtype, copy=False)
        self.D = np.ascontiguousarray(D, dtype=dtype)
        if gram is None:
            gram = self.D @ self.D.T
        else:
            gram = check_array(gram, "gram", name, ndim=2)
            k = D.shape[0]
            if gram.shape != (k, k):
                raise ValueError(f"{name}: gram must have shape {(k, k)}, got {gram.shape}.")
        self.G = np.ascontiguousarray(gram, dtype=dtype)
        self.B = np.ascontiguousarray(self.X @ self.D.T if cov is None else cov, dtype=dtype)
        self.norms_sq = np.einsum("ij,ij->i", self.X, self.X, dtype=np.float64)
        self.dtype = dtype
        self.name = name

    @property
    def shape(self):
        return self.B.shape

    def lipschitz(self):
        """``||D||_2^2``, the Lipschitz constant of the batched gradient ``C G - B``."""
        return float(np.linalg.eigvalsh(self.G.astype(np.float64))[-1]) * (1.0 + 1e-6)

    def init_codes(self, codes0):
        if codes0 is None:
            return np.zeros(self.shape, dtype=self.dtype)
        c = check_array(codes0, "codes0", self.name, ndim=2).astype(self.dtype, copy=True)
        if c.shape != self.shape:
            raise ValueError(f"{self.name}: codes0 must have shape {self.shape}, got {c.shape}.")
        return np.ascontiguousarray(c)

    def objectives(self, C, penalty, quad=None, rows=None):
        """Per-sample objectives ``1/2 ||x - c D||^2 + pen(c)`` (float64).

        ``quad``: ``1/2 c G c - c . b`` per row when the kernel already has it (from its
        final ``q = b - c G``); ``rows``: the rows of the problem that ``C`` holds.
        """
        C64 = C.astype(np.float64, copy=False)
        norms_sq = self.norms_sq if rows is None else self.norms_sq[rows]
        if quad is None:
            B = self.B if rows is None else self.B[rows]
            quad = (0.5 * np.einsum("ij,ij->i", codes_gram(C64, self.G.astype(np.float64)), C64)
                    - np.einsum("ij,ij->i", C64, B.astype(np.float64)))
        fit = np.maximum(0.5 * norms_sq + quad, 0.0)
        return fit + penalty.value(C64, per_row=True, check_finite=False)


def codes_gram(C, G, density=0.1):
    """``C @ G`` using the sparsity of the codes when fewer than ``density`` are non-zero.

    Sparse-coding iterates are typically a few percent dense: a CSR product then costs
    ``nnz(C) * n_components`` instead of ``n_samples * n_components^2``.
    """
    nnz = np.count_nonzero(C)
    if nnz >= density * C.size:
        return C @ G
    import scipy.sparse as sp

    return np.asarray(sp.csr_matrix(C) @ G)


def make_penalty(penalty, alpha, name):
    """Penalty object from a name or instance (``None`` means L1)."""
    if penalty is None:
        return L1(alpha)
    return get_penalty(penalty, alpha=alpha)


def rel_change(C_new, C_old):
    """Max over rows of ``||c_new - c_old||_inf / max(||c_new||_inf, tiny)``."""
    num = np.max(np.abs(C_new - C_old), axis=1)
    den = np.maximum(np.max(np.abs(C_new), axis=1), np.finfo(np.float64).tiny)
    return float(np.max(num / den)) if num.size else 0.0
