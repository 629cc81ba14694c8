"""Checks shared by the completion solvers: the observed matrix and the rank."""

from __future__ import annotations

import numbers

import numpy as np

from ..utils.validation import FLOAT_DTYPES
from ._pattern import ObservedPattern


def _list(idx, limit=10):
    head = ", ".join(str(int(i)) for i in idx[:limit])
    return head + (f", ... ({idx.size} in all)" if idx.size > limit else "")


def check_observed(X, owner, name="X_observed"):
    """The :class:`ObservedPattern` of ``X``: a SciPy sparse matrix (stored entries are
    the observations, explicit zeros included) or a dense 2-D array with NaN for missing.

    Refuses: non-2-D input, non-numeric dtypes, infinite observed values (NaN in a sparse
    matrix), no observed entry, and rows or columns without any observed entry.
    """
    import scipy.sparse as sp

    if sp.issparse(X):
        if X.ndim != 2:
            raise ValueError(f"{owner}: {name} must be 2-D, got shape {X.shape}.")
        if X.format == "csr" and X.has_canonical_format:  # sorted, no duplicates
            rows = np.repeat(np.arange(X.shape[0], dtype=np.int32), np.diff(X.indptr))
            cols, vals = X.indices, X.data
        else:
            coo = sp.coo_array(X)
            coo.sum_duplicates()  # keeps explicit zeros
            # SciPy < 1.11 leaves the entries in column-major order: sort by row, then column
            order = np.lexsort((coo.col, coo.row))
            rows, cols, vals = coo.row[order], coo.col[order], coo.data[order]
        if vals.dtype.kind not in "fiub":
            raise TypeError(f"{owner}: {name} must be real, got dtype {vals.dtype}.")
        if not np.all(np.isfinite(vals)):
            raise ValueError(
                f"{owner}: {name} has NaN or infinite stored values. In a sparse {name} "
                "the stored entries are the observations: store only observed, finite "
                "values (or pass a dense array with NaN for the missing entries).")
        shape = X.shape
    else:
        try:
            arr = np.asarray(X)
        except Exception as exc:
            raise TypeError(f"{owner}: {name} could not be converted to an array: "
                            f"{exc}") from exc
        if arr.dtype == object or arr.dtype.kind not in "fiub":
            raise TypeError(f"{owner}: {name} must be a real numeric array (NaN for missing "
                            f"entries), got dtype {arr.dtype}.")
        if arr.ndim != 2:
            raise ValueError(f"{owner}: {name} must be 2-D, got shape {arr.shape}.")
        if arr.size == 0:
            raise ValueError(f"{owner}: {name} is empty (shape {arr.shape}).")
        if np.isinf(arr).any() if arr.dtype.kind == "f" else False:
            raise ValueError(f"{owner}: {name} has infinite values; observed entries must be "
                             "finite (NaN marks a missing entry).")
        observed = ~np.isnan(arr) if arr.dtype.kind == "f" else np.ones(arr.shape, bool)
        rows, cols = np.nonzero(observed)
        vals = arr[rows, cols]
        shape = arr.shape
    if vals.dtype not in FLOAT_DTYPES:
        vals = vals.astype(np.float64)
    m, n = shape
    if m == 0 or n == 0:
        raise ValueError(f"{owner}: {name} is empty (shape {shape}).")
    if vals.size == 0:
        raise ValueError(f"{owner}: {name} has no observed entries: there is nothing to "
                         "complete from.")
    pat = ObservedPattern(rows, cols, np.ascontiguousarray(vals), shape)
    for what, counts in (("rows", pat.row_counts), ("columns", pat.col_counts)):
        empty = np.flatnonzero(counts == 0)
        if empty.size:
            raise ValueError(
                f"{owner}: {name} has {what} without any observed entry ({what} "
                f"{_list(empty)}); an entirely missing {what[:-1]} cannot be completed. "
                f"Drop these {what} or observe at least one entry in each.")
    return pat


def check_rank(rank, shape, owner):
    """``rank`` as an int with ``1 <= rank < min(m, n)``."""
    if isinstance(rank, bool) or not isinstance(rank, numbers.Integral):
        raise TypeError(f"{owner}: rank must be an integer, got {rank!r}.")
    rank = int(rank)
    m, n = shape
    if rank < 1:
        raise ValueError(f"{owner}: rank must be >= 1, got {rank}.")
    if rank >= min(m, n):
        raise ValueError(
            f"{owner}: rank={rank} must be smaller than min(n_rows, n_cols) = {min(m, n)} "
            f"(n_samples = {m}, n_features = {n}); a rank that large leaves the missing "
            "entries undetermined. Choose a smaller rank.")
    return rank


def underdetermined(pattern, rank):
    """Rows and columns with fewer observed entries than ``rank``."""
    return (np.flatnonzero(pattern.row_counts < rank),
            np.flatnonzero(pattern.col_counts < rank))
