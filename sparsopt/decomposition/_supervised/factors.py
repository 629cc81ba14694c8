"""Block coordinate descent on the factors (dictionary, codes, classifier) and the
initial factors."""

from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import minimize
from sklearn.utils import check_random_state

from ...exceptions import ConvergenceWarning
from ...penalties import get_penalty
from .._encode import sparse_encode
from .problem import (
    _CLF_MAXITER,
    _N_INNER,
    _Data,
    _logistic,
)


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
