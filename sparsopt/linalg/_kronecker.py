"""Kronecker-structured linear operators, applied by mode products.

``A = A_1 ⊗ A_2 ⊗ ... ⊗ A_I`` (``A_i`` of shape ``(m_i, n_i)``) acts on a vector ``x`` of
length ``N = n_1 n_2 ... n_I`` through the C-order tensor view ``x.reshape(n_1, ..., n_I)``
(first factor slowest, the index convention of ``numpy.kron``): mode ``i`` is multiplied by
``A_i`` and the result is flattened back. A matvec then costs
``O(N Σ_i m_i)``-ish instead of ``O(M N)``, and ``A`` is never formed.
"""

from __future__ import annotations

import math
from functools import reduce

import numpy as np
from scipy.sparse.linalg import LinearOperator

from ..backends import non_numpy_namespace, require_host


def kron_apply(factors, x):
    """Apply the Kronecker product of ``factors`` to ``x`` by mode products, without forming it.

    Parameters
    ----------
    factors : sequence of ndarray, each of shape (m_i, n_i)
    x : ndarray of shape (n_1 ... n_I,) or (n_1 ... n_I, n_columns)

    Returns
    -------
    y : ndarray of shape (m_1 ... m_I,) or (m_1 ... m_I, n_columns)
        An array of ``x``'s namespace: CuPy (or other array-API) factors and ``x`` are
        multiplied there.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.linalg import kron_apply
    >>> A1, A2 = np.arange(6.0).reshape(2, 3), np.eye(2)
    >>> x = np.arange(6.0)
    >>> np.allclose(kron_apply([A1, A2], x), np.kron(A1, A2) @ x)
    True
    """
    xp = None if isinstance(x, np.ndarray) else non_numpy_namespace(*factors, x)
    if xp is None:  # NumPy: the reshape method, a few times faster than np.reshape here
        return _mode_products(factors, np.asarray(x), np.ndarray.reshape)
    return _mode_products(factors, x, xp.reshape)  # CuPy, array_api_strict ...: the same


def _mode_products(factors, x, reshape):
    """The mode products of :func:`kron_apply` with ``reshape(a, shape)`` of ``x``'s
    namespace (any namespace: only ``@``, ``.T`` of 2-D factors and ``reshape``)."""
    tail = tuple(x.shape[1:])
    dims = [f.shape[1] for f in factors]
    L = math.prod(tail)
    T = x
    for i, f in enumerate(factors):
        # mode i of the C-order tensor (a, n_i, b): one GEMM when a or b is 1, else a
        # batched matmul; no transposes are materialised
        a = math.prod(dims[:i])
        b = math.prod(dims[i + 1:]) * L
        if b == 1:
            T = reshape(T, (a, dims[i])) @ f.T
        elif a == 1:
            T = f @ reshape(T, (dims[i], b))
        else:
            T = f @ reshape(T, (a, dims[i], b))
        dims[i] = f.shape[0]
    return reshape(T, (-1,) + tail)


class KroneckerOperator(LinearOperator):
    """The Kronecker product of factor matrices as a SciPy ``LinearOperator``.

    ``A = A_1 ⊗ A_2 ⊗ … ⊗ A_I``.

    ``matvec``/``rmatvec``/``matmat`` apply the factors mode by mode (C-order tensor view
    of the vector, first factor slowest, as :func:`numpy.kron`); the full matrix is only
    formed by :meth:`todense`.

    Parameters
    ----------
    factors : sequence of array-like, each of shape (m_i, n_i)
        Real or complex 2-D factor matrices (at least one).

    Attributes
    ----------
    factors : tuple of ndarray
        The factors, as contiguous arrays of the common ``dtype``.
    shape : tuple of int
        ``(m_1 ... m_I, n_1 ... n_I)``.
    dtype : numpy.dtype
        Result type of the factors (float32, float64, complex64 or complex128).
    factor_shapes : tuple of (int, int)

    Notes
    -----
    A SciPy ``LinearOperator``: NumPy factors only (array-API arrays raise ``TypeError``;
    pass such factors as a list to :func:`kron_apply` or
    :func:`~sparsopt.solvers.kronecker_sbl` instead).

    See Also
    --------
    sparsopt.linear_model.KroneckerSBL : sparse Bayesian learning on such operators.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.linalg import KroneckerOperator
    >>> rng = np.random.default_rng(0)
    >>> op = KroneckerOperator([rng.standard_normal((3, 4)), rng.standard_normal((2, 5))])
    >>> op.shape
    (6, 20)
    >>> x = rng.standard_normal(20)
    >>> bool(np.allclose(op @ x, op.todense() @ x))
    True
    """

    def __init__(self, factors):
        if isinstance(factors, np.ndarray) and factors.ndim == 2:
            factors = [factors]
        elif not isinstance(factors, np.ndarray) and getattr(factors, "ndim", None) == 2:
            factors = [factors]  # one non-NumPy 2-D array (refused below)
        try:
            factors = list(factors)
        except TypeError:
            raise TypeError(
                "KroneckerOperator: factors must be a sequence of 2-D arrays, got "
                f"{type(factors).__name__}."
            ) from None
        if not factors:
            raise ValueError("KroneckerOperator: factors must hold at least one matrix.")
        require_host("KroneckerOperator", factors, reason="a SciPy LinearOperator")
        arrs = []
        for i, f in enumerate(factors):
            a = np.asarray(f)
            if a.ndim != 2 or 0 in a.shape:
                raise ValueError(
                    f"KroneckerOperator: factor {i} must be a non-empty 2-D array, got "
                    f"shape {a.shape}."
                )
            if not (np.issubdtype(a.dtype, np.number) and not np.issubdtype(a.dtype, np.bool_)):
                raise TypeError(f"KroneckerOperator: factor {i} is not numeric ({a.dtype}).")
            arrs.append(a)
        dtype = np.result_type(*[a.dtype for a in arrs])
        if not np.issubdtype(dtype, np.inexact):
            dtype = np.dtype(np.float64)
        self.factors = tuple(np.ascontiguousarray(a, dtype=dtype) for a in arrs)
        m = int(np.prod([a.shape[0] for a in arrs]))
        n = int(np.prod([a.shape[1] for a in arrs]))
        super().__init__(dtype=dtype, shape=(m, n))

    @property
    def factor_shapes(self):
        return tuple(f.shape for f in self.factors)

    @property
    def n_factors(self):
        return len(self.factors)

    def _matvec(self, x):
        return kron_apply(self.factors, np.asarray(x).reshape(-1))

    def _matmat(self, X):
        return kron_apply(self.factors, np.asarray(X))

    def _rmatvec(self, y):
        return kron_apply([f.conj().T for f in self.factors], np.asarray(y).reshape(-1))

    def _rmatmat(self, Y):
        return kron_apply([f.conj().T for f in self.factors], np.asarray(Y))

    def _adjoint(self):
        return KroneckerOperator([f.conj().T for f in self.factors])

    def _transpose(self):
        return KroneckerOperator([f.T for f in self.factors])

    def todense(self):
        """The full ``(M, N)`` matrix ``np.kron(A_1, np.kron(A_2, ...))``."""
        return reduce(np.kron, self.factors)

    def toarray(self):
        """Alias of :meth:`todense` (an ndarray)."""
        return self.todense()

    def __repr__(self):
        shapes = " ⊗ ".join(f"{m}x{n}" for m, n in self.factor_shapes)
        return f"<KroneckerOperator {self.shape[0]}x{self.shape[1]} = {shapes}, dtype={self.dtype}>"
