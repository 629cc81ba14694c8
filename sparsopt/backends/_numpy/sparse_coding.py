"""NumPy reference kernels for batched sparse coding (coordinate descent, top-k)."""

import numpy as np

from .. import _kinds as K
from .._registry import register_kernel
from .prox import prox_scalar


@register_kernel("cd_gram", "numpy")
def cd_gram(G, B, C, kind, params, a, step_scale, lower, upper, max_iter, tol, n_iter):
    """Proximal coordinate descent on ``1/2 ||x_i - c_i D||^2 + pen(c_i)``, row by row.

    Works on the Gram matrix ``G = D D^T`` and correlations ``B = X D^T`` only. Each
    coordinate takes the step ``step_scale / G_jj`` (1 = exact minimization for
    convex penalties), keeping ``q = B_i - c_i G`` up to date. The penalty is a
    :class:`~sparsopt.penalties.PenaltySpec`: ``kind`` and ``params``, under the box
    ``[lower, upper]`` (``-inf``/``inf`` when none): the coordinate prox is
    ``clip(prox(t), lower, upper)``, exact for the boxes
    :class:`~sparsopt.penalties.Constrained` accepts. A row stops when its
    largest coordinate change is ``<= tol * max_j |c_ij|`` (or after ``max_iter``
    epochs). ``C`` holds the starting codes and receives the result; ``n_iter``
    receives the epochs used per row. Returns ``C``.
    """
    n, k = B.shape
    diag = np.diag(G).astype(np.float64)
    for i in range(n):
        q = B[i].astype(np.float64) - C[i].astype(np.float64) @ G
        it = 0
        for it in range(1, max_iter + 1):  # noqa: B007 (it is read after the loop)
            max_change = 0.0
            max_abs = 0.0
            for j in range(k):
                if diag[j] <= 0.0:
                    continue
                step = step_scale / diag[j]
                cj = float(C[i, j])
                new = prox_scalar(kind, params, step, a[j % a.size], cj + step * q[j])
                new = min(max(new, lower), upper)
                new = float(C.dtype.type(new))
                d = new - cj
                if d != 0.0:
                    C[i, j] = new
                    q -= d * G[j].astype(np.float64)
                    max_change = max(max_change, abs(d))
                max_abs = max(max_abs, abs(new))
            if max_change <= tol * max_abs:
                break
        n_iter[i] = it
    return C


@register_kernel("cd_gram_l1", "numpy")
def cd_gram_l1(G, B, C, alpha, positive, max_iter, tol, n_iter):
    """Reference of the L1-specialised kernel: ``cd_gram`` with the L1 penalty."""
    return cd_gram(G, B, C, K.KIND_L1, np.array([alpha]), np.ones(1), 1.0,
                   0.0 if positive else -np.inf, np.inf, max_iter, tol, n_iter)


@register_kernel("topk_threshold", "numpy")
def topk_threshold(V, k, out):
    """Keep the ``k`` largest-magnitude entries of each row (ties: lower index wins)."""
    out[...] = 0
    n, m = V.shape
    kk = min(k, m)
    for i in range(n):
        order = np.lexsort((np.arange(m), -np.abs(V[i])))[:kk]
        out[i, order] = V[i, order]
    return out
