"""The observed entries of a partially observed matrix, by rows and by columns.

:class:`ObservedPattern` holds ``Omega`` twice: compressed by rows (CSR: ``indptr``,
``indices``, ``data``) and by columns (CSC), plus the permutation from the row order to
the column order. Memory is ``O(|Omega|)``; the dense matrix is never formed. Observed
zeros are observations (kept explicitly).
"""

from __future__ import annotations

import numpy as np

from ..utils.parallel import map_row_blocks


def _compress(major, minor, data, n_major):
    """CSR-like arrays of entries already sorted by ``major`` (then ``minor``)."""
    counts = np.bincount(major, minlength=n_major)
    indptr = np.zeros(n_major + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return indptr, np.ascontiguousarray(minor, dtype=np.int32), np.ascontiguousarray(data)


class ObservedPattern:
    """Observed entries ``(rows, cols, values)`` of an ``(m, n)`` matrix, in both orders.

    Parameters
    ----------
    rows, cols : ndarray of int
        Coordinates, sorted by row then column, without duplicates.
    values : ndarray of float32 or float64
        Observed values.
    shape : tuple of int
    """

    def __init__(self, rows, cols, values, shape):
        self.shape = (int(shape[0]), int(shape[1]))
        m, n = self.shape
        self.dtype = values.dtype
        self.nnz = int(values.size)
        self.row_ptr, self.row_ind, self.row_data = _compress(rows, cols, values, m)
        self.perm = np.argsort(cols, kind="stable")  # row order -> column order
        self.col_ptr, self.col_ind, self.col_data = _compress(
            cols[self.perm], rows[self.perm], values[self.perm], n)
        self.row_counts = np.diff(self.row_ptr)
        self.col_counts = np.diff(self.col_ptr)

    @property
    def density(self):
        """``|Omega| / (m n)``."""
        return self.nnz / (self.shape[0] * self.shape[1])

    def rows(self):
        """Row index of every entry, in row order."""
        return np.repeat(np.arange(self.shape[0], dtype=np.int32), self.row_counts)

    def subset(self, mask):
        """The pattern of the entries where ``mask`` (in row order) is True."""
        rows = self.rows()[mask]
        return ObservedPattern(rows, self.row_ind[mask], self.row_data[mask], self.shape)

    def astype(self, dtype):
        """The same pattern with the data in ``dtype`` (shares the index arrays)."""
        dtype = np.dtype(dtype)
        if dtype == self.dtype:
            return self
        out = object.__new__(ObservedPattern)
        out.__dict__.update(self.__dict__)
        out.dtype = dtype
        out.row_data = self.row_data.astype(dtype)
        out.col_data = self.col_data.astype(dtype)
        return out

    def to_csr(self, values=None):
        """A SciPy CSR array of the pattern with ``values`` (row order) or the data."""
        import scipy.sparse as sp

        data = self.row_data if values is None else values
        return sp.csr_array((data, self.row_ind, self.row_ptr), shape=self.shape)

    def to_csc(self, values=None):
        """A SciPy CSC array of the pattern with ``values`` (row order) or the data."""
        import scipy.sparse as sp

        data = self.col_data if values is None else values[self.perm]
        return sp.csc_array((data, self.col_ind, self.col_ptr), shape=self.shape)


def solve_rows(kernel, indptr, indices, data, F, out, args, n_jobs):
    """Run a row-solve kernel over row blocks (threads when ``n_jobs > 1``)."""
    def block(a, b):
        kernel(indptr[a:b + 1], indices, data, F, *args, out[a:b])

    map_row_blocks(block, indptr.size - 1, n_jobs)
    return out


def residual(kernel, pattern, U, V, out, n_jobs):
    """``out = P_Omega(M - U V^T)`` in row order; returns ``||out||^2`` (float64)."""
    ptr, ind, data = pattern.row_ptr, pattern.row_ind, pattern.row_data

    def block(a, b):
        return float(kernel(ptr[a:b + 1], ind, data, U[a:b], V, out))

    return sum(map_row_blocks(block, pattern.shape[0], n_jobs))
