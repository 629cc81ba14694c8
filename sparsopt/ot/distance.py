"""Ground costs between point clouds and entropic Wasserstein distances."""

from __future__ import annotations

import numpy as np

from ..backends import array_namespace, host_only_error, is_numpy_namespace
from ..utils.validation import check_array, check_scalar

_NORMALIZE = ("max", "median", None)


def cost_matrix(Xs, Xt, metric="sqeuclidean", *, normalize=None):
    """Ground-cost matrix between two point clouds.

    Parameters
    ----------
    Xs : array-like of shape (n, d)
        Source points.
    Xt : array-like of shape (m, d)
        Target points.
    metric : str, default="sqeuclidean"
        ``"sqeuclidean"`` (computed with one matrix product and clipped at 0),
        ``"euclidean"``, or any metric of :func:`scipy.spatial.distance.cdist`.
    normalize : {"max", "median"} or None, default=None
        Divide the costs by their maximum or median (a scale-free ``reg``).

    Returns
    -------
    M : ndarray of shape (n, m)
        float64 costs. Arrays of another array-API library (CuPy, ...) give an array
        of that library, for ``"sqeuclidean"`` and ``"euclidean"`` (the other metrics
        run on the host through SciPy and raise a TypeError for such arrays).

    References
    ----------
    .. [1] G. Peyré and M. Cuturi, "Computational optimal transport", Foundations and
       Trends in Machine Learning 11(5-6), 2019, section 2.4 (ground costs).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.ot import cost_matrix
    >>> cost_matrix(np.zeros((1, 2)), np.array([[3.0, 4.0]]), "euclidean")
    array([[5.]])
    """
    owner = "cost_matrix"
    xp = array_namespace(Xs, Xt)
    if not is_numpy_namespace(xp):
        return _cost_matrix_xp(Xs, Xt, metric, normalize, owner, xp)
    Xs = check_array(Xs, "Xs", owner, ndim=2).astype(np.float64, copy=False)
    Xt = check_array(Xt, "Xt", owner, ndim=2).astype(np.float64, copy=False)
    if Xs.shape[1] != Xt.shape[1]:
        raise ValueError(f"{owner}: Xs has {Xs.shape[1]} features but Xt has {Xt.shape[1]}.")
    if normalize not in _NORMALIZE:
        raise ValueError(f"{owner}: normalize must be one of {_NORMALIZE}, got {normalize!r}.")
    if metric in ("sqeuclidean", "euclidean"):
        M = (Xs * Xs).sum(axis=1)[:, None] + (Xt * Xt).sum(axis=1)[None, :] - 2.0 * Xs @ Xt.T
        np.maximum(M, 0.0, out=M)
        if metric == "euclidean":
            np.sqrt(M, out=M)
    else:
        from scipy.spatial.distance import cdist

        try:
            M = cdist(Xs, Xt, metric=metric)
        except ValueError as exc:
            raise ValueError(f"{owner}: unknown or invalid metric {metric!r}: {exc}") from exc
    return M / cost_scale(M, normalize)


def _cost_matrix_xp(Xs, Xt, metric, normalize, owner, xp):
    from ._validation import check_array_xp

    if metric not in ("sqeuclidean", "euclidean"):
        raise host_only_error(f"{owner}: metric={metric!r}", xp, reason="SciPy's cdist",
                              alternative="use metric='sqeuclidean' or 'euclidean'")
    if normalize not in _NORMALIZE:
        raise ValueError(f"{owner}: normalize must be one of {_NORMALIZE}, got {normalize!r}.")
    if normalize == "median":
        raise host_only_error(f"{owner}: normalize='median'", xp,
                              alternative="use normalize='max'")
    Xs = xp.astype(check_array_xp(Xs, "Xs", owner, xp, ndim=2), xp.float64)
    Xt = xp.astype(check_array_xp(Xt, "Xt", owner, xp, ndim=2), xp.float64)
    if Xs.shape[1] != Xt.shape[1]:
        raise ValueError(f"{owner}: Xs has {Xs.shape[1]} features but Xt has {Xt.shape[1]}.")
    M = (xp.sum(Xs * Xs, axis=1)[:, None] + xp.sum(Xt * Xt, axis=1)[None, :]
         - 2.0 * (Xs @ Xt.T))
    M = xp.clip(M, min=0.0)
    if metric == "euclidean":
        M = xp.sqrt(M)
    return M / cost_scale(M, normalize)


def cost_scale(M, normalize):
    """Factor :func:`cost_matrix` divides by: the max or median cost (1 if None or zero)."""
    if normalize is None:
        return 1.0
    xp = array_namespace(M)
    if not is_numpy_namespace(xp):
        if normalize != "max":
            raise host_only_error(f"cost_scale: normalize={normalize!r}", xp,
                                  alternative="use normalize='max'")
        scale = float(xp.max(M))
        return scale if scale > 0 else 1.0
    scale = float(M.max() if normalize == "max" else np.median(M))
    return scale if scale > 0 else 1.0


def wasserstein_distance(a, b, M, reg, *, p=1, solver="sns", **kwargs):
    r"""Entropic Wasserstein distance ``<M, P>**(1/p)`` of the optimal entropic plan.

    Parameters
    ----------
    a, b : array-like of shape (n,) and (m,) (or batched), or None
        Marginals (``None``: uniform), of equal mass.
    M : array-like of shape (n, m) or (B, n, m)
        Ground cost raised to the power ``p`` (e.g. squared Euclidean distances for
        ``p=2``; see :func:`cost_matrix`).
    reg : float
        Entropic regularisation; the distance tends to the unregularised one as
        ``reg -> 0`` (bias ``O(reg log(1/reg))``).
    p : float, default=1
        Order: the result is ``<M, P>**(1 / p)``.
    solver : {"sns", "sinkhorn"}, default="sns"
        :func:`sinkhorn_newton_sparse` or log-domain :func:`sinkhorn`.
    **kwargs
        Passed to the solver (``tol``, ``max_iter``, ``init``, ``callback``,
        ``n_jobs``, ``engine``...).

    Returns
    -------
    distance : float or ndarray of shape (B,)
        Only the distance: call :func:`sinkhorn_newton_sparse` or :func:`sinkhorn`
        for the :class:`OTResult` (plan, potentials, convergence); the distance is
        then ``result.cost ** (1 / p)``.

    References
    ----------
    .. [1] G. Peyré and M. Cuturi, "Computational optimal transport", 2019, chapter 4.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.ot import cost_matrix, wasserstein_distance
    >>> x = np.linspace(0, 1, 50)[:, None]
    >>> M = cost_matrix(x, x + 0.5)
    >>> round(float(wasserstein_distance(None, None, M, reg=1e-3, p=2)), 3)
    0.5
    """
    from .sinkhorn_solvers import sinkhorn
    from .sns import sinkhorn_newton_sparse

    p = check_scalar(p, "p", "wasserstein_distance", lower=0.0, lower_inclusive=False)
    solvers = {"sns": sinkhorn_newton_sparse, "sinkhorn": sinkhorn}
    if not (isinstance(solver, str) and solver in solvers):
        raise ValueError(f"wasserstein_distance: solver must be one of {tuple(solvers)}, "
                         f"got {solver!r}.")
    res = solvers[solver](a, b, M, reg, **kwargs)
    cost = np.maximum(np.asarray(res.cost, dtype=np.float64), 0.0)
    dist = cost ** (1.0 / p)
    dist = float(dist) if dist.ndim == 0 else dist
    return dist
