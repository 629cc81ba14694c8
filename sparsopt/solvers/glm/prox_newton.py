"""Proximal Newton with working sets for penalised logistic and multinomial models."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, log_softmax, logsumexp, xlogy

from ..._core.loop import LoopMonitor, all_finite
from ...backends import get_kernel, resolve_backend
from ...backends._kinds import KIND_ELASTICNET, KIND_L1
from ...backends._numpy.prox import subdiff_distance
from ...penalties import GroupL21, get_penalty
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


class _PenaltyOps:
    """The penalty as the solver uses it: value, line-search change, scores, dual gap.

    Built once by :func:`_penalty_ops`, the one place where the penalty's kind is read
    (for the specialised closed forms of the l1, elastic-net and group terms); the
    kernels only see the :class:`~sparsopt.penalties.PenaltySpec`.
    """

    def __init__(self, pen, spec, kind, params, lower, upper, avec, group, is_convex,
                 conj, multi):
        self.pen, self.spec, self.kind, self.params = pen, spec, kind, params
        self.lower, self.upper, self.avec = lower, upper, avec
        self.group, self.is_convex, self.conj, self.multi = group, is_convex, conj, multi
        self.alpha = float(params[0])
        self.use_fix = False
        # l1, free or under x >= 0: closed-form scores (the default penalty's fast path)
        self.l1_fast = kind == KIND_L1 and lower in (-np.inf, 0.0) and upper == np.inf
        # the orthant of a group penalty, as a sign: +1 (W >= 0), -1 (W <= 0), 0 (none)
        self.orthant = 1.0 if lower == 0.0 else (-1.0 if upper == 0.0 else 0.0)

    def _t(self, W):
        """Separable penalties act on the features along the last axis (CEL0's ``a``)."""
        return W.T if W.ndim == 2 and not self.group else W

    def value(self, W):
        return float(self.pen.value(self._t(W), check_finite=False))

    def change(self, W, D, t):
        """``pen(W + t D) - pen(W)`` without cancellation.

        Near the optimum ``t D`` is many orders below ``W`` and the plain difference of
        the two penalty values is rounding noise, which would stall the line search:
        where the sign of an l1 entry is kept the change is linear (``alpha sign(w) t d``),
        the quadratic part of the elastic net changes by ``(2 w + t d) t d / 2``, and a
        row norm changes by ``(2 <w, t d> + t^2 ||d||^2) / (||w + t d|| + ||w||)``. Other
        penalties sum the changes of the changed entries only.
        """
        tD = t * D
        if self.group:
            nw = np.sqrt((W * W).sum(axis=1))
            V = W + tD
            nv = np.sqrt((V * V).sum(axis=1))
            num = 2.0 * (W * tD).sum(axis=1) + (tD * tD).sum(axis=1)
            den = nv + nw
            return self.alpha * float(np.sum(
                np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)))
        V = W + tD
        if self.conj in ("l1", "elasticnet"):
            l1 = self.alpha if self.conj == "l1" else self.alpha * self.params[1]
            sw = np.sign(W)
            keep = (sw != 0) & (np.sign(V) == sw)
            out = l1 * float(np.sum(np.where(keep, sw * tD, np.abs(V) - np.abs(W))))
            if self.conj == "elasticnet":
                out += 0.5 * self.alpha * (1.0 - self.params[1]) * float(
                    np.sum((2.0 * W + tD) * tD))
            return out
        # generic separable penalty: the changed entries only, at their feature positions
        # (pen(0) = 0; the full length keeps CEL0's per-feature a aligned)
        return self._entry_change(W, V)

    def _entry_change(self, W, V):
        changed = V != W
        if not np.any(changed):
            return 0.0
        A = np.where(changed, V, 0.0)
        B = np.where(changed, W, 0.0)
        return self.value_ws(A) - self.value_ws(B)

    def value_ws(self, Wws):
        """Value of the working-set entries (set by the solver: ``self.ws``)."""
        full = np.zeros((self.p,) + Wws.shape[1:])
        full[self.ws] = Wws
        return self.value(full)

    def scores(self, W, G, fix):
        """Distance of ``-G`` to the subdifferential per feature (GS-s scores).

        For 2-D coefficients, the row's l2 distance (group) or its largest entry. Where
        the penalty has no closed-form subdifferential (CEL0, generic lq) or its limiting
        subdifferential at 0 is the whole line (l0, l1/2, l2/3), ``fix()`` gives the
        fixed-point violation ``L |w - prox_{pen/L}(w - g/L)|`` instead.
        """
        if self.group:
            return _group_scores(W, G, self.alpha, self.orthant)
        if self.use_fix:
            d = fix()
        elif self.l1_fast:  # the closed form of l1 (free or >= 0): fewer passes over W
            a = self.alpha
            if self.lower == 0.0:
                d = np.where(W > 0, np.abs(G + a), np.maximum(-G - a, 0.0))
            else:
                d = np.where(W != 0, np.abs(G + a * np.sign(W)), np.maximum(np.abs(G) - a, 0.0))
        else:
            d = subdiff_distance(self.kind, W, -G, self.params, self.lower, self.upper)
        return d.max(axis=1) if d.ndim == 2 else d

    def dual_gap(self, model, Z, R, G, b, primal):
        """Duality gap at the dual point ``theta = c R`` (``R`` the loss gradient at the
        margins ``Z``, ``G = X^T R``); ``None`` where no closed-form conjugate is used
        (non-convex penalties, boxes with finite non-zero bounds).

        For the l1 and group penalties (under an orthant) the conjugate of the penalty is
        the indicator of a ball: ``c <= 1`` is the largest scale that makes ``theta``
        feasible. For the elastic net ``c = 1`` and the conjugate is ``sum_j
        max(|G_j| - alpha rho, 0)^2 / (2 alpha (1 - rho))`` (one-sided under the
        orthant). The conjugates of the losses are ``sum_i s_i [q_i log q_i + (1 - q_i)
        log(1 - q_i)]`` with ``q_i = c sigmoid(-y_i z_i)`` (binary) and ``sum_i s_i sum_k
        Q_ik log Q_ik`` with ``Q_i = c P_i + (1 - c) Y_i`` in the simplex (multinomial).
        ``b`` is the intercept, held fixed.
        """
        if self.conj is None:
            return None
        Gs = G
        if self.orthant > 0:
            Gs = np.maximum(-G, 0.0)
        elif self.orthant < 0:
            Gs = np.maximum(G, 0.0)
        pen_conj = 0.0
        if self.conj == "elasticnet" and self.params[1] < 1.0:
            c = 1.0
            a, rho = self.alpha, self.params[1]
            if a > 0:
                excess = np.maximum(np.abs(Gs) - a * rho, 0.0)
                pen_conj = float((excess * excess).sum()) / (2.0 * a * (1.0 - rho))
            elif np.any(Gs != 0):
                return np.inf
        else:
            l1 = self.alpha * (self.params[1] if self.conj == "elasticnet" else 1.0)
            if self.group:
                nrm = float(np.sqrt((Gs * Gs).sum(axis=1)).max(initial=0.0))
            else:
                nrm = float(np.abs(Gs).max(initial=0.0))
            c = 1.0 if nrm <= l1 else l1 / nrm
        if model.multi:
            P = np.exp(log_softmax(Z, axis=1))
            Q = c * P + (1.0 - c) * model.Y
            conj = float(model.sw @ xlogy(Q, Q).sum(axis=1))
            lin = c * float(R.sum(axis=0) @ b)
        else:
            q = c * expit(-model.y * Z)
            conj = float(model.sw @ (xlogy(q, q) + xlogy(1.0 - q, 1.0 - q)))
            lin = c * float(R.sum()) * float(b[0])
        return primal - (lin - conj - pen_conj)


def _group_scores(W, G, alpha, orthant):
    """GS-s scores of the row-wise group penalty (``orthant``: +1 ``W >= 0``, -1
    ``W <= 0``, 0 free). Under ``W >= 0``: a zero row is optimal when
    ``||max(-G_j, 0)||_2 <= alpha``, a non-zero row when ``G_jk + alpha W_jk / ||W_j|| =
    0`` where ``W_jk > 0`` and ``G_jk >= 0`` where ``W_jk = 0`` (``W <= 0`` by symmetry).
    """
    if orthant < 0:
        W, G = -W, -G
    positive = orthant != 0
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


def _group_fixpoint_scores(W, G, L, alpha, lower, upper):
    """GS-r scores of the group penalty: ``L_j ||W_j - prox(W_j - G_j / L_j)||``."""
    safe = np.where(L > 0, L, 1.0)
    U = np.clip(W - G / safe[:, None], lower, upper)
    nu = np.sqrt((U * U).sum(axis=1))
    thr = alpha / safe
    shrink = np.where(nu > thr, 1.0 - thr / np.where(nu > 0, nu, 1.0), 0.0)
    step = W - shrink[:, None] * U
    out = L * np.sqrt((step * step).sum(axis=1))
    return np.where(L > 0, out, 0.0)


def _penalty_ops(penalty, alpha, multi, K, p):
    """Resolve ``penalty`` (name or object) into the solver's :class:`_PenaltyOps`.

    The one kernel-selection helper: a separable penalty goes through its
    :class:`~sparsopt.penalties.PenaltySpec`; the row-wise group penalty (``"group"``, or
    a :class:`~sparsopt.penalties.GroupL21` whose one group is all the classes of a row)
    has its own block kernel. The kind is read here only to pick the closed forms of the
    line search and of the dual gap (l1, elastic net).
    """
    if isinstance(penalty, str) and penalty.strip().lower() == "group":
        if not multi:
            raise ValueError(f"{_OWNER}: penalty='group' (row-wise l2,1 over classes) needs "
                             "loss='multinomial'; use penalty='l1' for the binary model.")
        pen = GroupL21(alpha=alpha, groups=K, weights=[1.0])
    else:
        pen = get_penalty(penalty, alpha)
    lower, upper = pen._bounds()
    if pen.is_separable:
        spec = pen.spec(solver=_OWNER)
        kind, params = spec.kind, spec.params
        inner = getattr(pen, "penalty", pen)
        avec = np.ascontiguousarray(np.broadcast_to(
            np.asarray(getattr(inner, "a", 1.0), dtype=np.float64), (p,)))
        conj = None
        if spec.is_convex and (np.isinf(lower) or lower == 0.0) \
                and (np.isinf(upper) or upper == 0.0):
            conj = {KIND_L1: "l1", KIND_ELASTICNET: "elasticnet"}.get(kind)
        return _PenaltyOps(pen, spec, kind, params, lower, upper, avec, False,
                           spec.is_convex, conj, multi)
    # the row-wise group kernel is the block soft threshold of a whole row of W: it applies
    # to a group lasso whose one group is all the classes (the last axis of W)
    inner = getattr(pen, "penalty", pen)
    structure = getattr(inner, "_structure", None)
    if multi and isinstance(inner, GroupL21):
        indptr, indices, w = structure(K)
        if indptr.size == 2 and indices.size == K:
            params = np.array([float(inner.alpha) * float(w[0])])
            return _PenaltyOps(pen, None, -1, params, lower, upper, np.ones(p), True, True,
                               "group", multi)
    raise TypeError(
        f"{_OWNER} takes a separable penalty (l1, elasticnet, l0, lq, mcp, scad, log, cel0, "
        "optionally + Positive()) or, with loss='multinomial', the row-wise group penalty "
        "'group' (GroupL21(alpha, groups=n_classes, weights=[1.0]): one group of all the "
        f"classes of a feature); got {pen!r}. Use proximal_gradient(X, y, loss=..., "
        "penalty=...), which only needs the penalty's prox."
    )


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


def _check_init(init, wshape, nb, lower, upper):
    """``init`` as ``(W, b)`` (``b`` None when not given): an array of shape ``wshape`` or a
    tuple ``(coef, intercept)``; the coefficients are projected onto the penalty's box."""
    if init is None:
        return None, None
    if isinstance(init, tuple) and len(init) != 2:
        raise ValueError(f"{_OWNER}: init must be an array of shape {wshape} or a tuple "
                         f"(coef, intercept), got a tuple of length {len(init)}.")
    coef, intercept = (init if isinstance(init, tuple) else (init, None))
    W = None
    if coef is not None:
        W = np.array(coef, dtype=np.float64)
        if W.shape != wshape:
            raise ValueError(f"{_OWNER}: init (the coefficients) must have shape {wshape}, "
                             f"got {W.shape}.")
        if not np.all(np.isfinite(W)):
            raise ValueError(f"{_OWNER}: init contains NaN or infinity.")
        W = np.clip(W, lower, upper)
    b = None
    if intercept is not None:
        b = np.array(np.broadcast_to(np.asarray(intercept, dtype=np.float64), (nb,)))
        if not np.all(np.isfinite(b)):
            raise ValueError(f"{_OWNER}: init (the intercept) contains NaN or infinity.")
    return W, b


def prox_newton(X, y, *, penalty="l1", alpha=1.0, loss="logistic", n_classes=None,
                fit_intercept=True, sample_weight=None, init=None, tol=1e-4, max_iter=50,
                max_pn_iter=50, max_cd_epochs=20, p0=10, ws_strategy="subdiff", verbose=None,
                callback=None, engine=None):
    """Proximal Newton with working sets for penalised logistic and multinomial models.

    Objective: scikit-learn's mean (sample-weighted) loss plus the penalty::

        (1/n) sum_i w_i loss(y_i, x_i^T W + b) + pen(W),

    with ``sample_weight`` ``w`` rescaled to sum to ``n_samples`` (all ones by default),
    the binary logistic loss ``log(1 + exp(-y z))`` (``W`` of shape ``(p,)``) or the
    multinomial loss ``logsumexp(z) - z_y`` (``W`` of shape ``(p, K)``), and ``pen`` any
    separable penalty of :mod:`sparsopt.penalties` (applied to every entry), optionally
    under a constraint (``+ Positive()``), or for the multinomial model the row-wise group
    penalty ``alpha sum_j ||W_j||_2`` (``penalty="group"``: a feature is used by all
    classes or by none).

    Outer loop (one iteration = one working set): the full gradient ``X^T r`` gives the
    distance of ``-grad_j`` to the subdifferential of the penalty at ``W_j`` per feature
    (the GS-s greedy score; the limiting subdifferential for a non-convex penalty, and the
    fixed-point violation ``L_j |w_j - prox_{pen/L_j}(w_j - grad_j / L_j)|``, ``L_j`` a
    bound on the coordinate curvature, where it has no closed form, CEL0 and generic lq,
    or is the whole line at zero, l0, l1/2 and l2/3); the run stops when the largest of
    these (and the intercept's gradient) is at most ``tol``. Otherwise the working set is
    the support plus the highest scores, of size ``max(p0, 2 |support|)``, and proximal
    Newton steps are taken on it until its own violation falls below ``0.3`` x the outer one. Each
    Newton direction minimises the quadratic model of the loss plus the penalty by
    weighted coordinate descent (coordinate steps ``prox_{pen/H_jj}(w_j - grad_j /
    H_jj)`` clipped to the constraint; a block step per row for the group penalty), at
    most ``max_cd_epochs`` epochs, in a compiled kernel; the step length comes from a
    backtracking line search that guarantees descent (the first ``t`` in 1, 1/2, ...
    with ``pen(W + tD) - pen(W) + t <grad(W + tD), D> < 0``, which by convexity of the
    loss decreases the objective for any penalty).

    A non-convex prox with a step condition (MCP: ``1/H_jj < gamma``, SCAD: ``1/H_jj <
    gamma - 1``, CEL0: ``a_j^2 / H_jj < 1``) uses the coordinate curvature
    ``max(H_jj, 1.05 x its bound)``: a majorant of the Newton model on that coordinate,
    so the coordinate steps still decrease the model and the fixed points are the
    stationary points of the objective.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Data; sparse matrices are used in CSC format. Computations are in float64 (float32
        input is converted). With ``fit_intercept``, dense data is centred
        (sample-weighted means) on a copy, an exact change of variables that keeps
        coordinate descent fast on non-centred features; sparse data is not centred (it
        would lose its sparsity).
    y : ndarray of shape (n_samples,)
        -1/+1 labels (``loss="logistic"``) or class indices 0..K-1 (``"multinomial"``).
    penalty : str or Penalty, default="l1"
        A name of :func:`sparsopt.penalties.get_penalty` (built with ``alpha``) or a
        penalty object: any separable penalty (``L1``, ``ElasticNet``, ``L0``, ``Lq``,
        ``MCP``, ``SCAD``, ``Log``, ``CEL0``), optionally ``+ Positive()`` (or another
        box the penalty accepts); with ``loss="multinomial"`` also ``"group"``, the
        row-wise l2,1 norm, i.e. ``GroupL21(alpha, groups=K, weights=[1.0])`` (a
        ``GroupL21`` object must have one group holding all ``K`` classes; its weight
        multiplies ``alpha``), optionally ``+ Positive()``. Other penalties (KSupport,
        WGSEF, a group lasso over features) raise a ``TypeError`` pointing to
        :func:`~sparsopt.solvers.proximal_gradient`.
    alpha : float, default=1.0
        Penalty strength (``>= 0``), used when ``penalty`` is a name.
    loss : {"logistic", "multinomial"}, default="logistic"
    n_classes : int, default=None
        Number of classes K of the multinomial model (default ``max(y) + 1``).
    fit_intercept : bool, default=True
        Fit an unpenalised, unconstrained intercept (one per class for the multinomial
        model).
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative weights, rescaled to sum to ``n_samples``.
    init : ndarray or tuple, default=None
        Initial point: the coefficients, an array of shape ``(n_features,)`` (binary) or
        ``(n_features, K)`` (multinomial), or a tuple ``(coef, intercept)`` with
        ``intercept`` a float or an array of shape ``(K,)`` (either may be None). The
        coefficients are projected onto the penalty's constraint. Default: zero
        coefficients and the best intercept-only model (zero intercept when only the
        coefficients are given).
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
        ``callback(SolverState)`` after each outer iteration (``state.info`` holds the
        ``intercept``); returning True stops the run (``converged=False``,
        ``stopped_by="callback"``).
    engine : {"auto", "numpy", "numba"}, default=None
        Kernel backend of the coordinate-descent directions.

    Returns
    -------
    result : SolverResult
        ``x`` the coefficients, shape ``(n_features,)`` or ``(n_features, K)``;
        ``stop_crit`` the final KKT violation; ``info`` holds ``intercept`` (float or
        ``(K,)``), ``objective``, ``dual_gap``, ``n_pn_iter`` (Newton steps in all),
        ``ws_sizes``, ``stopped_by`` and ``criterion``. ``dual_gap`` is the duality gap of
        the final iterate for the problem in ``W`` with the intercept fixed at its
        returned value, for the convex penalties with a closed-form conjugate (l1,
        elastic net, group; free or under an orthant): the primal objective minus the
        Fenchel dual objective at the dual point built from the loss gradient at the
        margins, ``theta = c grad F(X W + b)``, with ``c <= 1`` the largest scale that
        makes it dual feasible (l1 and group; ``c = 1`` for the elastic net). It is
        ``>= 0`` up to rounding, bounds the suboptimality of ``W``, vanishes at the
        optimum and reuses the gradient of the last stopping test (no extra pass over
        ``X``). It is ``None`` for non-convex penalties (and boxes with finite non-zero
        bounds), whose runs stop at stationary points.

    Warns
    -----
    ConvergenceWarning
        Once, if ``max_iter`` outer iterations end with a violation above ``tol``.
    NonFiniteIterateWarning
        If an iterate became NaN or infinite: the run stops and returns the last finite
        iterate (coefficients, intercept and margins).

    Raises
    ------
    TypeError
        For a penalty the solver cannot handle (see ``penalty``).

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
    >>> from sparsopt.penalties import MCP, Positive
    >>> from sparsopt.solvers import prox_newton
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 20))
    >>> y = np.sign(X[:, 0] - X[:, 1] + 0.1 * rng.standard_normal(100))
    >>> res = prox_newton(X, y, alpha=0.05, tol=1e-8)
    >>> res.converged, np.flatnonzero(res.x).tolist()
    (True, [0, 1])
    >>> bool(0 <= res.info["dual_gap"] < 1e-8)
    True
    >>> pos = prox_newton(X, y, penalty=MCP(0.05, gamma=3.0) + Positive(), tol=1e-8)
    >>> bool(pos.x.min() >= 0), float(pos.x[1])  # feature 1 has a negative effect
    (True, 0.0)
    >>> pos.info["dual_gap"] is None  # non-convex: a stationary point
    True
    """
    if loss not in ("logistic", "multinomial"):
        raise ValueError(f"{_OWNER}: loss must be 'logistic' or 'multinomial', got {loss!r}.")
    if ws_strategy not in ("subdiff", "fixpoint"):
        raise ValueError(f"{_OWNER}: ws_strategy must be 'subdiff' or 'fixpoint', got "
                         f"{ws_strategy!r}.")
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
    ops = _penalty_ops(penalty, alpha, multi, K, p)
    ops.p = p
    group = ops.group
    model = _Multi(y, sw, K) if multi else _Binary(y, sw)
    wshape = (p, K) if multi else (p,)
    nb = K if multi else 1

    W, b = _check_init(init, wshape, nb, ops.lower, ops.upper)
    coef_given = W is not None
    if W is None:
        W = np.zeros(wshape)
    if not fit_intercept:
        b = np.zeros(nb)
    elif b is None:
        b = np.zeros(nb) if coef_given else model.intercept0()

    # with an intercept, work on (sample-weighted) centred columns when X is dense: an exact
    # change of variables (b' = b + mean @ W) that removes the coupling of the intercept with
    # non-centred features, which makes coordinate descent on the Newton model crawl
    x_mean = None
    if fit_intercept and not sparse:
        x_mean = sw @ X
        X = np.asfortranarray(X - x_mean)
        b = b + x_mean @ W

    kname = ("pn_cd_multi_" if multi else "pn_cd_binary_") + ("csc" if sparse else "dense")
    backend = resolve_backend(kname, W, engine=engine)
    kernel = get_kernel(kname, backend)
    fixpoint = get_kernel("pn_fixpoint", backend)
    kind, params, lower, upper = ops.kind, ops.params, ops.lower, ops.upper

    # the fixed-point scores replace the subdifferential distance where it has no closed
    # form (-1) and where the limiting subdifferential at 0 is the whole line (l0, l1/2,
    # l2/3: every zero entry would look stationary and never enter a working set)
    use_fix = not group and float(subdiff_distance(
        kind, np.zeros(1), np.full(1, 1e300), params, -np.inf, np.inf)[0]) <= 0.0
    ops.use_fix = use_fix
    X2 = None
    if ws_strategy == "fixpoint" or use_fix:
        X2 = X.multiply(X).tocsc() if sparse else X * X
    # curvature bound of the fixed-point scores where the subdifferential has no closed form
    lip0 = None if X2 is None else 0.25 * np.asarray(X2.T @ sw)

    def fix_scores(Wv, Gv, L, rows):
        """Fixed-point violations per entry of the features ``rows`` (``L`` of shape
        ``(m,)`` or like ``Wv``)."""
        Lf = np.broadcast_to(L[:, None] if (Wv.ndim == 2 and L.ndim == 1) else L, Wv.shape)
        a = ops.avec[rows]
        a = np.broadcast_to(a[:, None] if Wv.ndim == 2 else a, Wv.shape)
        out = np.empty(Wv.size)
        fixpoint(kind, params, lower, upper, np.ascontiguousarray(a).ravel(),
                 np.ascontiguousarray(Wv).ravel(), np.ascontiguousarray(Gv).ravel(),
                 np.ascontiguousarray(Lf, dtype=np.float64).ravel(), out)
        return out.reshape(Wv.shape)

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
        if group:
            return _group_fixpoint_scores(s.x, s.G, L, ops.alpha, lower, upper)
        out = fix_scores(s.x, s.G, L, slice(None))
        return out.max(axis=1) if out.ndim == 2 else out

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

    def scores_at(Wv, Gv, rows):
        return ops.scores(Wv, Gv, lambda: fix_scores(Wv, Gv, lip0[rows], rows))

    def evaluate(s):
        """Full gradient, scores and KKT violation at the current point."""
        R = model.raw_grad(s.Z)
        s.R = R
        s.G = rmatvec(X, R)
        s.scores = scores_at(s.x, s.G, slice(None))
        crit = float(s.scores.max(initial=0.0))
        if fit_intercept:
            crit = max(crit, float(np.abs(R.sum(axis=0)).max()))
        s.crit = crit
        return crit

    def objective(s):
        return model.loss(s.Z) + ops.value(s.x)

    def line_search(s, ws, D, M):
        """Step ``t`` with guaranteed decrease; updates ``x``, ``b``, ``Z`` in place."""
        Wws = s.x[ws]
        Dw = D[:-1]
        t = 1.0
        for _ in range(MAX_BACKTRACK):
            Zt = s.Z + t * M
            val = ops.change(Wws, Dw, t) + t * float(np.sum(model.raw_grad(Zt) * M))
            if val < 0:
                break
            t *= 0.5
        else:
            # no step met the test: accept the full step if it decreases the objective (a
            # discontinuous penalty, l0 or lq, jumps by the same amount for every t > 0),
            # else the smallest step if it does not hurt (a rounding-level direction)
            loss0 = model.loss(s.Z)
            Zt = s.Z + M
            if model.loss(Zt) - loss0 + ops.change(Wws, Dw, 1.0) < 0:
                t = 1.0
            else:
                Zt = s.Z + t * M
                if model.loss(Zt) - loss0 + ops.change(Wws, Dw, t) > 0:
                    return 0.0
        s.x[ws] = Wws + t * Dw
        if fit_intercept:
            s.b += t * D[-1]
        s.Z = Zt
        return t

    def step(s):
        scores = np.array(rank_scores(s), dtype=np.float64)
        supp = _support(s.x)
        ws_size = max(min(p0, p), min(p, 2 * int(supp.sum())))
        scores[supp] = np.inf
        if ws_size < p:
            ws = np.sort(np.argpartition(scores, -ws_size)[-ws_size:])
        else:
            ws = np.arange(p)
        ops.ws = ws
        s.ws_sizes.append(int(ws.size))
        tol_in = EPS_TOL * s.crit
        Xws = _sub(X, ws, sparse)
        m = ws.size
        G_ws = s.G[ws]
        a_ws = np.ascontiguousarray(ops.avec[ws])
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
            R = model.raw_grad(s.Z)
            if pn > 0:
                G_ws = rmatvec(Xws, R)
            g_int = R.sum(axis=0)
            crit_in = float(scores_at(s.x[ws], G_ws, ws).max(initial=0.0))
            if fit_intercept:
                crit_in = max(crit_in, float(np.max(np.abs(g_int))))
            if crit_in <= tol_in:
                break
            curv = model.curvature(s.Z)
            W_ws = np.ascontiguousarray(s.x[ws])
            if multi:
                kernel(*xargs, *curv, G_ws, W_ws, kind, params, lower, upper, a_ws, group,
                       fit_intercept, g_int, max_cd_epochs, EPS_TOL * tol_in, D, M, sbuf)
            else:
                kernel(*xargs, *curv, G_ws, W_ws, kind, params, lower, upper, a_ws,
                       fit_intercept, float(g_int), max_cd_epochs, EPS_TOL * tol_in, D, M)
            s.n_pn += 1
            if not np.any(D):
                break
            if line_search(s, ws, D, M) == 0.0:
                break

    def snapshot(s):
        return s.x.copy(), s.b.copy(), s.Z.copy()

    mon = LoopMonitor(
        _OWNER, max_iter=max_iter, tol=tol, callback=callback, verbose=verbose,
        criterion="max KKT violation (distance of the gradient to the subdifferential)",
        hint="the working-set problems are solved to 0.3 x the violation; raise "
             "max_pn_iter if it stalls", x0=W, keep_finite=False)  # own snapshot: `good`
    evaluate(st)
    good = snapshot(st)
    for it in range(1, mon.max_iter + 1):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if st.crit > tol:
                step(st)
            crit = evaluate(st)
            finite = all_finite((st.x, st.b, st.Z)) and np.isfinite(crit)
            obj = objective(st) if finite else np.nan
        if not finite:
            # roll back the coefficients, the intercept AND the cached margins (and the
            # gradient of the stopping test), so that the result is consistent
            st.x, st.b, st.Z = good
            evaluate(st)
            mon.n_iter, mon.stopped_by = it, "nonfinite"
            break
        b_now = st.b - x_mean @ st.x if x_mean is not None else st.b
        if mon.check(it, st.x, crit, obj, finite=True,
                     intercept=b_now.copy() if multi else float(b_now[0])):
            break
        good = snapshot(st)
    res = mon.result(st.x, stacklevel=2)
    b_out = st.b - x_mean @ st.x if x_mean is not None else st.b
    intercept = b_out.copy() if multi else float(b_out[0])
    primal = objective(st)
    # the gap of the problem in W with the intercept fixed at b_out, in the original
    # (uncentred) variables: X^T R = Xc^T R + x_mean (1^T R). The last stopping test ran
    # at the final iterate, so its gradient X^T R is reused (no extra pass over X).
    R, G = st.R, st.G
    if x_mean is not None:
        G = G + (np.outer(x_mean, R.sum(axis=0)) if multi else x_mean * R.sum())
    gap = ops.dual_gap(model, st.Z, R, G, b_out, primal)
    if gap is not None and not np.isfinite(gap):
        gap = np.inf
    return res.with_info(intercept=intercept, objective=primal, dual_gap=gap,
                         n_pn_iter=st.n_pn, ws_sizes=tuple(st.ws_sizes), backend=backend,
                         ws_strategy=ws_strategy)
