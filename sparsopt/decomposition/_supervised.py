"""Supervised dictionary learning (supervised matrix factorization, Lee, Lyu & Yao).

A dictionary ``W`` (``components_``), codes ``H`` and a multinomial logistic classifier
are learned jointly, so that the dictionary both reconstructs the data and carries the
directions that predict the label. Two models:

* ``mode="filter"`` (SMF-W): the classifier reads the projections ``x W`` of a sample
  onto the atoms, ``logits = beta W^T x + gamma [1; z]``;
* ``mode="feature"`` (SMF-H): the classifier reads the sample's codes ``h``,
  ``logits = beta h + gamma [1; z]``;

both with the reconstruction term ``xi ||X - H W||_F^2``. Auxiliary covariates ``z``
(columns of ``X`` named by ``aux_features``) enter the classifier only.

Two solvers: block coordinate descent on the factors (``"bcd"``) and low-rank
projected gradient descent on the lifted convex problem (``"lpgd"``), warm-started
from a few BCD sweeps.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.optimize import minimize
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from .._core.loop import LoopMonitor
from ..exceptions import ConvergenceWarning
from ..losses import Multinomial
from ..penalties import get_penalty
from ..utils.estimator import SparsoptEstimatorMixin
from ..utils.validation import check_int, check_scalar
from ._encode import sparse_encode

_OWNER = "supervised_dictionary_learning"
MODES = ("filter", "feature")
SOLVERS = ("bcd", "lpgd")
_N_INNER = 5  # projected-gradient sub-steps per block (dictionary; feature-mode codes)
_CLF_MAXITER = 50  # L-BFGS iterations of the classifier block per BCD sweep
_MULTINOMIAL = Multinomial()


# ---------------------------------------------------------------------------------------
# validation helpers
# ---------------------------------------------------------------------------------------


def _split_features(aux_features, n_features, owner=_OWNER):
    """Indices of the dictionary columns and of the auxiliary columns of ``X``."""
    all_idx = np.arange(n_features)
    if aux_features is None:
        return all_idx, all_idx[:0]
    if isinstance(aux_features, str):
        raise TypeError(f"{owner}: aux_features must be column indices or a boolean mask, "
                        f"got the string {aux_features!r}.")
    arr = np.asarray(aux_features)
    if arr.ndim != 1:
        raise ValueError(f"{owner}: aux_features must be 1-D (indices or a boolean mask), "
                         f"got shape {arr.shape}.")
    if arr.dtype == bool:
        if arr.shape[0] != n_features:
            raise ValueError(f"{owner}: the boolean mask aux_features has {arr.shape[0]} "
                             f"entries but X has {n_features} features.")
        aux = all_idx[arr]
    elif arr.size == 0:
        aux = all_idx[:0]
    elif arr.dtype.kind in "iu":
        if np.any(arr >= n_features) or np.any(arr < -n_features):
            raise ValueError(f"{owner}: aux_features has indices out of range for X with "
                             f"{n_features} features: {arr.tolist()}.")
        aux = np.where(arr < 0, arr + n_features, arr).astype(np.intp)
        if np.unique(aux).size != aux.size:
            raise ValueError(f"{owner}: aux_features has repeated columns: {arr.tolist()}.")
    else:
        raise TypeError(f"{owner}: aux_features must hold integer column indices or be a "
                        f"boolean mask, got dtype {arr.dtype}.")
    dict_idx = np.setdiff1d(all_idx, aux)
    if dict_idx.size == 0:
        raise ValueError(f"{owner}: aux_features selects all {n_features} columns of X; at "
                         "least one column must be left for the dictionary.")
    return dict_idx, np.sort(aux)


def _check_solver_options(mode, solver, alpha_code, alpha_dict, positive_code, positive_dict,
                          xi, owner=_OWNER):
    if mode not in MODES:
        raise ValueError(f"{owner}: mode must be one of {MODES}, got {mode!r}.")
    if solver not in SOLVERS:
        raise ValueError(f"{owner}: solver must be one of {SOLVERS}, got {solver!r}.")
    if solver == "lpgd":
        for name, bad in (("alpha_code", alpha_code > 0), ("alpha_dict", alpha_dict > 0),
                          ("positive_code", positive_code), ("positive_dict", positive_dict)):
            if bad:
                raise ValueError(
                    f"{owner}: solver='lpgd' solves the lifted problem, which has no l1 or "
                    f"sign constraint on the factors; {name} needs solver='bcd'.")
    if mode == "feature" and xi == 0:
        raise ValueError(f"{owner}: mode='feature' needs xi > 0 (the codes of new samples "
                         "come from the reconstruction term); got xi=0.")


def _check_feature_rank(mode, alpha_code, n_components, n_dict, owner=_OWNER):
    if mode == "feature" and alpha_code == 0 and n_components > n_dict:
        raise ValueError(
            f"{owner}: mode='feature' with alpha_code=0 needs n_components <= the number of "
            f"dictionary features (here n_features = {n_dict}, n_components = "
            f"{n_components}): the least-squares codes of new samples are not unique "
            "otherwise. Lower n_components or set alpha_code > 0.")


# ---------------------------------------------------------------------------------------
# the classification loss (multinomial logistic, class 0 as reference)
# ---------------------------------------------------------------------------------------


def _logistic(S, yidx):
    """Loss ``sum_i l(y_i, s_i)`` and probabilities of classes 1..K-1.

    ``S`` has shape (n, K-1): the logits of classes 1..K-1; class 0 has logit 0. For
    two classes this is ``log(1 + e^s) - y s``. The loss and its gradient are those of
    :class:`sparsopt.losses.Multinomial` on the logits ``[0, S]``.
    """
    n = S.shape[0]
    Z = np.empty((n, S.shape[1] + 1))
    Z[:, 0] = 0.0
    Z[:, 1:] = S
    P = _MULTINOMIAL.grad(yidx, Z)[:, 1:]  # softmax - one-hot, classes 1..K-1
    pos = np.flatnonzero(yidx > 0)
    P[pos, yidx[pos] - 1] += 1.0
    return float(_MULTINOMIAL.value(yidx, Z)), P


def _one_hot(yidx, n_classes):
    Y = np.zeros((yidx.shape[0], n_classes - 1))
    pos = yidx > 0
    Y[np.flatnonzero(pos), yidx[pos] - 1] = 1.0
    return Y


def _curvature(n_classes):
    """Bound on the Hessian of the logistic loss in the logits (Boehning's bound)."""
    return 0.25 if n_classes == 2 else 0.5


class _Data:
    """The training problem in scikit-learn layout, in float64."""

    def __init__(self, Xd, Z, yidx, n_classes, xi, nu, alpha_code, alpha_dict,
                 positive_code, positive_dict):
        self.Xd = Xd                                   # (n, p) dictionary features
        self.Z1 = np.hstack([np.ones((Xd.shape[0], 1)), Z])  # (n, 1 + q) classifier-only
        self.yidx = yidx
        self.Y = _one_hot(yidx, n_classes)             # (n, K-1)
        self.k = n_classes - 1
        self.c = _curvature(n_classes)
        self.xi, self.nu = xi, nu
        self.alpha_code, self.alpha_dict = alpha_code, alpha_dict
        self.positive_code, self.positive_dict = positive_code, positive_dict
        self.gmask = np.ones(self.Z1.shape[1])
        self.gmask[0] = 0.0                            # the intercept is not penalized
        self._xd_norm2 = None

    @property
    def xd_norm2(self):
        if self._xd_norm2 is None:
            self._xd_norm2 = float(np.linalg.norm(self.Xd, 2) ** 2)
        return self._xd_norm2


# ---------------------------------------------------------------------------------------
# block coordinate descent on the factors
# ---------------------------------------------------------------------------------------


def _logits(data, mode, D, C, beta, gam):
    F = data.Xd @ D.T if mode == "filter" else C
    return F @ beta.T + data.Z1 @ gam.T


def _factor_objective(data, mode, D, C, beta, gam):
    loss, _ = _logistic(_logits(data, mode, D, C, beta, gam), data.yidx)
    rec = data.xi * float(np.sum((data.Xd - C @ D) ** 2)) if data.xi else 0.0
    reg = (data.alpha_code * float(np.abs(C).sum()) + data.alpha_dict * float(np.abs(D).sum())
           + 0.5 * data.nu * float(np.sum(beta ** 2) + np.sum((gam * data.gmask) ** 2)))
    return loss + rec + reg


def _prox(V, thresh, positive):
    """Prox of ``thresh * ||.||_1`` (plus the non-negativity constraint): the prox of
    ``get_penalty("l1", positive=positive)`` with step ``thresh``."""
    if thresh > 0:
        return get_penalty("l1", alpha=1.0, positive=positive).prox(V, thresh,
                                                                    check_finite=False)
    return np.maximum(V, 0.0) if positive else V


def _unit_ball_rows(D):
    """Project every atom (row) onto the unit l2 ball."""
    norms = np.linalg.norm(D, axis=1)
    return D / np.maximum(norms, 1.0)[:, None]


def _fit_classifier(data, F, beta, gam):
    """Minimize the logistic loss (plus ridge) over (beta, gamma) with L-BFGS, warm-started.

    L-BFGS accepts only steps that decrease the objective, so the block never goes up.
    """
    M = np.hstack([F, data.Z1])
    k, r = beta.shape
    mask = np.concatenate([np.ones(r), data.gmask])

    def fun(theta):
        T = theta.reshape(k, -1)
        val, P = _logistic(M @ T.T, data.yidx)
        TM = T * mask
        grad = (P - data.Y).T @ M + data.nu * TM
        return val + 0.5 * data.nu * float(np.sum(TM * T)), grad.ravel()

    theta0 = np.hstack([beta, gam]).ravel()
    f0, _ = fun(theta0)
    res = minimize(fun, theta0, jac=True, method="L-BFGS-B",
                   options={"maxiter": _CLF_MAXITER, "gtol": 1e-8, "ftol": 1e-12})
    if not np.all(np.isfinite(res.x)) or not res.fun <= f0:
        return beta, gam
    T = res.x.reshape(k, -1)
    return T[:, :r].copy(), T[:, r:].copy()


def _dict_step(data, mode, D, C, beta, gam, eta):
    """``_N_INNER`` projected-gradient steps of step ``eta / L`` on the dictionary."""
    xi = data.xi
    CtC = C.T @ C
    CtX = C.T @ data.Xd
    L = 2.0 * xi * float(np.linalg.norm(CtC, 2))
    if mode == "filter":
        L += data.c * float(np.linalg.norm(beta, 2) ** 2) * data.xd_norm2
    if not L > 0:
        return D
    step = eta / L
    for _ in range(_N_INNER):
        G = 2.0 * xi * (CtC @ D - CtX)
        if mode == "filter":
            _, P = _logistic(_logits(data, mode, D, C, beta, gam), data.yidx)
            G += beta.T @ (P - data.Y).T @ data.Xd
        D = _unit_ball_rows(_prox(D - step * G, step * data.alpha_dict, data.positive_dict))
    return D


def _code_step(data, mode, D, C, beta, gam, eta):
    """Codes: an exact solve (filter mode) or proximal-gradient steps (feature mode)."""
    xi = data.xi
    if mode == "filter":
        if xi == 0:
            return C  # the codes do not enter the objective except through alpha_code
        if data.alpha_code == 0 and not data.positive_code:
            return np.linalg.lstsq(D.T, data.Xd.T, rcond=None)[0].T
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            # 1/2 ||x - c D||^2 + a |c|_1  is the objective divided by 2 xi
            return sparse_encode(data.Xd, D, penalty="l1", alpha=data.alpha_code / (2 * xi),
                                 solver="cd", init=C, positive=data.positive_code,
                                 max_iter=100, tol=1e-6)
    DDt = D @ D.T
    XDt = data.Xd @ D.T
    L = 2.0 * xi * float(np.linalg.norm(DDt, 2)) + data.c * float(np.linalg.norm(beta, 2) ** 2)
    if not L > 0:
        return C
    step = eta / L
    for _ in range(_N_INNER):
        _, P = _logistic(C @ beta.T + data.Z1 @ gam.T, data.yidx)
        G = 2.0 * xi * (C @ DDt - XDt) + (P - data.Y) @ beta
        C = _prox(C - step * G, step * data.alpha_code, data.positive_code)
    return C


def _svd_atoms(M, n_atoms):
    """Top right singular vectors of ``M`` (rows), sign-normalized; fewer if rank-deficient."""
    if n_atoms <= 0:
        return np.zeros((0, M.shape[1]))
    _, s, Vt = np.linalg.svd(M, full_matrices=False)
    keep = int(min(n_atoms, np.sum(s > s[0] * 1e-10))) if s.size and s[0] > 0 else 0
    return Vt[:keep]


def _complete_atoms(D, n_components, p, random_state):
    """Random unit atoms beyond the given ones, a sign convention, unit norms."""
    if D.shape[0] < n_components:
        rng = check_random_state(random_state)
        D = np.vstack([D, rng.standard_normal((n_components - D.shape[0], p))])
    signs = np.sign(D[np.arange(n_components), np.argmax(np.abs(D), axis=1)])
    D = D * np.where(signs == 0, 1.0, signs)[:, None]
    return D / np.maximum(np.linalg.norm(D, axis=1), 1e-12)[:, None]


def _supervised_atoms(data, n_components):
    """Span of the ridge-logistic weight vectors on X_d, then leading singular vectors of
    X_d in its orthogonal complement."""
    p = data.Xd.shape[1]
    nu0 = data.nu if data.nu > 0 else 1.0
    sub = _Data(data.Xd, data.Z1[:, 1:], data.yidx, data.k + 1, 0.0, nu0, 0.0, 0.0,
                False, False)
    w, _ = _fit_classifier(sub, data.Xd, np.zeros((data.k, p)),
                           np.zeros((data.k, data.Z1.shape[1])))
    Q = _svd_atoms(w, min(n_components, data.k))          # orthonormal rows
    rest = data.Xd - (data.Xd @ Q.T) @ Q
    return np.vstack([Q, _svd_atoms(rest, n_components - Q.shape[0])])


def _init_factors(data, mode, n_components, random_state, init="auto"):
    """Starting point: the better (lower objective) of two dictionaries.

    The leading right singular vectors of X_d (the unsupervised start), and the span of
    the ridge-logistic directions completed by singular vectors. From the unsupervised
    start the classifier weights, and hence the dictionary's gradient towards the
    discriminative directions, are near zero (a saddle the BCD leaves only slowly).
    """
    p = data.Xd.shape[1]
    best = None
    for name in ("svd", "supervised"):
        if init not in ("auto", name):
            continue
        if name == "svd":
            atoms = _svd_atoms(data.Xd, n_components)
        else:
            atoms = _supervised_atoms(data, n_components)
        D = _complete_atoms(atoms, n_components, p, random_state)
        if data.positive_dict:
            D = np.abs(D)
        C = np.linalg.lstsq(D.T, data.Xd.T, rcond=None)[0].T
        if data.positive_code:
            C = np.maximum(C, 0.0)
        k = data.k
        feats = data.Xd @ D.T if mode == "filter" else C
        beta, gam = _fit_classifier(data, feats, np.zeros((k, n_components)),
                                    np.zeros((k, data.Z1.shape[1])))
        F = _factor_objective(data, mode, D, C, beta, gam)
        if best is None or F < best[0]:
            best = (F, name, (D, C, beta, gam))
    return best[2], best[1]


def _bcd(data, mode, state, *, max_iter, tol, eta, step_decay, mon=None):
    """Block coordinate descent sweeps: classifier, dictionary, codes.

    With a :class:`~sparsopt._core.loop.LoopMonitor` every sweep is one check
    (callback, verbose, non-finite guard); without one (the warm start of ``"lpgd"``)
    the sweeps stop at ``tol`` or at a non-finite objective, silently.
    """
    D, C, beta, gam = state
    F_prev = _factor_objective(data, mode, D, C, beta, gam)
    if mon is not None:  # the starting point is the record of iteration 0
        mon.history.append({"iteration": 0, "objective": F_prev, "stop_crit": np.inf,
                            "time": mon.elapsed})
    it = 0
    for it in range(1, max_iter + 1):
        eta_t = eta * (it + 9.0) ** (-step_decay) if step_decay else eta
        feats = data.Xd @ D.T if mode == "filter" else C
        beta_n, gam_n = _fit_classifier(data, feats, beta, gam)
        D_n = _dict_step(data, mode, D, C, beta_n, gam_n, eta_t)
        C_n = _code_step(data, mode, D_n, C, beta_n, gam_n, eta_t)
        F = _factor_objective(data, mode, D_n, C_n, beta_n, gam_n)
        if not np.isfinite(F):
            if mon is not None:
                mon.check(it, D_n, np.nan)  # rolls back to the last finite iterate
            it -= 1
            break
        D, C, beta, gam = D_n, C_n, beta_n, gam_n
        crit = abs(F_prev - F) / max(abs(F), np.finfo(float).tiny)
        F_prev = F
        if mon is None:
            if crit <= tol:
                break
        elif mon.check(it, D, crit, F, step_scale=eta_t):
            break
    return (D, C, beta, gam), it


# ---------------------------------------------------------------------------------------
# low-rank projected gradient descent on the lifted problem
# ---------------------------------------------------------------------------------------


def _lifted_logits(data, mode, A, gam):
    return (data.Xd @ A if mode == "filter" else A) + data.Z1 @ gam.T


def _lifted_objective(data, mode, A, B, gam):
    loss, P = _logistic(_lifted_logits(data, mode, A, gam), data.yidx)
    rec = data.xi * float(np.sum((data.Xd - B) ** 2)) if data.xi else 0.0
    reg = 0.5 * data.nu * float(np.sum(A ** 2) + np.sum((gam * data.gmask) ** 2))
    return loss + rec + reg, P


def _stack(mode, A, B, s):
    # filter: [A, B] = W [beta^T, H] (paper layout) is [s A^T; B] = [s beta; C] D here
    # feature: [A; B] = [beta; W] H is [s A, B] = C [s beta^T, D] here (A = C beta^T)
    return np.vstack([s * A.T, B]) if mode == "filter" else np.hstack([s * A, B])


def _unstack(mode, T, k, s):
    if mode == "filter":
        return T[:k].T / s, T[k:]
    return T[:, :k] / s, T[:, k:]


def _truncate(T, r):
    """Best rank-``r`` approximation (Eckart-Young) and its factors."""
    U, sv, Vt = np.linalg.svd(T, full_matrices=False)
    U, sv, Vt = U[:, :r], sv[:r], Vt[:r]
    if sv.size < r:  # r exceeds a side of T: pad with zero factors (no constraint)
        m = r - sv.size
        U = np.hstack([U, np.zeros((U.shape[0], m))])
        sv = np.concatenate([sv, np.zeros(m)])
        Vt = np.vstack([Vt, np.zeros((m, Vt.shape[1]))])
    return (U * sv) @ Vt, U, sv, Vt


def _lifted_from_factors(mode, D, C, beta):
    A = D.T @ beta.T if mode == "filter" else C @ beta.T
    return A, C @ D


def _factors_from_lifted(data, mode, A, B, r, s):
    """Factor the rank-r lifted point back into (D, C, beta) with unit-norm atoms."""
    k = data.k
    T = _stack(mode, A, B, s)
    _, U, sv, Vt = _truncate(T, r)
    if mode == "filter":
        # [s beta; C] D = (U S) Vt: atoms are the (orthonormal) rows of Vt
        D = Vt
        US = U * sv
        beta, C = US[:k] / s, US[k:]
        flip = np.sign(D[np.arange(D.shape[0]), np.argmax(np.abs(D), axis=1)])
        flip = np.where(flip == 0, 1.0, flip)
        return D * flip[:, None], C * flip, beta * flip
    # C [s beta^T, D] = (U S) Vt: split Vt's columns, then give every atom unit norm
    C0 = U * sv
    Vb, Vd = Vt[:, :k], Vt[:, k:]
    d = np.linalg.norm(Vd, axis=1)
    d = np.where(d > 1e-12, d, 1.0)
    D = Vd / d[:, None]
    C = C0 * d
    beta = (Vb / (s * d[:, None])).T
    flip = np.sign(D[np.arange(D.shape[0]), np.argmax(np.abs(D), axis=1)])
    flip = np.where(flip == 0, 1.0, flip)
    return D * flip[:, None], C * flip, beta * flip


def _lpgd_steps(data, mode, block_scale, eta):
    """Step sizes (tau_A, tau_B, tau_gamma) and the block scale ``s``.

    In the scaled variable ``s A`` the lifted objective has block Lipschitz constants
    ``L_A / s^2`` and ``L_B = 2 xi``; one step ``tau_B = eta / max(L_B, L_A / s^2)``
    for both blocks (``tau_A = tau_B / s^2`` for ``A``) makes the rank-r SVD
    projection the exact minimizer of a quadratic majorizer, so with ``eta <= 1``
    the objective cannot increase. ``block_scale="auto"`` takes ``s^2 = L_A / L_B``:
    each block then moves with its own ``1/L`` step.
    """
    c, nu = data.c, data.nu
    Z1n = float(np.linalg.norm(data.Z1, 2) ** 2)
    if mode == "filter":
        # (A, gamma) jointly: the logits are [X, 1, Z] [A; gamma^T]
        L_A = c * float(np.linalg.norm(np.hstack([data.Xd, data.Z1]), 2) ** 2) + nu
        L_G = L_A
    else:
        # logits A + Z1 gamma^T: ||u + v||^2 <= 2||u||^2 + 2||v||^2 splits the blocks
        L_A = 2.0 * c + nu
        L_G = 2.0 * c * Z1n + nu
    L_B = 2.0 * data.xi
    if isinstance(block_scale, str):
        s = np.sqrt(L_A / L_B) if L_B > 0 else 1.0
    else:
        s = float(block_scale)
    tau_B = eta / max(L_B, L_A / s ** 2)
    return tau_B / s ** 2, tau_B, eta / L_G, s


def _lpgd(data, mode, r, state, *, eta, step_decay, block_scale, mon):
    D, C, beta, gam = state
    k = data.k
    A, B = _lifted_from_factors(mode, D, C, beta)
    tau_A, tau_B, tau_G, s = _lpgd_steps(data, mode, block_scale, eta)
    F, P = _lifted_objective(data, mode, A, B, gam)
    mon.history.append({"iteration": 0, "objective": F, "stop_crit": np.inf,
                        "stationarity": None, "time": mon.elapsed})
    stat = np.inf
    T_old = _stack(mode, A, B, s)
    for it in range(1, mon.max_iter + 1):
        dec = (it + 9.0) ** (-step_decay) if step_decay else 1.0
        R = P - data.Y
        gA = (data.Xd.T @ R if mode == "filter" else R) + data.nu * A
        gB = 2.0 * data.xi * (B - data.Xd)
        gG = R.T @ data.Z1 + data.nu * gam * data.gmask
        A_h = A - dec * tau_A * gA
        B_h = B - dec * tau_B * gB
        gam_n = gam - dec * tau_G * gG
        T_half = _stack(mode, A_h, B_h, s)
        if not (np.all(np.isfinite(T_half)) and np.all(np.isfinite(gam_n))):
            mon.check(it, T_half, np.nan)  # the last finite iterate is kept below
            break
        T_new = _truncate(T_half, r)[0]
        A_n, B_n = _unstack(mode, T_new, k, s)
        F_n, P_n = _lifted_objective(data, mode, A_n, B_n, gam_n)
        if not np.isfinite(F_n):
            mon.check(it, T_new, np.nan)
            break
        # norm of the projected-gradient mapping (in the scaled variables)
        stat = float(np.sqrt(np.sum((T_new - T_old) ** 2) / (dec * tau_B) ** 2
                             + np.sum((gam_n - gam) ** 2) / (dec * tau_G) ** 2))
        crit = abs(F - F_n) / max(abs(F_n), np.finfo(float).tiny)
        A, B, gam, F, P, T_old = A_n, B_n, gam_n, F_n, P_n, T_new
        if mon.check(it, T_new, crit, F, stationarity=stat, step_scale=eta * dec):
            break
    D, C, beta = _factors_from_lifted(data, mode, A, B, r, s)
    info = {"block_scale": s, "step_sizes": (tau_A, tau_B, tau_G), "stationarity": stat}
    return (D, C, beta, gam), info


# ---------------------------------------------------------------------------------------
# public function
# ---------------------------------------------------------------------------------------


def supervised_dictionary_learning(X, y, *, n_components, xi=1.0, mode="filter", solver="bcd",
                                   aux_features=None, alpha_code=0.0, alpha_dict=0.0,
                                   l2_reg=0.0, positive_code=False, positive_dict=False,
                                   max_iter=200, tol=1e-4, step_size="auto", step_decay=0.0,
                                   block_scale="auto", warm_start_iter=None, init="auto",
                                   random_state=None, callback=None, verbose=None):
    """Supervised matrix factorization: a dictionary learned jointly with a classifier.

    With ``X_d`` the dictionary columns of ``X``, ``z`` its auxiliary columns, codes
    ``H`` (one row per sample), atoms ``D`` (rows, ``W = D^T``) and a multinomial
    logistic model with class 0 as reference, minimizes

    ``sum_i l(y_i, s_i) + xi ||X_d - H D||_F^2 + alpha_code ||H||_1 + alpha_dict ||D||_1
    + l2_reg / 2 (||beta||^2 + ||gamma_aux||^2)``

    subject to ``||D_j||_2 <= 1`` (and signs if requested), where the logits are
    ``s_i = beta D x_i + gamma [1; z_i]`` (``mode="filter"``, SMF-W) or
    ``s_i = beta h_i + gamma [1; z_i]`` (``mode="feature"``, SMF-H). For two
    classes ``l(y, s) = log(1 + e^s) - y s``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Training data. Columns listed in ``aux_features`` go to the classifier only.
        ``xi`` is relative to the scale of ``X``: standardize it first.
    y : array-like of shape (n_samples,)
        Class labels (any type; at least two classes).
    n_components : int
        Number of atoms ``r``.
    xi : float, default=1.0
        Weight of the reconstruction term against the classification loss (``>= 0``;
        ``mode="feature"`` needs ``xi > 0``).
    mode : {"filter", "feature"}, default="filter"
        The classifier reads the projections ``X_d D^T`` (filter) or the codes (feature;
        needs ``n_components <= n_features_dict`` unless ``alpha_code > 0``, so that the
        least-squares codes of new samples are unique).
    solver : {"bcd", "lpgd"}, default="bcd"
        ``"bcd"``: block coordinate descent over (classifier by L-BFGS, dictionary by
        projected gradient, codes). ``"lpgd"``: projected gradient on the lifted convex
        problem in ``A = W beta^T`` (filter) or ``A = beta H`` (feature) and
        ``B = W H`` under ``rank [A, B] <= r`` (exact truncated SVD), warm-started from
        ``warm_start_iter`` BCD sweeps. It penalizes ``l2_reg / 2 ||A||^2`` instead of
        ``||beta||^2`` and has no ``alpha_*`` or ``positive_*`` options.
    aux_features : array-like of int or bool, default=None
        Column indices (negative allowed) or a boolean mask of ``X`` routed only to the
        classifier.
    alpha_code, alpha_dict : float, default=0.0
        l1 weights on the codes and on the atoms (``"bcd"`` only).
    l2_reg : float, default=0.0
        Ridge weight of the classifier coefficients (the intercept is not penalized).
        With ``0`` and separable classes the coefficients grow until ``max_iter``.
    positive_code, positive_dict : bool, default=False
        Non-negative codes / atoms (``"bcd"`` only).
    max_iter : int, default=200
        Maximum number of BCD sweeps or LPGD steps.
    tol : float, default=1e-4
        Stop when the relative change of the objective in one iteration,
        ``|F_{t-1} - F_t| / |F_t|``, is at most ``tol``.
    step_size : "auto" or float, default="auto"
        Multiplier ``eta`` of the ``1/L`` gradient steps (``"auto"`` is ``1.0``): the
        dictionary and feature-mode code blocks in BCD, every block in LPGD. With
        ``eta <= 1`` every step decreases the objective.
    step_decay : float, default=0.0
        ``beta >= 0``: the step of iteration ``t = 0, 1, ...`` is
        ``eta (t + 10)^(-beta) / L`` (not compounded across iterations).
    block_scale : "auto" or float, default="auto"
        LPGD only: the rank-r projection acts on ``[s A, B]``. The singular values of
        ``B ~ X_d`` (about ``sigma_k sqrt(n)``) otherwise swamp ``A``'s column and the
        iterates stay at the PCA dictionary. ``"auto"`` takes ``s^2 = L_A / L_B`` (each
        block moves with its own ``1/L`` step); ``1.0`` is the unscaled problem with one
        step ``1 / max(L_A, 2 xi)``.
    warm_start_iter : int, default=None
        LPGD only: BCD sweeps before the lifted iterations (default
        ``min(20, max_iter)``; ``0`` starts the lifted iterations at the initial point).
    init : {"auto", "svd", "supervised"}, default="auto"
        Initial dictionary: the leading right singular vectors of ``X_d``
        (``"svd"``), the span of the ridge-logistic weight vectors on ``X_d``
        completed by singular vectors of the rest (``"supervised"``), or whichever of
        the two has the lower objective once the classifier is fitted (``"auto"``).
        From ``"svd"`` the classifier weights, and with them the pull of the
        dictionary towards a weak discriminative direction, start near zero: the
        iterates can stay at the PCA dictionary for many iterations.
    random_state : int, RandomState instance or None, default=None
        Seeds the atoms beyond the rank of ``X_d`` (the others come from its SVD).
    callback : callable or None, default=None
        ``callback(state)`` with a :class:`~sparsopt.solvers.SolverState` after every
        iteration: ``x`` is the dictionary for ``"bcd"`` and the stacked lifted iterate
        ``[s A, B]`` for ``"lpgd"`` (the factors are extracted at the end only),
        ``objective`` and ``stop_crit`` as in ``history``, ``info["step_scale"]`` (and
        ``info["stationarity"]`` for ``"lpgd"``). Returning True stops
        (``converged=False``, ``stopped_by == "callback"``).
    verbose : int, bool or None, default=None
        One line per iteration when > 0; ``None`` reads :func:`sparsopt.get_config`.

    Returns
    -------
    result : SolverResult
        ``x``: the atoms ``D = W^T`` of shape (n_components, n_features_dict) (unit l2
        norm or less; orthonormal with ``"lpgd"``); ``n_iter``, ``converged``,
        ``stop_crit`` and ``history`` (one record per iteration with ``objective``: the
        factorized objective for ``"bcd"``, the lifted one for ``"lpgd"``, starting from
        the initial point), and ``info`` with
        ``coef`` (n_classes - 1, n_components), ``intercept`` (n_classes - 1,),
        ``aux_coef`` (n_classes - 1, n_aux), ``classes``, ``codes`` (n_samples,
        n_components), ``dict_features``, ``aux_features``, and for LPGD
        ``block_scale``, ``step_sizes``, ``stationarity`` (norm of the
        projected-gradient mapping at the last step) and ``n_iter_warm_start``.
        ``x, result = supervised_dictionary_learning(...)`` unpacks.

    Warns
    -----
    ConvergenceWarning
        When ``max_iter`` is reached before the objective criterion meets ``tol``.

    Notes
    -----
    LPGD's exponential-convergence guarantee [2]_ needs restricted strong convexity
    and smoothness of the lifted objective; with ``xi * n_features`` much larger than
    the logistic curvature it does not hold, and the starting point matters (hence the
    BCD warm start and ``init="auto"``). Each iteration costs one thin SVD of an
    ``(n_samples + n_classes - 1) x n_features_dict`` matrix.

    In feature mode the codes of new samples come from the reconstruction term alone,
    while the training codes also fit the labels: with a small ``xi`` the training
    codes can absorb the labels, and the filter mode usually generalizes better.

    All computations run in float64; float32 data gives float32 results.

    References
    ----------
    .. [1] J. Lee, H. Lyu and W. Yao, "Supervised matrix factorization: local landscape
       analysis and applications", ICML 2024 (arXiv:2206.06774).
    .. [2] J. Lee, H. Lyu and W. Yao, "Exponentially convergent algorithms for
       supervised matrix factorization", NeurIPS 2023 (arXiv:2311.11182).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.decomposition import supervised_dictionary_learning
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 5))
    >>> y = (X[:, 0] + 0.1 * rng.normal(size=60) > 0).astype(int)
    >>> D, res = supervised_dictionary_learning(X, y, n_components=2, xi=0.1)
    >>> D.shape, res.info["coef"].shape, bool(res.history[-1]["objective"]
    ...                                       <= res.history[0]["objective"])
    ((2, 5), (1, 2), True)
    """
    owner = _OWNER
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"{owner}: X must be 2-D (n_samples, n_features), got shape "
                         f"{X.shape}.")
    if X.dtype.kind not in "fiub":
        raise TypeError(f"{owner}: X must be numeric, got dtype {X.dtype}.")
    out_dtype = np.float32 if X.dtype == np.float32 else np.float64
    X = X.astype(np.float64, copy=False)
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{owner}: X contains NaN or infinity; remove or impute them first.")
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"{owner}: y must be 1-D with one label per row of X; got shape "
                         f"{y.shape} for X of shape {X.shape}.")
    n_components = check_int(n_components, "n_components", owner, lower=1)
    xi = check_scalar(xi, "xi", owner, lower=0.0)
    alpha_code = check_scalar(alpha_code, "alpha_code", owner, lower=0.0)
    alpha_dict = check_scalar(alpha_dict, "alpha_dict", owner, lower=0.0)
    nu = check_scalar(l2_reg, "l2_reg", owner, lower=0.0)
    max_iter = check_int(max_iter, "max_iter", owner, lower=1)
    tol = check_scalar(tol, "tol", owner, lower=0.0)
    step_decay = check_scalar(step_decay, "step_decay", owner, lower=0.0)
    if isinstance(step_size, str):
        if step_size != "auto":
            raise ValueError(f"{owner}: step_size must be 'auto' or a positive float, got "
                             f"{step_size!r}.")
        eta = 1.0
    else:
        eta = check_scalar(step_size, "step_size", owner, lower=0.0, lower_inclusive=False)
    if isinstance(block_scale, str):
        if block_scale != "auto":
            raise ValueError(f"{owner}: block_scale must be 'auto' or a positive float, got "
                             f"{block_scale!r}.")
    else:
        block_scale = check_scalar(block_scale, "block_scale", owner, lower=0.0,
                                   lower_inclusive=False)
    _check_solver_options(mode, solver, alpha_code, alpha_dict, positive_code, positive_dict,
                          xi)
    if warm_start_iter is None:
        warm_start_iter = min(20, max_iter)
    warm_start_iter = check_int(warm_start_iter, "warm_start_iter", owner, lower=0)
    if init not in ("auto", "svd", "supervised"):
        raise ValueError(f"{owner}: init must be 'auto', 'svd' or 'supervised', got {init!r}.")
    dict_idx, aux_idx = _split_features(aux_features, X.shape[1])
    _check_feature_rank(mode, alpha_code, n_components, dict_idx.size)
    classes, yidx = np.unique(y, return_inverse=True)
    if classes.size < 2:
        raise ValueError(f"{owner}: y has {classes.size} class; a classifier needs samples of "
                         "at least 2 classes.")

    data = _Data(X[:, dict_idx], X[:, aux_idx], yidx.ravel(), classes.size, xi, nu,
                 alpha_code, alpha_dict, bool(positive_code), bool(positive_dict))
    name = f"{owner} (solver={solver!r})"
    if callback is not None and not callable(callback):
        raise TypeError(f"{owner}: callback must be callable or None, got {callback!r}.")
    # overflow is caught by the monitor (roll back to the last finite iterate), not warned
    with np.errstate(over="ignore", invalid="ignore"):
        state, init_name = _init_factors(data, mode, n_components, random_state, init)
        info = {"init": init_name}
        if solver == "bcd":
            mon = LoopMonitor(name, max_iter=max_iter, tol=tol, callback=callback,
                              verbose=verbose, criterion="relative objective change",
                              hint="if the objective oscillates, lower step_size", x0=state[0])
            state, _ = _bcd(data, mode, state, max_iter=max_iter, tol=tol, eta=eta,
                            step_decay=step_decay, mon=mon)
        else:
            n_warm = 0
            if warm_start_iter:
                state, n_warm = _bcd(data, mode, state, max_iter=warm_start_iter, tol=tol,
                                     eta=min(eta, 1.0), step_decay=0.0)
            mon = LoopMonitor(name, max_iter=max_iter, tol=tol, callback=callback,
                              verbose=verbose, criterion="relative objective change",
                              hint="if the objective oscillates, lower step_size",
                              keep_finite=False, x0=())
            state, lp_info = _lpgd(data, mode, n_components, state, eta=eta,
                                   step_decay=step_decay, block_scale=block_scale, mon=mon)
            info.update(lp_info, n_iter_warm_start=n_warm)
    D, C, beta, gam = state
    info.update(coef=beta.astype(out_dtype), intercept=gam[:, 0].astype(out_dtype),
                aux_coef=gam[:, 1:].astype(out_dtype), classes=classes,
                codes=C.astype(out_dtype), dict_features=dict_idx, aux_features=aux_idx,
                objective_kind="factorized" if solver == "bcd" else "lifted")
    D_out = np.ascontiguousarray(D, dtype=out_dtype)
    # the factors kept by the loops are the last finite ones; the monitor's ``x`` (the
    # lifted iterate for "lpgd") is replaced by the dictionary
    res = mon.result(D_out, stacklevel=2, **info)
    fields = res._fields()
    fields["x"] = D_out
    return type(res)(**fields)


# ---------------------------------------------------------------------------------------
# estimator
# ---------------------------------------------------------------------------------------


class SupervisedDictionaryLearning(SparsoptEstimatorMixin, ClassNamePrefixFeaturesOutMixin,
                                   ClassifierMixin, TransformerMixin, BaseEstimator):
    """Supervised dictionary learning: a dictionary and a classifier fitted jointly.

    Supervised matrix factorization [1]_ [2]_: the atoms must both reconstruct the
    data (weight ``xi``) and carry the directions that predict the label through a
    multinomial logistic model, so that a weak discriminative direction that PCA or
    unsupervised dictionary learning would drop is kept. See
    :func:`supervised_dictionary_learning` for the objective.

    Parameters
    ----------
    n_components : int
        Number of atoms.
    xi : float, default=1.0
        Weight of the reconstruction term ``xi ||X_d - H W^T||_F^2`` against the
        (summed) logistic loss. Relative to the scale of ``X``: standardize ``X``.
    mode : {"filter", "feature"}, default="filter"
        ``"filter"`` (SMF-W): the classifier reads ``X_d @ components_.T``;
        ``"feature"`` (SMF-H): it reads the codes of ``X_d`` against the atoms (needs
        ``n_components <= n_features_dict`` unless ``alpha_code > 0``).
    solver : {"bcd", "lpgd"}, default="bcd"
        Block coordinate descent, or low-rank projected gradient descent on the lifted
        convex problem warm-started from 20 BCD sweeps (no ``alpha_*``/``positive_*``).
    aux_features : array-like of int or bool, default=None
        Column indices or a boolean mask of ``X`` routed only to the classifier
        (covariates that should not be factorized).
    alpha_code : float, default=0.0
        l1 weight on the codes (training codes and, in feature mode, :meth:`transform`).
    alpha_dict : float, default=0.0
        l1 weight on the atoms.
    l2_reg : float, default=0.0
        Ridge weight of the classifier coefficients (intercept excluded).
    positive_code : bool, default=False
        Non-negative codes.
    positive_dict : bool, default=False
        Non-negative atoms.
    max_iter : int, default=200
        Maximum number of BCD sweeps or LPGD iterations.
    tol : float, default=1e-4
        Tolerance on the relative change of the objective per iteration.
    step_size : "auto" or float, default="auto"
        Multiplier of the ``1/L`` gradient steps (``"auto"``: 1, monotone descent).
    step_decay : float, default=0.0
        Step of iteration ``t`` is ``step_size (t + 10)^(-step_decay) / L``.
    block_scale : "auto" or float, default="auto"
        LPGD's scaling of the classifier block against the reconstruction block in the
        rank-r projection (see :func:`supervised_dictionary_learning`).
    random_state : int, RandomState instance or None, default=None
        Seeds the atoms beyond the rank of the data.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features_dict)
        Atoms ``W^T`` over the non-auxiliary features (unit norm or less).
    coef_ : ndarray of shape (n_classes - 1, n_components)
        ``beta``: weights of the projections (filter) or codes (feature); row ``k``
        gives the logit of class ``classes_[k + 1]`` against ``classes_[0]``.
    aux_coef_ : ndarray of shape (n_classes - 1, n_aux_features)
        ``gamma``: weights of the auxiliary features.
    intercept_ : ndarray of shape (n_classes - 1,)
        Intercepts of those logits.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during ``fit`` (dictionary and auxiliary).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` has string column names.
    dict_features_ : ndarray of shape (n_features_dict,)
        Columns of ``X`` that are factorized.
    aux_features_ : ndarray of shape (n_aux_features,)
        Columns of ``X`` routed to the classifier only.
    n_iter_ : int
        Iterations of the solver (LPGD steps after the warm start for ``"lpgd"``).
    converged_ : bool
        Whether the objective criterion met ``tol``.
    objective_history_ : ndarray of shape (`n_iter_` + 1,)
        Objective from the initial point on (lifted objective for ``"lpgd"``).
    stationarity_ : float
        ``"lpgd"``: norm of the projected-gradient mapping at the last step;
        ``"bcd"``: NaN.

    See Also
    --------
    supervised_dictionary_learning : the function behind :meth:`fit`.
    sparsopt.decomposition.SparseCoder : sparse codes against a fixed dictionary.

    Notes
    -----
    For two classes this is a logistic model ``P(y = classes_[1] | x)`` whose weight
    vector is confined to the span of the atoms (filter mode), plus auxiliary
    covariates. ``fit_transform`` returns :meth:`transform` of the training data; in
    feature mode the training codes also fit the labels and are not returned.

    References
    ----------
    .. [1] J. Lee, H. Lyu and W. Yao, "Supervised matrix factorization: local landscape
       analysis and applications", ICML 2024 (arXiv:2206.06774).
    .. [2] J. Lee, H. Lyu and W. Yao, "Exponentially convergent algorithms for
       supervised matrix factorization", NeurIPS 2023 (arXiv:2311.11182).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.decomposition import SupervisedDictionaryLearning
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(80, 6))
    >>> y = np.where(X[:, 0] - X[:, 1] > 0, "yes", "no")
    >>> sdl = SupervisedDictionaryLearning(2, xi=0.1, l2_reg=0.1).fit(X, y)
    >>> sdl.components_.shape, sdl.transform(X).shape, sdl.classes_.tolist()
    ((2, 6), (80, 2), ['no', 'yes'])
    >>> bool(sdl.score(X, y) > 0.9)
    True
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "xi": [Interval(Real, 0, None, closed="left")],
        "mode": [StrOptions(set(MODES))],
        "solver": [StrOptions(set(SOLVERS))],
        "aux_features": ["array-like", None],
        "alpha_code": [Interval(Real, 0, None, closed="left")],
        "alpha_dict": [Interval(Real, 0, None, closed="left")],
        "l2_reg": [Interval(Real, 0, None, closed="left")],
        "positive_code": ["boolean"],
        "positive_dict": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "step_size": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "step_decay": [Interval(Real, 0, None, closed="left")],
        "block_scale": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(self, n_components, *, xi=1.0, mode="filter", solver="bcd", aux_features=None,
                 alpha_code=0.0, alpha_dict=0.0, l2_reg=0.0, positive_code=False,
                 positive_dict=False, max_iter=200, tol=1e-4, step_size="auto",
                 step_decay=0.0, block_scale="auto", random_state=None):
        self.n_components = n_components
        self.xi = xi
        self.mode = mode
        self.solver = solver
        self.aux_features = aux_features
        self.alpha_code = alpha_code
        self.alpha_dict = alpha_dict
        self.l2_reg = l2_reg
        self.positive_code = positive_code
        self.positive_dict = positive_dict
        self.max_iter = max_iter
        self.tol = tol
        self.step_size = step_size
        self.step_decay = step_decay
        self.block_scale = block_scale
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Learn the dictionary and the classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (dictionary and auxiliary columns).
        y : array-like of shape (n_samples,)
            Class labels (at least two classes).

        Returns
        -------
        self : SupervisedDictionaryLearning
        """
        X, y = self._validate_input(X, y, y_numeric=False)
        check_classification_targets(y)
        owner = type(self).__name__
        _check_solver_options(self.mode, self.solver, self.alpha_code, self.alpha_dict,
                              self.positive_code, self.positive_dict, self.xi, owner)
        dict_idx, aux_idx = _split_features(self.aux_features, X.shape[1], owner)
        _check_feature_rank(self.mode, self.alpha_code, self.n_components, dict_idx.size, owner)
        enc = LabelEncoder().fit(y)
        if enc.classes_.size < 2:
            raise ValueError(f"{owner}: y has {enc.classes_.size} class; a classifier needs "
                             "samples of at least 2 classes.")
        D, res = supervised_dictionary_learning(
            X, enc.transform(y), n_components=self.n_components, xi=self.xi, mode=self.mode,
            solver=self.solver, aux_features=aux_idx, alpha_code=self.alpha_code,
            alpha_dict=self.alpha_dict, l2_reg=self.l2_reg, positive_code=self.positive_code,
            positive_dict=self.positive_dict, max_iter=self.max_iter, tol=self.tol,
            step_size=self.step_size, step_decay=self.step_decay,
            block_scale=self.block_scale, random_state=self.random_state)
        self.classes_ = enc.classes_
        self.components_ = D
        self.coef_ = res.info["coef"]
        self.intercept_ = res.info["intercept"]
        self.aux_coef_ = res.info["aux_coef"]
        self.dict_features_ = dict_idx
        self.aux_features_ = aux_idx
        self.n_iter_ = int(res.n_iter)
        self.converged_ = bool(res.converged)
        self.objective_history_ = np.array([h["objective"] for h in res.history])
        self.stationarity_ = float(res.info.get("stationarity", np.nan))
        return self

    def _codes(self, Xd):
        """Features the classifier reads, in the dtype of ``Xd``."""
        D = self.components_.astype(Xd.dtype, copy=False)
        if self.mode == "filter":
            return Xd @ D.T
        if self.alpha_code > 0 or self.positive_code:
            # minimizes xi ||x - h D||^2 + alpha_code ||h||_1 (the objective over 2 xi)
            return sparse_encode(Xd, D, penalty="l1", alpha=self.alpha_code / (2 * self.xi),
                                 solver="cd", positive=self.positive_code, max_iter=1000,
                                 tol=1e-8)
        return np.linalg.lstsq(D.T, Xd.T, rcond=None)[0].T

    def transform(self, X):
        """Project (filter) or encode (feature) the dictionary columns of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with the same columns as in :meth:`fit`.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_components)
            ``X_d @ components_.T`` (filter), or the codes minimizing
            ``xi ||x_d - h W^T||^2 + alpha_code ||h||_1`` (feature: least squares when
            ``alpha_code = 0``).
        """
        check_is_fitted(self, "components_")
        X = self._validate_input(X, reset=False)
        return self._codes(X[:, self.dict_features_])

    def decision_function(self, X):
        """Logits of the classes against ``classes_[0]``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with the same columns as in :meth:`fit`.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Two classes: the log-odds of ``classes_[1]``. More: the logits, ``0`` for
            ``classes_[0]``.
        """
        check_is_fitted(self, "components_")
        X = self._validate_input(X, reset=False)
        H = self._codes(X[:, self.dict_features_])
        S = (H @ self.coef_.T.astype(X.dtype, copy=False)
             + X[:, self.aux_features_] @ self.aux_coef_.T.astype(X.dtype, copy=False)
             + self.intercept_.astype(X.dtype, copy=False))
        if self.classes_.size == 2:
            return S[:, 0]
        return np.hstack([np.zeros((S.shape[0], 1), dtype=S.dtype), S])

    def predict_proba(self, X):
        """Class probabilities (multinomial logistic model).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with the same columns as in :meth:`fit`.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return np.exp(self.predict_log_proba(X))

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed stably.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with the same columns as in :meth:`fit`.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        S = self.decision_function(X)
        if S.ndim == 1:
            S = np.column_stack([np.zeros_like(S), S])
        S = S - S.max(axis=1, keepdims=True)
        return S - np.log(np.exp(S).sum(axis=1, keepdims=True))

    def predict(self, X):
        """Most probable class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with the same columns as in :meth:`fit`.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        S = self.decision_function(X)
        idx = (S > 0).astype(np.intp) if S.ndim == 1 else np.argmax(S, axis=1)
        return self.classes_[idx]

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.classifier_tags.multi_class = True
        return tags

    @classmethod
    def _test_params(cls, check_name):
        """Constructor parameters for scikit-learn's estimator checks (tests only)."""
        return {"n_components": 2, "xi": 0.1, "l2_reg": 1.0, "max_iter": 30, "tol": 1e-3,
                "random_state": 0}
