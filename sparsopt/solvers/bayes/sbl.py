"""Classical sparse Bayesian learning (SBL / ARD) on a dense dictionary.

Model ``y = A x + n``, ``n ~ N(0, sigma^2 I)``, prior ``x_j ~ N(0, gamma_j)``. Each iteration
runs the E-step (posterior mean ``mu`` and the diagonal of the posterior covariance ``Sigma``
over the active columns), then the type-II maximum-likelihood update of ``gamma`` (EM or
MacKay) and, when learned, of ``sigma^2``, then prunes. The E-step uses whichever of the two
equivalent systems is smaller: ``C = sigma^2 I + A Gamma A^H`` (``M x M``, Woodbury) when
``M`` is below the number of active columns, otherwise ``Sigma^{-1} = A^H A / sigma^2 +
Gamma^{-1}``; only ``diag(Sigma)`` is formed.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from scipy import linalg as sla

from ..._core.result import SolverResult
from ...exceptions import ConvergenceWarning
from ...utils.validation import check_int, check_scalar
from ._common import (
    check_common,
    check_targets,
    gamma_update,
    initial_noise,
    noise_floor,
    noise_update,
    relative_change,
    shape_output,
)

__all__ = ["sbl", "sbl_posterior"]


def _chol(S):
    """Cholesky factor of a Hermitian positive-definite matrix, or None."""
    try:
        return sla.cho_factor(S, lower=True, check_finite=False)
    except (np.linalg.LinAlgError, sla.LinAlgError):
        return None


def _inv_psd(S):
    """Inverse of a Hermitian positive semi-definite matrix (pseudo-inverse if singular)."""
    c = _chol(S)
    if c is not None:
        return sla.cho_solve(c, np.eye(S.shape[0], dtype=S.dtype), check_finite=False)
    return sla.pinvh(S)


def sbl_posterior(A, Y, gamma, sigma2, *, gram=None, full=False):
    """E-step of SBL: posterior mean and covariance diagonal for prior variances ``gamma``.

    Parameters
    ----------
    A : ndarray of shape (M, N)
        Dictionary restricted to the columns with ``gamma > 0``.
    Y : ndarray of shape (M, L)
        Targets (``L`` snapshots sharing the prior).
    gamma : ndarray of shape (N,)
        Positive prior variances.
    sigma2 : float
        Noise variance.
    gram : ndarray of shape (N, N), default=None
        ``A^H A``, to skip forming it.
    full : bool, default=False
        Also return the full posterior covariance.

    Returns
    -------
    mu : ndarray of shape (N, L)
    sdiag : ndarray of shape (N,)
        Real diagonal of the posterior covariance.
    logdet_c : float
        ``log det(sigma^2 I + A Gamma A^H)``, for the evidence.
    Sigma : ndarray of shape (N, N)
        Only when ``full``.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.solvers import sbl_posterior
    >>> A = np.eye(2); Y = np.ones((2, 1))
    >>> mu, sdiag, _ = sbl_posterior(A, Y, np.ones(2), 1.0)
    >>> mu.ravel(), sdiag
    (array([0.5, 0.5]), array([0.5, 0.5]))
    """
    M, N = A.shape
    if M < N:  # Woodbury: C = sigma^2 I + A Gamma A^H (M x M)
        AG = A * gamma
        C = AG @ A.conj().T
        C[np.diag_indices(M)] += sigma2
        c = _chol(C)
        if c is None:
            Cinv = sla.pinvh(C)
            W = Cinv @ A
            CiY = Cinv @ Y
            ev = np.linalg.eigvalsh(C)
            logdet = float(np.sum(np.log(np.maximum(ev, np.finfo(float).tiny))))
        else:
            W = sla.cho_solve(c, A, check_finite=False)
            CiY = sla.cho_solve(c, Y, check_finite=False)
            logdet = 2.0 * float(np.sum(np.log(np.abs(np.diag(c[0])))))
        mu = gamma[:, None] * (A.conj().T @ CiY)
        sdiag = gamma - gamma ** 2 * np.real(np.einsum("ij,ij->j", A.conj(), W))
        sdiag = np.maximum(sdiag, 0.0)
        if full:
            Sigma = -(AG.conj().T @ W) * gamma[None, :]
            Sigma[np.diag_indices(N)] += gamma
            return mu, sdiag, logdet, Sigma
        return mu, sdiag, logdet
    G = A.conj().T @ A if gram is None else gram
    S = G / sigma2
    S[np.diag_indices(N)] += 1.0 / gamma
    c = _chol(S)
    if c is None:
        Sigma = sla.pinvh(S)
        ev = np.linalg.eigvalsh(S)
        logdet_s = float(np.sum(np.log(np.maximum(ev, np.finfo(float).tiny))))
    else:
        Sigma = sla.cho_solve(c, np.eye(N, dtype=S.dtype), check_finite=False)
        logdet_s = 2.0 * float(np.sum(np.log(np.abs(np.diag(c[0])))))
    mu = Sigma @ (A.conj().T @ Y) / sigma2
    sdiag = np.maximum(np.real(np.diag(Sigma)).copy(), 0.0)
    # det(sigma^2 I + A Gamma A^H) = sigma^{2M} det(Gamma) det(Sigma^{-1})
    logdet = M * np.log(sigma2) + float(np.sum(np.log(gamma))) + logdet_s
    if full:
        return mu, sdiag, logdet, Sigma
    return mu, sdiag, logdet


def sbl(A, y, *, update="em", noise_variance=None, learn_noise=True, prune_rtol=1e-3,
        prune_atol=0.0, max_iter=300, tol=1e-4, stop="gamma", alpha_1=0.0, alpha_2=0.0,
        lambda_1=0.0, lambda_2=0.0, gamma_init=None, callback=None, verbose=0):
    """Sparse Bayesian learning (relevance vector machine / ARD) by evidence maximisation.

    Minimises the type-II cost ``L(gamma) = log det C + y^H C^{-1} y`` (per snapshot, plus
    optional Gamma hyperpriors), ``C = sigma^2 I + A Gamma A^H``, by EM (Wipf & Rao) or
    MacKay (Tipping) fixed-point updates of the prior variances ``gamma``, optionally
    learning ``sigma^2``; coefficients whose ``gamma`` collapses are pruned.

    Parameters
    ----------
    A : ndarray of shape (M, N)
        Dictionary (real or complex).
    y : ndarray of shape (M,) or (M, L)
        Measurements; ``L`` snapshots share the prior (multiple measurement vectors).
    update : {"em", "mackay"}, default="em"
        ``gamma_j <- |mu_j|^2 + Sigma_jj`` (EM, monotone in the cost) or
        ``gamma_j <- |mu_j|^2 / (1 - Sigma_jj / gamma_j)`` (MacKay, scikit-learn's ARD).
    noise_variance : float or None, default=None
        ``sigma^2``: the known value with ``learn_noise=False``, else the starting value
        (default: the variance of ``y``, as scikit-learn's ``ARDRegression``).
    learn_noise : bool, default=True
        Update ``sigma^2`` each iteration (EM or MacKay, following ``update``).
    prune_rtol : float, default=1e-3
        Prune ``j`` when ``gamma_j < prune_rtol * max(gamma)`` (the relative rule of the
        SBL papers; 0 disables it).
    prune_atol : float, default=0.0
        Prune ``j`` when ``gamma_j <= prune_atol`` (scikit-learn's ``threshold_lambda=1e4``
        is ``prune_atol=1e-4``).
    max_iter : int, default=300
    tol : float, default=1e-4
        Stop when the criterion ``stop`` falls below ``tol``.
    stop : {"gamma", "coef"}, default="gamma"
        ``"gamma"``: ``||gamma_new - gamma_old|| / ||gamma_old||`` (full length, pruned
        entries at 0); ``"coef"``: ``sum |mu_new - mu_old|`` (scikit-learn's ARD rule).
    alpha_1, alpha_2, lambda_1, lambda_2 : float, default=0.0
        Gamma hyperpriors on the noise precision and on the coefficient precisions, in
        scikit-learn's ``ARDRegression`` parametrisation (it uses 1e-6 for all four).
    gamma_init : ndarray of shape (N,), default=None
        Starting prior variances (default ones).
    callback : callable, default=None
        ``callback(iteration, gamma, mu)`` after each iteration (full-length ``gamma`` and
        ``mu``); returning True stops (no ``ConvergenceWarning`` then).
    verbose : int, default=0

    Returns
    -------
    result : SolverResult
        ``x`` the posterior mean (shape of ``y``'s columns: ``(N,)`` or ``(N, L)``), zero at
        pruned entries; ``info``: ``gamma`` (N,), ``sigma_diag`` (N,) the posterior
        variances, ``noise_variance``, ``active`` (mask), ``n_active``, ``stopped_by``
        (``"tol"``, ``"max_iter"``, ``"callback"``, ``"all_pruned"`` or ``"zero_targets"``).
        ``history`` holds the cost per iteration.

    References
    ----------
    .. [1] M. E. Tipping, "Sparse Bayesian learning and the relevance vector machine",
       JMLR 1, 2001.
    .. [2] D. P. Wipf and B. D. Rao, "Sparse Bayesian learning for basis selection",
       IEEE Trans. Signal Process. 52(8), 2004.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.solvers import sbl
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((40, 80)); x = np.zeros(80); x[[3, 30]] = [2.0, -1.5]
    >>> res = sbl(A, A @ x + 0.01 * rng.standard_normal(40))
    >>> np.flatnonzero(np.abs(res.x) > 0.1)
    array([ 3, 30])
    """
    name = "sbl"
    A = np.asarray(A)
    if A.ndim != 2 or 0 in A.shape:
        raise ValueError(f"{name}: A must be a non-empty 2-D array, got shape {A.shape}.")
    if not np.issubdtype(A.dtype, np.number) or np.issubdtype(A.dtype, np.bool_):
        raise TypeError(f"{name}: A must be numeric, got dtype {A.dtype}.")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name}: A contains NaN or infinity.")
    Y, was_1d = check_targets(y, A.shape[0], name)
    priors = dict(alpha_1=alpha_1, alpha_2=alpha_2, lambda_1=lambda_1, lambda_2=lambda_2)
    check_common(name, update, noise_variance, learn_noise, tol, stop, priors)
    check_scalar(prune_rtol, "prune_rtol", name, lower=0.0, upper=1.0)
    check_scalar(prune_atol, "prune_atol", name, lower=0.0)
    max_iter = check_int(max_iter, "max_iter", name, lower=1)
    out_dtype = np.result_type(A.dtype, Y.dtype, np.float32)
    work = np.complex128 if np.iscomplexobj(A) or np.iscomplexobj(Y) else np.float64
    A = np.asarray(A, dtype=work)
    Y = np.asarray(Y, dtype=work)
    M, N = A.shape
    L = Y.shape[1]
    if gamma_init is None:
        gamma = np.ones(N)
    else:
        gamma = np.array(gamma_init, dtype=np.float64).reshape(-1)
        if gamma.shape != (N,) or not np.all(np.isfinite(gamma)) or np.any(gamma <= 0):
            raise ValueError(f"{name}: gamma_init must hold {N} positive finite values.")
    sigma2 = initial_noise(Y, noise_variance)
    floor = noise_floor(Y)
    gram_full = A.conj().T @ A if M >= N else None
    active = np.ones(N, dtype=bool)
    mu_full = np.zeros((N, L), dtype=work)
    sdiag_full = np.zeros(N)
    history = []
    converged = False
    stopped_by = "max_iter"
    crit = np.inf
    it = 0
    t0 = time.perf_counter()
    if not np.any(Y):  # y = 0: the evidence is maximal at gamma = 0, x = 0
        active[:] = False
        gamma[:] = 0.0
        converged, stopped_by, crit = True, "zero_targets", 0.0
    for it in range(1, max_iter + 1 if active.any() else 1):
        idx = np.flatnonzero(active)
        Aa = A[:, idx]
        g_a = gamma[idx]
        gram = gram_full[np.ix_(idx, idx)] if gram_full is not None else None
        mu, sdiag, logdet = sbl_posterior(Aa, Y, g_a, sigma2, gram=gram)
        R = Y - Aa @ mu
        rss = float(np.real(np.vdot(R, R))) / L
        m2 = np.mean(np.abs(mu) ** 2, axis=1)
        cost = logdet + (rss / sigma2 + float(np.sum(m2 / g_a)))
        sum_g = float(np.sum(1.0 - sdiag / g_a))
        gamma_old = gamma.copy()
        mu_old = mu_full.copy()
        gamma = np.zeros(N)
        gamma[idx] = gamma_update(update, m2, sdiag, g_a, lambda_1, lambda_2)
        if learn_noise:
            sigma2 = max(noise_update(update, rss, M, sum_g, sigma2, alpha_1, alpha_2), floor)
        mu_full[:] = 0
        mu_full[idx] = mu
        sdiag_full[:] = 0
        sdiag_full[idx] = sdiag
        gmax = float(gamma.max(initial=0.0))
        keep = active & (gamma > prune_atol) & (gamma >= prune_rtol * gmax) & (gamma > 0)
        gamma[~keep] = 0.0
        mu_full[~keep] = 0
        active = keep
        if stop == "gamma":
            crit = relative_change(gamma, gamma_old)
        else:
            crit = float(np.sum(np.abs(mu_full - mu_old))) if it > 1 else np.inf
        history.append({"iteration": it, "stop_crit": crit, "objective": cost,
                        "noise_variance": sigma2, "n_active": int(active.sum()),
                        "time": time.perf_counter() - t0})
        if verbose:
            print(f"{name}: iter {it:4d}  cost {cost: .6e}  crit {crit:.3e}  "
                  f"active {int(active.sum())}  sigma2 {sigma2:.3e}")
        if callback is not None and callback(it, gamma, mu_full):
            stopped_by = "callback"
            break
        if crit < tol:
            converged, stopped_by = True, "tol"
            break
        if not active.any():
            converged, stopped_by = True, "all_pruned"
            break
    # final E-step with the last gamma (and sigma^2)
    idx = np.flatnonzero(active)
    mu_full[:] = 0
    sdiag_full[:] = 0
    if idx.size:
        gram = gram_full[np.ix_(idx, idx)] if gram_full is not None else None
        mu, sdiag, _ = sbl_posterior(A[:, idx], Y, gamma[idx], sigma2, gram=gram)
        mu_full[idx] = mu
        sdiag_full[idx] = sdiag
    if not np.all(np.isfinite(mu_full)):  # pragma: no cover - guarded by the checks above
        raise FloatingPointError(f"{name}: non-finite posterior mean.")
    if not converged and stopped_by == "max_iter":
        warnings.warn(
            f"{name}: did not converge after max_iter = {max_iter} iterations (criterion "
            f"'{stop}' = {crit:.2e} > tol = {tol:.1e}). Increase max_iter or tol.",
            ConvergenceWarning, stacklevel=2,
        )
    x = shape_output(mu_full, was_1d, out_dtype)
    return SolverResult(
        x=x, n_iter=it, converged=converged, stop_crit=crit, history=history,
        info={"gamma": gamma, "sigma_diag": sdiag_full, "noise_variance": sigma2,
              "active": active.copy(), "n_active": int(active.sum()), "update": update,
              "criterion": stop, "tol": tol, "stopped_by": stopped_by},
    )
