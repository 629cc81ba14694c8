"""NumPy references:
Block coordinate descent with greedy rules (solver ``sparsopt.solvers.blockcd.engine``).

* ``bcd_nnqp``: exact solution of a small non-negative quadratic program
  ``min_{z >= 0} 1/2 z^T Q z + c^T z`` (``Q`` positive definite) by the primal
  active-set method of Lawson and Hanson written for a quadratic instead of a
  least-squares objective. It is the block solve of the projected-Newton and
  matrix updates with ``x >= 0`` or l1 penalties.
* ``bcd_csc_cols_axpy``: ``out += A[:, cols] @ d`` for a CSC matrix given by its
  ``indptr``, ``indices`` and ``data`` (residual / gradient maintenance).
* ``bcd_csc_gather``: the dense block ``A[:, cols]`` of a CSC matrix (block Hessians).
* ``bcd_csc_cols_rows``: the rows touched by ``A[:, cols]`` and their values of
  ``A[:, cols] @ D`` (incremental margins, sparse in the rows).
* ``bcd_csc_block_grams``: the Gram matrices ``A_b^T A_b`` of all blocks of a fixed
  partition (block Lipschitz constants and matrix bounds).
* ``bcd_csr_rows_tmatvec``: ``out += A[rows, :]^T @ vals`` for ``A`` in CSR form
  (incremental gradients: only the touched rows).

CSC indices must be sorted without duplicates (``sort_indices``; the solver does it).
"""

import numpy as np

from .._registry import register_kernel


@register_kernel("bcd_nnqp", "numpy")
def bcd_nnqp(Q, c, z, max_iter, tol):
    """Solve ``min_{z >= 0} 1/2 z^T Q z + c^T z`` in place in ``z``; return the iterations.

    Parameters
    ----------
    Q : ndarray of shape (m, m), float64
        Symmetric positive definite matrix.
    c : ndarray of shape (m,), float64
        Linear term.
    z : ndarray of shape (m,), float64
        Output (overwritten; the method starts from ``z = 0``).
    max_iter : int
        Cap on the number of inner (linear-solve) iterations.
    tol : float
        A coordinate enters the passive set only if ``-(Q z + c)_j > tol``.

    Returns
    -------
    n_iter : int
        Linear solves performed (``max_iter`` means the cap was hit).
    """
    m = c.shape[0]
    z[:] = 0.0
    passive = np.zeros(m, dtype=bool)
    it = 0
    while it < max_iter:
        w = -(Q @ z + c)
        w_masked = np.where(passive, -np.inf, w)
        j = int(np.argmax(w_masked)) if m else 0
        if m == 0 or w_masked[j] <= tol:
            break
        passive[j] = True
        while it < max_iter:
            it += 1
            idx = np.flatnonzero(passive)
            sol = np.linalg.solve(Q[np.ix_(idx, idx)], -c[idx])
            if np.all(sol > 0.0):
                z[:] = 0.0
                z[idx] = sol
                break
            zi = z[idx]
            neg = sol <= 0.0
            den = zi[neg] - sol[neg]
            alpha = np.min(np.where(den > 0.0, zi[neg] / np.where(den > 0.0, den, 1.0), 0.0))
            z[idx] = zi + alpha * (sol - zi)
            drop = idx[z[idx] <= 0.0]
            z[drop] = 0.0
            passive[drop] = False
    return it


@register_kernel("bcd_csc_cols_axpy", "numpy")
def bcd_csc_cols_axpy(indptr, indices, data, cols, d, out):
    """``out += A[:, cols] @ d`` for ``A`` in CSC form (``out`` float64, modified in place)."""
    for c, dc in zip(cols, d):
        if dc != 0.0:
            lo, hi = indptr[c], indptr[c + 1]
            np.add.at(out, indices[lo:hi], data[lo:hi].astype(np.float64) * float(dc))
    return out


@register_kernel("bcd_csc_gather", "numpy")
def bcd_csc_gather(indptr, indices, data, cols, out):
    """``out[:, a] = A[:, cols[a]]`` (dense float64 ``out`` of shape (n_rows, len(cols)))."""
    out[:] = 0.0
    for a, c in enumerate(cols):
        lo, hi = indptr[c], indptr[c + 1]
        out[indices[lo:hi], a] = data[lo:hi]
    return out


@register_kernel("bcd_csc_cols_rows", "numpy")
def bcd_csc_cols_rows(indptr, indices, data, cols, D, mark, rows, vals):
    """Rows touched by ``A[:, cols]`` and their values of ``A[:, cols] @ D``.

    Parameters
    ----------
    indptr, indices, data : CSC arrays of ``A`` (n_rows, n_cols); indices sorted
    cols : ndarray of shape (b,), int64 (repeats allowed)
    D : ndarray of shape (b, k), float64
    mark : ndarray of shape (n_rows,), int64
        All ``-1`` on entry; restored to ``-1`` on exit (work buffer).
    rows : ndarray of shape (n_rows,), int64
        ``rows[:cnt]``: the touched rows, in order of first appearance.
    vals : ndarray of shape (n_rows, k), float64
        ``vals[:cnt]``: ``(A[:, cols] @ D)[rows[:cnt]]``.

    Returns
    -------
    cnt : int
    """
    k = D.shape[1]
    cnt = 0
    for a, c in enumerate(cols):
        lo, hi = indptr[c], indptr[c + 1]
        for r, v in zip(indices[lo:hi], data[lo:hi]):
            if mark[r] < 0:
                mark[r] = cnt
                rows[cnt] = r
                vals[cnt, :k] = 0.0
                cnt += 1
            vals[mark[r]] += float(v) * D[a]
    mark[rows[:cnt]] = -1
    return cnt


@register_kernel("bcd_csr_rows_tmatvec", "numpy")
def bcd_csr_rows_tmatvec(indptr, indices, data, rows, vals, out):
    """``out += A[rows, :]^T @ vals`` for ``A`` in CSR form; return the entries read.

    ``vals`` has shape (len(rows), k) and ``out`` (n_cols, k), float64 (in place).
    """
    work = 0
    for s, r in enumerate(rows):
        lo, hi = indptr[r], indptr[r + 1]
        out[indices[lo:hi]] += np.outer(data[lo:hi].astype(np.float64), vals[s])
        work += int(hi - lo)
    return work


@register_kernel("bcd_csc_block_grams", "numpy")
def bcd_csc_block_grams(indptr, indices, data, blocks, w, out):
    """``out[i] = A[:, blocks[i]]^T A[:, blocks[i]]`` for ``A`` in CSC form.

    ``blocks`` is an int64 array of shape (n_blocks, bs), ``out`` float64 of shape
    (n_blocks, bs, bs) (overwritten), ``w`` a float64 work vector of length n_rows,
    zero on entry and exit.
    """
    n_rows = w.shape[0]
    for i, blk in enumerate(blocks):
        Ab = np.zeros((n_rows, blk.size))
        for a, c in enumerate(blk):
            lo, hi = indptr[c], indptr[c + 1]
            Ab[indices[lo:hi], a] = data[lo:hi]
        out[i] = Ab.T @ Ab
    return out
