"""Proximal Newton with working sets for l1 (and group-l1) penalised logistic models."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, log_softmax, logsumexp, xlogy

from ..._core.loop import run_iterations
from ...backends import get_kernel, resolve_backend
from ...utils.validation import check_int, check_scalar

__all__ = ["logistic_alpha_max", "prox_newton"]

_OWNER = "prox_newton"
#: inner tolerances: the working-set problem is solved to EPS_TOL x the outer violation,
#: the quadratic model of each Newton step to EPS_TOL x that (as skglm and celer do)
EPS_TOL = 0.3
MAX_BACKTRACK = 20


# ----------------------------------------------------------------------------- input checks


def _check_X(X):
    if sp.issparse(X):
        X = sp.csc_matrix(X, dtype=np.float64)
        X.sum_duplicates()
        X.sort_indices()
        if not np.all(np.isfinite(X.data)):
            raise ValueError(f"{_OWNER}: X contains NaN or infinity.")
        return X, True
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"{_OWNER}: X must be 2-D (n_samples, n_features), got shape {X.shape}.")
    if not np.issubdtype(X.dtype, np.number) or np.iscomplexobj(X):
        raise TypeError(f"{_OWNER}: X must hold real numbers, got dtype {X.dtype}.")
    X = np.asfortranarray(X, dtype=np.float64)
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{_OWNER}: X contains NaN or infinity.")
    return X, False


def _check_weights(sample_weight, n):
    if sample_weight is None:
        return np.full(n, 1.0 / n)
    sw = np.asarray(sample_weight, dtype=np.float64)
    if sw.ndim == 0:
        sw = np.full(n, float(sw))
    if sw.shape != (n,):
        raise ValueError(f"{_OWNER}: sample_weight must have shape ({n},), got {sw.shape}.")
    if not np.all(np.isfinite(sw)) or np.any(sw < 0):
        raise ValueError(f"{_OWNER}: sample_weight must be finite and non-negative.")
    total = sw.sum()
    if total <= 0:
        raise ValueError(f"{_OWNER}: sample_weight must have a positive sum.")
    return sw / total


def _check_target(y, n, loss, n_classes):
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(f"{_OWNER}: y must have shape ({n},), got {y.shape}.")
    if not np.issubdtype(y.dtype, np.number):
        raise TypeError(f"{_OWNER}: y must be numeric, got dtype {y.dtype}.")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{_OWNER}: y contains NaN or infinity.")
    if loss == "logistic":
        if not np.all((y == 1) | (y == -1)):
            raise ValueError(f"{_OWNER}: with loss='logistic', y must hold -1 and +1 only; "
                             "encode the classes as -1/+1.")
        return y.astype(np.float64), 1
    if np.any(y < 0) or np.any(np.mod(y, 1) != 0):
        raise ValueError(f"{_OWNER}: with loss='multinomial', y must hold class indices "
                         "0, 1, ..., n_classes - 1.")
    y = y.astype(np.int64)
    K = int(y.max(initial=0)) + 1 if n_classes is None else check_int(
        n_classes, "n_classes", _OWNER, lower=2)
    if y.size and y.max() >= K:
        raise ValueError(f"{_OWNER}: class index {y.max()} >= n_classes = {K}.")
    return y, max(K, 2)


# ----------------------------------------------------------------------------- models


class _Binary:
    """Mean logistic loss ``sum_i sw_i log(1 + exp(-y_i z_i))`` (``sw`` sums to one)."""

    multi = False

    def __init__(self, y, sw):
        self.y, self.sw = y, sw

    def loss(self, z):
        return float(self.sw @ np.logaddexp(0.0, -self.y * z))

    def raw_grad(self, z):
        return -self.sw * self.y * expit(-self.y * z)

    def curvature(self, z):
        """Arguments of the direction kernel after ``X``: ``(h,)``."""
        sig = expit(-self.y * z)
        return (self.sw * sig * (1.0 - sig),)

    def intercept0(self):
        p = float(np.clip(self.sw @ (self.y > 0), 1e-12, 1 - 1e-12))
        return np.array([np.log(p / (1 - p))])


class _Multi:
    """Mean multinomial loss ``sum_i sw_i (logsumexp(z_i) - z_{i, y_i})``."""

    multi = True

    def __init__(self, y, sw, K):
        self.y, self.sw, self.K = y, sw, K
        self.Y = np.zeros((y.size, K))
        self.Y[np.arange(y.size), y] = 1.0
        self._ar = np.arange(y.size)

    def loss(self, Z):
        return float(self.sw @ (logsumexp(Z, axis=1) - Z[self._ar, self.y]))

    def raw_grad(self, Z):
        return self.sw[:, None] * (np.exp(log_softmax(Z, axis=1)) - self.Y)

    def curvature(self, Z):
        return (np.exp(log_softmax(Z, axis=1)), self.sw)

    def intercept0(self):
        freq = np.clip(self.sw @ self.Y, 1e-12, None)
        b = np.log(freq)
        return b - b.mean()


def _pen_value(W, alpha, group):
    if W.ndim == 2 and group:
        return alpha * float(np.sqrt((W * W).sum(axis=1)).sum())
    return alpha * float(np.abs(W).sum())


def _pen_change(W, D, t, alpha, group):
    """``pen(W + t D) - pen(W)`` without cancellation.

    Near the optimum ``t D`` is many orders below ``W`` and the plain difference of the
    two penalty values is rounding noise, which would stall the line search: where the
    sign of an entry is kept the change is linear (``alpha sign(w) t d``), and a row
    norm changes by ``(2 <w, t d> + t^2 ||d||^2) / (||w + t d|| + ||w||)``.
    """
    tD = t * D
    if W.ndim == 2 and group:
        nw = np.sqrt((W * W).sum(axis=1))
        V = W + tD
        nv = np.sqrt((V * V).sum(axis=1))
        num = 2.0 * (W * tD).sum(axis=1) + (tD * tD).sum(axis=1)
        den = nv + nw
        return alpha * float(np.sum(np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)))
    V = W + tD
    sw = np.sign(W)
    keep = (sw != 0) & (np.sign(V) == sw)
    return alpha * float(np.sum(np.where(keep, sw * tD, np.abs(V) - np.abs(W))))


def _scores(W, G, alpha, group, positive=False):
    """Distance of ``-G`` to ``alpha * subdifferential`` per feature (GS-s scores).

    For 2-D coefficients, the row's l2 distance (group) or its largest entry (l1). With
    ``positive`` the subdifferential is that of ``pen + indicator(W >= 0)``: for l1 the
    optimality conditions are ``G_j + alpha = 0`` where ``W_j > 0`` and ``G_j + alpha >= 0``
    where ``W_j = 0`` (violation ``max(0, -G_j - alpha)``); for a group row at zero,
    ``||max(-G_j, 0)||_2 <= alpha``, and for a non-zero row ``G_jk + alpha W_jk / ||W_j|| = 0``
    where ``W_jk > 0`` and ``G_jk >= 0`` where ``W_jk = 0``.
    """
    if W.ndim == 2 and group:
        nw = np.sqrt((W * W).sum(axis=1))
        nz = nw > 0
        Gz = np.maximum(-G, 0.0) if positive else G
        out = np.maximum(np.sqrt((Gz * Gz).sum(axis=1)) - alpha, 0.0)
        if np.any(nz):
            U = G[nz] + alpha * W[nz] / nw[nz, None]
            if positive:
                U = np.where(W[nz] > 0, U, np.maximum(-G[nz], 0.0))
            out[nz] = np.sqrt((U * U).sum(axis=1))
        return out
    if positive:
        d = np.where(W > 0, np.abs(G + alpha), np.maximum(-G - alpha, 0.0))
    else:
        d = np.where(W != 0, np.abs(G + alpha * np.sign(W)),
                     np.maximum(np.abs(G) - alpha, 0.0))
    return d.max(axis=1) if d.ndim == 2 else d


def _fixpoint_scores(W, G, L, alpha, group, positive=False):
    """``L_j |W_j - prox_{pen / L_j}(W_j - G_j / L_j)|`` per feature (GS-r scores).

    ``L`` holds the coordinate (l1) or row (group, shape ``(p,)``) curvatures; zero
    curvatures (empty columns) score zero. With ``positive`` the prox is that of
    ``pen + indicator(W >= 0)``: ``max(u - alpha / L, 0)`` (l1), the row shrink of
    ``max(u, 0)`` (group).
    """
    safe = np.where(L > 0, L, 1.0)
    if W.ndim == 2 and group:
        U = W - G / safe[:, None]
        if positive:
            U = np.maximum(U, 0.0)
        nu = np.sqrt((U * U).sum(axis=1))
        thr = alpha / safe
        shrink = np.where(nu > thr, 1.0 - thr / np.where(nu > 0, nu, 1.0), 0.0)
        step = W - shrink[:, None] * U
        out = L * np.sqrt((step * step).sum(axis=1))
        return np.where(L > 0, out, 0.0)
    U = W - G / safe
    if positive:
        new = np.maximum(U - alpha / safe, 0.0)
    else:
        new = np.sign(U) * np.maximum(np.abs(U) - alpha / safe, 0.0)
    out = np.where(L > 0, L * np.abs(W - new), 0.0)
    return out.max(axis=1) if out.ndim == 2 else out


def _dual_norm(G, group, positive):
    """Smallest ``a`` such that ``theta`` with ``X^T theta = G`` is feasible for ``alpha = a``.

    The dual of ``min_W F(X W + b) + alpha pen(W)`` is ``max_theta -F^*(theta) + <theta, b>``
    subject to ``-X^T theta`` in the dual ball of ``alpha pen``: ``||G||_inf <= alpha``
    (l1), ``max_j ||G_j||_2 <= alpha`` (group). With the positivity constraint the
    condition is one-sided, ``min_W>=0 <G, W> + alpha pen(W) = 0``: ``max_j (-G_j) <=
    alpha`` (l1), ``max_j ||max(-G_j, 0)||_2 <= alpha`` (group).
    """
    if positive:
        G = np.maximum(-G, 0.0)
    if G.ndim == 2 and group:
        return float(np.sqrt((G * G).sum(axis=1)).max(initial=0.0))
    return float(np.abs(G).max(initial=0.0))


def _dual_gap(model, Z, R, G, b, primal, alpha, group, positive):
    """Duality gap at the dual point ``theta = c R`` (``R`` the loss gradient at the margins
    ``Z``, ``G = X^T R``), ``c <= 1`` the largest scale that makes it feasible.

    The conjugates are ``sum_i s_i [q_i log q_i + (1 - q_i) log(1 - q_i)]`` with ``q_i = c
    sigmoid(-y_i z_i)`` (binary) and ``sum_i s_i sum_k Q_ik log Q_ik`` with ``Q_i = c P_i +
    (1 - c) Y_i`` in the simplex (multinomial). ``b`` is the intercept, held fixed.
    """
    nrm = _dual_norm(G, group, positive)
    c = 1.0 if nrm <= alpha else alpha / nrm
    if model.multi:
        P = np.exp(log_softmax(Z, axis=1))
        Q = c * P + (1.0 - c) * model.Y
        conj = float(model.sw @ xlogy(Q, Q).sum(axis=1))
        lin = c * float(R.sum(axis=0) @ b)
    else:
        q = c * expit(-model.y * Z)
        conj = float(model.sw @ (xlogy(q, q) + xlogy(1.0 - q, 1.0 - q)))
        lin = c * float(R.sum()) * float(b[0])
    return primal - (lin - conj)


def _support(W):
    return W != 0 if W.ndim == 1 else np.any(W != 0, axis=1)


def _matvec(X, W):
    out = X @ W
    return np.asarray(out)


def _sub(X, ws, sparse):
    if sparse:
        Xs = X[:, ws]
        if not Xs.has_sorted_indices:
            Xs.sort_indices()
        return Xs
    return X.T[ws].T  # F-ordered copy of the columns


def logistic_alpha_max(X, y, *, loss="logistic", penalty="l1", fit_intercept=True,
                       sample_weight=None, n_classes=None):
    """Smallest ``alpha`` for which the penalised (mean) logistic model has ``w = 0``.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        -1/+1 labels (``loss="logistic"``) or class indices (``"multinomial"``).
    loss : {"logistic", "multinomial"}, default="logistic"
    penalty : {"l1", "group"}, default="l1"
        For ``"multinomial"``: the largest absolute gradient entry (l1) or row norm (group).
    fit_intercept : bool, default=True
        Evaluate the gradient at the best intercept-only model (else at zero).
    sample_weight : ndarray of shape (n_samples,), default=None
    n_classes : int, default=None
        Number of classes of the multinomial model (default ``max(y) + 1``).

    Returns
    -------
    alpha_max : float

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.solvers import logistic_alpha_max
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    >>> logistic_alpha_max(X, np.array([1, -1, 1, -1]), fit_intercept=False)
    0.25
    """
    X, sparse = _check_X(X)
    n = X.shape[0]
    sw = _check_weights(sample_weight, n)
    y, K = _check_target(y, n, loss, n_classes)
    model = _Multi(y, sw, K) if loss == "multinomial" else _Binary(y, sw)
    b = model.intercept0() if fit_intercept else np.zeros(K if model.multi else 1)
    z = np.tile(b, (n, 1)) if model.multi else np.full(n, b[0])
    G = np.asarray(X.T @ model.raw_grad(z))
    if model.multi and penalty == "group":
        return float(np.sqrt((G * G).sum(axis=1)).max(initial=0.0))
    return float(np.abs(G).max(initial=0.0))


class _State:
    pass


def prox_newton(X, y, *, alpha, loss="logistic", penalty="l1", positive=False, n_classes=None,
                fit_intercept=True, sample_weight=None, coef_init=None, intercept_init=None,
                tol=1e-4, max_iter=50, max_pn_iter=50, max_cd_epochs=20, p0=10,
                ws_strategy="subdiff", verbose=None, callback=None, engine=None):
    """Proximal Newton with working sets for l1 / group-l1 logistic regression.

    Minimises the mean (sample-weighted) loss plus the penalty::

        sum_i s_i loss(y_i, x_i^T W + b) + alpha * pen(W),    s = sample_weight / sum(sample_weight)

    with the binary logistic loss ``log(1 + exp(-y z))`` (``W`` of shape ``(p,)``,
    ``pen = ||W||_1``) or the multinomial loss ``logsumexp(z) - z_y`` (``W`` of shape
    ``(p, K)``, ``pen`` the l1 norm of all entries or, with ``penalty="group"``, the sum
    of the l2 norms of the rows: a feature is used by all classes or by none).

    Outer loop (one iteration = one working set): the full gradient ``X^T r`` gives the
    distance of ``-grad_j`` to ``alpha * subdiff pen(W_j)`` per feature (the GS-s greedy
    score); the run stops when the largest of these (and the intercept's gradient) is at
    most ``tol``. Otherwise the working set is the support plus the highest scores, of
    size ``max(p0, 2 |support|)``, and proximal Newton steps are taken on it until its
    own violation falls below ``0.3`` x the outer one. Each Newton direction minimises
    the quadratic model of the loss plus the penalty by weighted coordinate descent
    (exact coordinate steps; a block step per row for the group penalty), at most
    ``max_cd_epochs`` epochs, in a compiled kernel; the step length comes from a
    backtracking line search that guarantees descent (the first ``t`` in 1, 1/2, ...
    with ``pen(W + tD) - pen(W) + t <grad(W + tD), D> < 0``).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Data; sparse matrices are used in CSC format. Computations are in float64. With
        ``fit_intercept``, dense data is centred (sample-weighted means) on a copy, an exact
        change of variables that keeps coordinate descent fast on non-centred features;
        sparse data is not centred (it would lose its sparsity).
    y : ndarray of shape (n_samples,)
        -1/+1 labels (``loss="logistic"``) or class indices 0..K-1 (``"multinomial"``).
    alpha : float
        Penalty strength (``>= 0``).
    loss : {"logistic", "multinomial"}, default="logistic"
    penalty : {"l1", "group"}, default="l1"
        ``"group"`` (row-wise l2,1 norm) needs ``loss="multinomial"``.
    positive : bool, default=False
        Constrain the coefficients to be non-negative (the intercept stays free). The
        coordinate steps become ``max(0, u - alpha / L)``; for the group penalty the row
        step shrinks the projection of the row onto the orthant, which is exactly the
        prox of ``alpha ||.||_2 + indicator(. >= 0)``. The working-set scores and the KKT
        criterion use the subdifferential of ``pen + indicator(W >= 0)``: a zero entry
        is optimal when ``grad_j + alpha >= 0`` (l1), a zero row when
        ``||max(-grad_j, 0)||_2 <= alpha`` (group). Negative entries of ``coef_init`` are
        set to zero.
    n_classes : int, default=None
        Number of classes K of the multinomial model (default ``max(y) + 1``).
    fit_intercept : bool, default=True
        Fit an unpenalised intercept (one per class for the multinomial model).
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative weights; the loss is their weighted mean.
    coef_init : ndarray of shape (n_features,) or (n_features, K), default=None
        Warm start (zeros by default).
    intercept_init : float or ndarray of shape (K,), default=None
        Warm start of the intercept (default: the best intercept-only model when
        ``coef_init`` is None, else zero).
    tol : float, default=1e-4
        Tolerance on the largest KKT violation (distance of the gradient to the
        subdifferential), as skglm's ``tol``.
    max_iter : int, default=50
        Maximum number of outer (working-set) iterations.
    max_pn_iter : int, default=50
        Maximum number of proximal Newton steps per working set.
    max_cd_epochs : int, default=20
        Maximum number of coordinate-descent epochs per Newton direction.
    p0 : int, default=10
        Smallest working-set size.
    ws_strategy : {"subdiff", "fixpoint"}, default="subdiff"
        Greedy score ranking the features outside the support: the distance of the
        gradient to the subdifferential (GS-s) or the length of a proximal coordinate
        step scaled by the curvature, ``L_j |w_j - prox(w_j - grad_j / L_j)|`` (GS-r;
        costs one more pass over the data per outer iteration). The stopping criterion
        is the GS-s (KKT) violation in both cases.
    verbose : int, default=None
        Print one line per outer iteration (``None``: the global configuration).
    callback : callable, default=None
        ``callback(SolverState)`` after each outer iteration; returning True stops.
    engine : {"auto", "numpy", "numba"}, default=None
        Kernel backend of the coordinate-descent directions.

    Returns
    -------
    result : SolverResult
        ``x`` the coefficients, shape ``(n_features,)`` or ``(n_features, K)``;
        ``stop_crit`` the final KKT violation; ``info`` holds ``intercept`` (float or
        ``(K,)``), ``objective``, ``dual_gap``, ``n_pn_iter`` (Newton steps in all),
        ``ws_sizes`` and ``criterion``. ``dual_gap`` is the duality gap of the final
        iterate for the problem in ``W`` with the intercept fixed at its returned value:
        the primal objective minus the Fenchel dual objective at the dual point built
        from the loss gradient at the margins, ``theta = c grad F(X W + b)``, rescaled by
        the largest ``c <= 1`` that makes it dual feasible (``||X^T theta||_inf <= alpha``
        for l1, ``max_j ||(X^T theta)_j||_2 <= alpha`` for group, the one-sided
        ``max_j (-X^T theta)_j <= alpha`` with ``positive``, and for the group penalty with
        ``positive`` ``max_j ||max(-(X^T theta)_j, 0)||_2 <= alpha``). It is ``>= 0`` up to
        rounding, bounds the suboptimality of ``W`` and vanishes at the optimum; it reuses
        the gradient of the last stopping test (no extra pass over ``X``). A
        ``ConvergenceWarning`` is raised if ``max_iter`` outer iterations end with a
        violation above ``tol``.

    References
    ----------
    .. [1] J. D. Lee, Y. Sun and M. A. Saunders, "Proximal Newton-type methods for
       minimizing composite functions", SIAM J. Optim. 24(3), 2014.
    .. [2] M. Massias, S. Vaiter, A. Gramfort and J. Salmon, "Dual extrapolation for
       sparse generalized linear models", JMLR 21(234), 2020.
    .. [3] Q. Bertrand, Q. Klopfenstein, P.-A. Bannier, G. Gidel and M. Massias,
       "Beyond L1: faster and better sparse models with skglm", NeurIPS 2022.
    .. [4] J. Nutini, I. Laradji and M. Schmidt, "Let's make block coordinate descent
       converge faster", JMLR 23(131), 2022 (GS-s/GS-r greedy rules).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.solvers import prox_newton
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 20))
    >>> y = np.sign(X[:, 0] - X[:, 1] + 0.1 * rng.standard_normal(100))
    >>> res = prox_newton(X, y, alpha=0.05, tol=1e-8)
    >>> res.converged, np.flatnonzero(res.x).tolist()
    (True, [0, 1])
    >>> bool(0 <= res.info["dual_gap"] < 1e-8)
    True
    >>> pos = prox_newton(X, y, alpha=0.05, positive=True, tol=1e-8)
    >>> bool(pos.x.min() >= 0), float(pos.x[1])  # feature 1 has a negative effect
    (True, 0.0)
    """
    if loss not in ("logistic", "multinomial"):
        raise ValueError(f"{_OWNER}: loss must be 'logistic' or 'multinomial', got {loss!r}.")
    if penalty not in ("l1", "group"):
        raise ValueError(f"{_OWNER}: penalty must be 'l1' or 'group', got {penalty!r}.")
    if penalty == "group" and loss != "multinomial":
        raise ValueError(f"{_OWNER}: penalty='group' (row-wise l2,1 over classes) needs "
                         "loss='multinomial'; use penalty='l1' for the binary model.")
    if ws_strategy not in ("subdiff", "fixpoint"):
        raise ValueError(f"{_OWNER}: ws_strategy must be 'subdiff' or 'fixpoint', got "
                         f"{ws_strategy!r}.")
    if not isinstance(positive, (bool, np.bool_)):
        raise TypeError(f"{_OWNER}: positive must be a bool, got {positive!r}.")
    positive = bool(positive)
    alpha = check_scalar(alpha, "alpha", _OWNER, lower=0.0)
    tol = check_scalar(tol, "tol", _OWNER, lower=0.0)
    max_iter = check_int(max_iter, "max_iter", _OWNER, lower=1)
    max_pn_iter = check_int(max_pn_iter, "max_pn_iter", _OWNER, lower=1)
    max_cd_epochs = check_int(max_cd_epochs, "max_cd_epochs", _OWNER, lower=1)
    p0 = check_int(p0, "p0", _OWNER, lower=1)
    X, sparse = _check_X(X)
    n, p = X.shape
    if n == 0:
        raise ValueError(f"{_OWNER}: X has no samples.")
    sw = _check_weights(sample_weight, n)
    y, K = _check_target(y, n, loss, n_classes)
    multi = loss == "multinomial"
    group = penalty == "group"
    model = _Multi(y, sw, K) if multi else _Binary(y, sw)
    wshape = (p, K) if multi else (p,)

    if coef_init is None:
        W = np.zeros(wshape)
    else:
        W = np.array(coef_init, dtype=np.float64)
        if W.shape != wshape:
            raise ValueError(f"{_OWNER}: coef_init must have shape {wshape}, got {W.shape}.")
        if not np.all(np.isfinite(W)):
            raise ValueError(f"{_OWNER}: coef_init contains NaN or infinity.")
        if positive:
            W = np.maximum(W, 0.0)
    nb = K if multi else 1
    if not fit_intercept:
        b = np.zeros(nb)
    elif intercept_init is not None:
        b = np.array(np.broadcast_to(np.asarray(intercept_init, dtype=np.float64), (nb,)))
        if not np.all(np.isfinite(b)):
            raise ValueError(f"{_OWNER}: intercept_init contains NaN or infinity.")
    else:
        b = model.intercept0() if coef_init is None else np.zeros(nb)

    # with an intercept, work on (sample-weighted) centred columns when X is dense: an exact
    # change of variables (b' = b + mean @ W) that removes the coupling of the intercept with
    # non-centred features, which makes coordinate descent on the Newton model crawl
    x_mean = None
    if fit_intercept and not sparse:
        x_mean = sw @ X
        X = np.asfortranarray(X - x_mean)
        b = b + x_mean @ W

    kind = ("pn_cd_multi_" if multi else "pn_cd_binary_") + ("csc" if sparse else "dense")
    backend = resolve_backend(kind, W, engine=engine)
    kernel = get_kernel(kind, backend)

    if ws_strategy == "fixpoint":
        X2 = X.multiply(X).tocsc() if sparse else X * X

    def rank_scores(s):
        """Working-set ranking: the KKT scores, or the GS-r scores."""
        if ws_strategy == "subdiff":
            return s.scores
        curv = model.curvature(s.Z)
        if not multi:
            L = np.asarray(X2.T @ curv[0])
        else:
            P, swv = curv
            if group:
                c = swv * np.minimum(P.max(axis=1), (2.0 * P * (1.0 - P)).max(axis=1))
                L = np.asarray(X2.T @ c)
            else:
                L = np.asarray(X2.T @ (swv[:, None] * P * (1.0 - P)))
        return _fixpoint_scores(s.x, s.G, L, alpha, group, positive)

    xt_dot = None if sparse else get_kernel("pn_xt_dot", backend)

    def rmatvec(A, R):
        """``A^T R`` (``A`` the data or a working-set slice, ``R`` of shape (n,) or (n, K))."""
        if xt_dot is None:
            return np.asarray(A.T @ R)
        RT = np.ascontiguousarray(R.T) if R.ndim == 2 else R[None, :]
        out = xt_dot(A.T, RT, np.empty((A.shape[1], RT.shape[0])))
        return out if R.ndim == 2 else out[:, 0]

    st = _State()
    st.x = W
    st.b = b
    Z0 = _matvec(X, W) if np.any(W) else np.zeros((n, K) if multi else n)
    st.Z = Z0 + (b if multi else b[0])
    st.n_pn = 0
    st.ws_sizes = []

    def evaluate(s):
        """Full gradient, scores and KKT violation at the current point."""
        R = model.raw_grad(s.Z)
        s.R = R
        s.G = rmatvec(X, R)
        s.scores = _scores(s.x, s.G, alpha, group, positive)
        crit = float(s.scores.max(initial=0.0))
        if fit_intercept:
            crit = max(crit, float(np.abs(R.sum(axis=0)).max()))
        s.crit = crit
        return crit

    def objective(s):
        return model.loss(s.Z) + _pen_value(s.x, alpha, group)

    def line_search(s, ws, D, M):
        """Step ``t`` with guaranteed decrease; updates ``x``, ``b``, ``Z`` in place."""
        Wws = s.x[ws]
        Dw = D[:-1]
        t = 1.0
        for _ in range(MAX_BACKTRACK):
            Zt = s.Z + t * M
            val = _pen_change(Wws, Dw, t, alpha, group) + t * float(
                np.sum(model.raw_grad(Zt) * M))
            if val < 0:
                break
            t *= 0.5
        else:  # rounding-level direction: accept the smallest step only if it does not hurt
            Zt = s.Z + t * M
            if model.loss(Zt) - model.loss(s.Z) + _pen_change(Wws, Dw, t, alpha, group) > 0:
                return 0.0
        s.x[ws] = Wws + t * Dw
        if fit_intercept:
            s.b += t * D[-1]
        s.Z = Zt
        return t

    def step(s, it):
        if s.crit <= tol:
            return
        scores = np.array(rank_scores(s), dtype=np.float64)
        supp = _support(s.x)
        ws_size = max(min(p0, p), min(p, 2 * int(supp.sum())))
        scores[supp] = np.inf
        if ws_size < p:
            ws = np.sort(np.argpartition(scores, -ws_size)[-ws_size:])
        else:
            ws = np.arange(p)
        s.ws_sizes.append(int(ws.size))
        tol_in = EPS_TOL * s.crit
        Xws = _sub(X, ws, sparse)
        m = ws.size
        G_ws = s.G[ws]
        if multi:
            D = np.empty((m + 1, K))
            M = np.empty((n, K))
            sbuf = np.empty(n)
        else:
            D = np.empty(m + 1)
            M = np.empty(n)
        if sparse:
            xargs = (Xws.data, Xws.indices, Xws.indptr)
        else:  # the binary kernel takes the (C-contiguous) transposed matrix
            xargs = (Xws,) if multi else (Xws.T,)
        for pn in range(max_pn_iter):
            if pn > 0:
                R = model.raw_grad(s.Z)
                G_ws = rmatvec(Xws, R)
            else:
                R = model.raw_grad(s.Z)
            g_int = R.sum(axis=0)
            crit_in = float(_scores(s.x[ws], G_ws, alpha, group, positive).max(initial=0.0))
            if fit_intercept:
                crit_in = max(crit_in, float(np.max(np.abs(g_int))))
            if crit_in <= tol_in:
                break
            curv = model.curvature(s.Z)
            W_ws = np.ascontiguousarray(s.x[ws])
            if multi:
                kernel(*xargs, *curv, G_ws, W_ws, alpha, positive, group, fit_intercept, g_int,
                       max_cd_epochs, EPS_TOL * tol_in, D, M, sbuf)
            else:
                kernel(*xargs, *curv, G_ws, W_ws, alpha, positive, fit_intercept, float(g_int),
                       max_cd_epochs, EPS_TOL * tol_in, D, M)
            s.n_pn += 1
            if not np.any(D):
                break
            if line_search(s, ws, D, M) == 0.0:
                break

    evaluate(st)
    res = run_iterations(
        step, st, stop_crit=lambda s, _prev: evaluate(s), max_iter=max_iter, tol=tol,
        objective=objective, callback=callback, verbose=verbose, solver=_OWNER,
        criterion="max KKT violation (distance of the gradient to the subdifferential)",
        hint="the working-set problems are solved to 0.3 x the violation; raise "
             "max_pn_iter if it stalls",
    )
    b_out = st.b - x_mean @ st.x if x_mean is not None else st.b
    intercept = b_out.copy() if multi else float(b_out[0])
    primal = objective(st)
    # the gap of the problem in W with the intercept fixed at b_out, in the original
    # (uncentred) variables: X^T R = Xc^T R + x_mean (1^T R). The last stopping test ran
    # at the final iterate, so its gradient X^T R is reused (no extra pass over X).
    R, G = st.R, st.G
    if x_mean is not None:
        G = G + (np.outer(x_mean, R.sum(axis=0)) if multi else x_mean * R.sum())
    gap = _dual_gap(model, st.Z, R, G, b_out, primal, alpha, group, positive)
    if not np.isfinite(gap):  # only after a non-finite iterate (already warned about)
        gap = np.inf
    return res.with_info(intercept=intercept, objective=primal, dual_gap=gap,
                         n_pn_iter=st.n_pn, ws_sizes=tuple(st.ws_sizes), backend=backend,
                         ws_strategy=ws_strategy)
