"""NumPy references:
Block coordinate descent with greedy rules (solver ``sparsopt.solvers.bcd``).

* ``bcd_nnqp``: exact solution of a small non-negative quadratic program
  ``min_{z >= 0} 1/2 z^T Q z + c^T z`` (``Q`` positive definite) by the primal
  active-set method of Lawson and Hanson written for a quadratic instead of a
  least-squares objective. It is the block solve of the projected-Newton and
  matrix updates with ``x >= 0`` or l1 penalties.
* ``bcd_csc_cols_axpy``: ``out += A[:, cols] @ d`` for a CSC matrix given by its
  ``indptr``, ``indices`` and ``data`` (residual / gradient maintenance).
* ``bcd_csc_gather``: the dense block ``A[:, cols]`` of a CSC matrix (block Hessians).

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
