"""Classical sparse Bayesian learning (SBL / ARD) on a dense dictionary.

Model ``y = X b + n``, ``n ~ N(0, sigma^2 I)``, prior ``x_j ~ N(0, gamma_j)``. Each iteration
runs the E-step (posterior mean ``mu`` and the diagonal of the posterior covariance ``Sigma``
over the active columns), then the type-II maximum-likelihood update of ``gamma`` (EM or
MacKay) and, when learned, of ``sigma^2``, then prunes. The E-step uses whichever of the two
equivalent systems is smaller: ``C = sigma^2 I + X Gamma X^H`` (``M x M``, Woodbury) when
``M`` is below the number of active columns, otherwise ``Sigma^{-1} = X^H X / sigma^2 +
Gamma^{-1}``; only ``diag(Sigma)`` is formed.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import linalg as sla

from ..._core.loop import LoopMonitor, all_finite
from ...backends import array_namespace, asarray_on, device, is_numpy_namespace
from ...utils.validation import check_scalar
from ._common import (
    _TINY,
    CRITERIA,
    SBLPosterior,
    check_common,
    check_targets,
    gamma_update,
    initial_noise,
    noise_floor,
    noise_update,
    relative_change,
    shape_output,
)

__all__ = ["SBLPosterior", "sbl", "sbl_posterior"]


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


def sbl_posterior(X, y, gamma, sigma2, *, gram=None, full=False):
    """E-step of SBL: posterior mean and covariance diagonal for prior variances ``gamma``.

    Parameters
    ----------
    X : ndarray of shape (M, N)
        Dictionary restricted to the columns with ``gamma > 0``.
    y : ndarray of shape (M, L)
        Targets (``L`` snapshots sharing the prior).
    gamma : ndarray of shape (N,)
        Positive prior variances.
    sigma2 : float
        Noise variance.
    gram : ndarray of shape (N, N), default=None
        ``X^H X``, to skip forming it.
    full : bool, default=False
        Also form the full posterior covariance (the ``cov`` field; ``None`` otherwise).

    Returns
    -------
    posterior : SBLPosterior
        ``mean`` (N, L), ``sdiag`` (N,) the real diagonal of the posterior covariance,
        ``logdet`` ``log det(sigma^2 I + X Gamma X^H)``, ``rss`` ``||y - X mean||_F^2``
        and ``cov`` (N, N) or ``None``.

    Notes
    -----
    Array-API inputs (CuPy, ``array_api_strict`` ...) are solved in their namespace with
    the linalg extension (``cholesky``, ``inv`` of the factor, ``eigh`` for the
    pseudo-inverse when the system is singular); ``mean``, ``sdiag`` and ``cov`` are
    arrays of that namespace, ``logdet`` and ``rss`` host floats.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.solvers import sbl_posterior
    >>> X = np.eye(2); y = np.ones((2, 1))
    >>> post = sbl_posterior(X, y, np.ones(2), 1.0)
    >>> post.mean.ravel(), post.sdiag, round(post.rss, 12)
    (array([0.5, 0.5]), array([0.5, 0.5]), 0.5)
    """
    if not (type(X) is np.ndarray and type(y) is np.ndarray):  # the loop's common case
        xp = array_namespace(X, y, gamma, gram)
        if not is_numpy_namespace(xp):  # CuPy, array_api_strict ...: the same there
            return _sbl_posterior_xp(xp, X, y, gamma, float(sigma2), gram, full)
    A, Y = X, y
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
        # y - A mu = (I - A Gamma A^H C^{-1}) y = sigma^2 C^{-1} y: the residual is free
        rss = sigma2 ** 2 * float(np.real(np.vdot(CiY, CiY)))
        Sigma = None
        if full:
            Sigma = -(AG.conj().T @ W) * gamma[None, :]
            Sigma[np.diag_indices(N)] += gamma
        return SBLPosterior(mu, sdiag, logdet, rss, Sigma)
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
    R = Y - A @ mu
    rss = float(np.real(np.vdot(R, R)))
    # det(sigma^2 I + A Gamma A^H) = sigma^{2M} det(Gamma) det(Sigma^{-1})
    logdet = M * np.log(sigma2) + float(np.sum(np.log(gamma))) + logdet_s
    return SBLPosterior(mu, sdiag, float(logdet), rss, Sigma if full else None)


def sbl(X, y, *, solver="em", noise_variance=None, learn_noise=True, prune_rtol=1e-3,
        prune_atol=0.0, max_iter=300, tol=1e-4, stop="gamma", alpha_1=0.0, alpha_2=0.0,
        lambda_1=0.0, lambda_2=0.0, init=None, callback=None, verbose=None):
    """Sparse Bayesian learning (relevance vector machine / ARD) by evidence maximisation.

    Minimises the type-II cost ``L(gamma) = log det C + y^H C^{-1} y`` (per snapshot, plus
    optional Gamma hyperpriors), ``C = sigma^2 I + X Gamma X^H``, by EM (Wipf & Rao) or
    MacKay (Tipping) fixed-point updates of the prior variances ``gamma``, optionally
    learning ``sigma^2``; coefficients whose ``gamma`` collapses are pruned.

    Objective: the SBL cost above (the negative log evidence up to constants, per snapshot
    averaged over the ``L`` snapshots), recorded in ``history`` for the ``gamma`` of each
    E-step; it is not a penalised least-squares objective, so the mean-datafit convention of
    the regression solvers does not apply.

    Parameters
    ----------
    X : ndarray of shape (M, N)
        Dictionary (real or complex).
    y : ndarray of shape (M,) or (M, L)
        Measurements; ``L`` snapshots share the prior (multiple measurement vectors).
    solver : {"em", "mackay"}, default="em"
        ``gamma_j <- |mu_j|^2 + Sigma_jj`` (EM, monotone in the cost) or
        ``gamma_j <- |mu_j|^2 / (1 - Sigma_jj / gamma_j)`` (MacKay, scikit-learn's ARD).
    noise_variance : float or None, default=None
        ``sigma^2``: the known value with ``learn_noise=False``, else the starting value
        (default: the variance of ``y``, as scikit-learn's ``ARDRegression``).
    learn_noise : bool, default=True
        Update ``sigma^2`` each iteration (EM or MacKay, following ``solver``).
    prune_rtol : float, default=1e-3
        Prune ``j`` when ``gamma_j < prune_rtol * max(gamma)`` (the relative rule of the
        SBL papers; 0 disables it).
    prune_atol : float, default=0.0
        Prune ``j`` when ``gamma_j <= prune_atol`` (scikit-learn's ``threshold_lambda=1e4``
        is ``prune_atol=1e-4``).
    max_iter : int, default=300
        Hard cap on the iterations (one E-step and one M-step each).
    tol : float, default=1e-4
        Stop when the criterion ``stop`` falls to ``tol``.
    stop : {"gamma", "coef"}, default="gamma"
        ``"gamma"``: ``||gamma_new - gamma_old|| / ||gamma_old||`` (full length, pruned
        entries at 0); ``"coef"``: ``sum |mu_new - mu_old|`` (scikit-learn's ARD rule).
    alpha_1, alpha_2, lambda_1, lambda_2 : float, default=0.0
        Gamma hyperpriors on the noise precision and on the coefficient precisions, in
        scikit-learn's ``ARDRegression`` parametrisation (it uses 1e-6 for all four).
    init : ndarray of shape (N,), default=None
        Initial prior variances ``gamma`` (the iterate of SBL; default ones).
    callback : callable, default=None
        ``callback(state)`` with a :class:`~sparsopt.solvers.SolverState` after each
        iteration: ``state.x`` the posterior mean of that iteration's E-step (full length,
        zero at pruned entries, shaped as the result's ``x``), ``state.objective`` the SBL
        cost, ``state.info``: ``gamma`` (N,) the updated prior variances,
        ``gamma_unpruned`` (N,) the same before pruning (the values of the entries this
        iteration pruned), ``logdet`` and ``rss`` of the E-step (``log det C`` and
        ``||y - X mu||^2`` per snapshot, for the ``gamma`` and ``sigma^2`` it started
        from), ``noise_variance``, ``n_active``. Returning True stops the run (``converged=False``,
        ``stopped_by="callback"``, no ``ConvergenceWarning``).
    verbose : int or None, default=None
        One line per iteration when > 0; ``None`` reads ``sparsopt.get_config()``.

    Returns
    -------
    result : SolverResult
        ``x`` the posterior mean for the final ``gamma`` (shape of ``y``'s columns: ``(N,)``
        or ``(N, L)``), zero at pruned entries; ``info``: ``gamma`` (N,), ``sigma_diag``
        (N,) the posterior variances, ``noise_variance``, ``active`` (mask), ``n_active``,
        ``solver``, ``stop``, ``stopped_by`` (``"tol"``, ``"max_iter"``, ``"callback"``,
        ``"nonfinite"``, ``"all_pruned"`` or ``"zero_targets"``). ``history`` holds the
        cost, ``noise_variance`` and ``n_active`` per iteration.

    Warns
    -----
    ConvergenceWarning
        Once, when ``max_iter`` is reached before the criterion falls to ``tol``.
    NonFiniteIterateWarning
        When an iteration produced NaN or infinity: the result is the posterior of the last
        finite ``gamma`` and ``sigma^2``.

    Notes
    -----
    ``X`` and ``y`` may be arrays of any array-API library (CuPy on a GPU,
    ``array_api_strict`` ...): the whole loop (E-step, updates, pruning by masks and
    gathers, noise update, stopping test) then runs in their namespace and on their
    device, computing in float64 (complex128) as for NumPy, and ``x``, ``info["gamma"]``,
    ``info["sigma_diag"]`` and ``info["active"]`` are arrays of that namespace (float32
    input gives a float32 ``x``). Each iteration reads a few scalars back to the host
    (the cost, the noise variance, the largest ``gamma``, the stopping value, the
    active count); ``init`` may be host data or an array of the namespace.

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
    >>> X = rng.standard_normal((40, 80)); b = np.zeros(80); b[[3, 30]] = [2.0, -1.5]
    >>> res = sbl(X, X @ b + 0.01 * rng.standard_normal(40))
    >>> np.flatnonzero(np.abs(res.x) > 0.1)
    array([ 3, 30])
    """
    name = "sbl"
    xp = array_namespace(X, y)
    if not is_numpy_namespace(xp):  # CuPy, array_api_strict ...: the same in their namespace
        priors = dict(alpha_1=alpha_1, alpha_2=alpha_2, lambda_1=lambda_1, lambda_2=lambda_2)
        return _sbl_xp(xp, X, y, solver, noise_variance, learn_noise, prune_rtol, prune_atol,
                       max_iter, tol, stop, priors, init, callback, verbose)
    A = np.asarray(X)
    if A.ndim != 2 or 0 in A.shape:
        raise ValueError(f"{name}: X must be a non-empty 2-D array, got shape {A.shape}.")
    if not np.issubdtype(A.dtype, np.number) or np.issubdtype(A.dtype, np.bool_):
        raise TypeError(f"{name}: X must be numeric, got dtype {A.dtype}.")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name}: X contains NaN or infinity.")
    Y, was_1d = check_targets(y, A.shape[0], name)
    priors = dict(alpha_1=alpha_1, alpha_2=alpha_2, lambda_1=lambda_1, lambda_2=lambda_2)
    check_common(name, solver, noise_variance, learn_noise, tol, stop, priors)
    check_scalar(prune_rtol, "prune_rtol", name, lower=0.0, upper=1.0)
    check_scalar(prune_atol, "prune_atol", name, lower=0.0)
    out_dtype = np.result_type(A.dtype, Y.dtype, np.float32)
    work = np.complex128 if np.iscomplexobj(A) or np.iscomplexobj(Y) else np.float64
    A = np.asarray(A, dtype=work)
    Y = np.asarray(Y, dtype=work)
    M, N = A.shape
    L = Y.shape[1]
    if init is None:
        gamma = np.ones(N)
    else:
        gamma = np.array(init, dtype=np.float64).reshape(-1)
        if gamma.shape != (N,) or not np.all(np.isfinite(gamma)) or np.any(gamma <= 0):
            raise ValueError(f"{name}: init (the initial prior variances gamma) must hold {N} "
                             "positive finite values.")
    mon = LoopMonitor(name, max_iter=max_iter, tol=tol, callback=callback, verbose=verbose,
                      criterion=CRITERIA[stop], keep_finite=False)
    sigma2 = initial_noise(Y, noise_variance)
    floor = noise_floor(Y)
    gram_full = A.conj().T @ A if M >= N else None
    active = np.ones(N, dtype=bool)
    mu_full = np.zeros((N, L), dtype=work)
    if not np.any(Y):  # y = 0: the evidence is maximal at gamma = 0, x = 0
        active[:] = False
        gamma[:] = 0.0
        mon.converged, mon.stopped_by, mon.stop_crit = True, "zero_targets", 0.0
    for it in range(1, mon.max_iter + 1 if active.any() else 1):
        idx = np.flatnonzero(active)
        Aa = A[:, idx]
        g_a = gamma[idx]
        gram = gram_full[np.ix_(idx, idx)] if gram_full is not None else None
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            # overflow is caught by the finiteness guard below, with one clear warning
            mu, sdiag, logdet, rss, _ = sbl_posterior(Aa, Y, g_a, sigma2, gram=gram)
            rss /= L
            m2 = np.mean(np.abs(mu) ** 2, axis=1)
            cost = logdet + (rss / sigma2 + float(np.sum(m2 / g_a)))
            sum_g = float(np.sum(1.0 - sdiag / g_a))
            gamma_new = np.zeros(N)
            gamma_new[idx] = gamma_update(solver, m2, sdiag, g_a, lambda_1, lambda_2)
            sigma2_new = sigma2
            if learn_noise:
                sigma2_new = max(noise_update(solver, rss, M, sum_g, sigma2, alpha_1, alpha_2),
                                 floor)
            gmax = float(gamma_new.max(initial=0.0))
        # scalar guards: a NaN or inf in mu reaches the cost, one in gamma its maximum
        if not (math.isfinite(cost) and math.isfinite(gmax) and math.isfinite(sigma2_new)):
            # roll back: gamma, sigma^2 and the active set stay those of the last check
            mon.n_iter, mon.stopped_by = it, "nonfinite"
            break
        mu_old = mu_full.copy() if stop == "coef" else None
        keep = active & (gamma_new > prune_atol) & (gamma_new >= prune_rtol * gmax) \
            & (gamma_new > 0)
        gamma_raw = gamma_new.copy() if callback is not None else None
        gamma_new[~keep] = 0.0
        mu_full[:] = 0
        mu_full[idx] = mu
        mu_full[~keep] = 0
        if stop == "gamma":
            crit = relative_change(gamma_new, gamma)
        else:
            crit = float(np.sum(np.abs(mu_full - mu_old))) if it > 1 else np.inf
        gamma, sigma2, active = gamma_new, sigma2_new, keep
        n_active = int(active.sum())
        if _check(mon, it, mu_full[:, 0] if was_1d else mu_full, crit, cost, gamma=gamma,
                  gamma_unpruned=gamma_raw, logdet=logdet, rss=rss, noise_variance=sigma2,
                  n_active=n_active):
            break
    # final E-step with the last (finite) gamma and sigma^2
    idx = np.flatnonzero(active)
    mu_full[:] = 0
    sdiag_full = np.zeros(N)
    if idx.size:
        gram = gram_full[np.ix_(idx, idx)] if gram_full is not None else None
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            post = sbl_posterior(A[:, idx], Y, gamma[idx], sigma2, gram=gram)
        mu_full[idx] = post.mean
        sdiag_full[idx] = post.sdiag
    x = shape_output(mu_full, was_1d, out_dtype)
    if mon.stopped_by == "nonfinite":
        # the monitor returns its last finite iterate: the posterior of the last finite gamma
        # (the initial one when the first iteration failed); none if that E-step fails too
        mon.last_finite = x if all_finite((x, sdiag_full)) else None
    return mon.result(x, gamma=gamma, sigma_diag=sdiag_full, noise_variance=sigma2,
                      active=active.copy(), n_active=int(active.sum()), solver=solver,
                      stop=stop)


# ---------------------------------------------------------------------------------------
# Array-API path (CuPy, array_api_strict, ...): the same algorithm in the input's namespace
# ---------------------------------------------------------------------------------------

def _check(mon, it, x, crit, cost, **record):
    """The stopping check of an SBL iteration (any namespace): whether to stop.

    The N-vectors ``gamma`` and ``gamma_unpruned`` of ``record`` reach the callback only
    (dropped from the stored history); all pruned (``n_active == 0``) stops too.
    """
    stop_now = mon.check(it, x, crit, cost, **record)
    if mon.history and mon.history[-1]["iteration"] == it:
        rec = mon.history[-1]  # for the callback only: no N-vector per record
        del rec["gamma"], rec["gamma_unpruned"]
    if stop_now:
        return True
    if not record["n_active"]:
        mon.converged, mon.stopped_by = True, "all_pruned"
        return True
    return False


def _ht(xp, A):
    """``A^H`` of a 2-D array (``A^T`` for real dtypes)."""
    return xp.conj(A).T if xp.isdtype(A.dtype, "complex floating") else A.T


def _real(xp, a):
    return xp.real(a) if xp.isdtype(a.dtype, "complex floating") else a


def _chol_xp(xp, S):
    """Lower Cholesky factor of a Hermitian positive-definite ``S``, or None.

    Libraries differ on failure (NumPy-backed ones raise, CuPy fills NaNs by default):
    both read as None, the second through one finiteness test of the factor's diagonal.
    """
    try:
        L = xp.linalg.cholesky(S)
    except Exception:  # noqa: BLE001 - each library raises its own LinAlgError
        return None
    return L if bool(xp.all(xp.isfinite(xp.linalg.diagonal(L)))) else None


def _pinvh_xp(xp, S):
    """Pseudo-inverse of a Hermitian ``S`` by ``eigh`` (SciPy ``pinvh``'s default cutoff)."""
    w, V = xp.linalg.eigh(S)
    cutoff = float(xp.max(xp.abs(w))) * S.shape[0] * float(xp.finfo(w.dtype).eps)
    keep = xp.abs(w) > cutoff
    winv = xp.where(keep, 1.0 / xp.where(keep, w, 1.0), 0.0)
    return (V * xp.astype(winv, V.dtype)) @ _ht(xp, V)


def _logdet_eig(xp, S):
    ev = xp.linalg.eigvalsh(S)
    return float(xp.sum(xp.log(xp.maximum(ev, _TINY))))


def _add_diag(xp, S, d):
    """``S + diag(d)`` (``d`` a scalar or a vector), without writing into ``S``."""
    n = S.shape[0]
    eye = xp.eye(n, dtype=xp.bool, device=device(S))
    return xp.where(eye, S + d, S)


def _sbl_posterior_xp(xp, A, Y, gamma, sigma2, gram, full):
    """:func:`sbl_posterior` in ``A``'s namespace: the same two systems, with the linalg
    extension (``cholesky`` to test definiteness and for the log-determinant, ``inv`` of
    the triangular factor for the solves; ``eigh`` when the factorisation fails).
    ``logdet`` and ``rss`` come back as host floats (two scalar reads)."""
    M, N = A.shape
    AH = _ht(xp, A)
    if M < N:  # Woodbury: C = sigma^2 I + A Gamma A^H (M x M)
        AG = A * xp.astype(gamma, A.dtype)
        C = _add_diag(xp, AG @ AH, sigma2)
        Lc = _chol_xp(xp, C)
        if Lc is None:
            Cinv = _pinvh_xp(xp, C)
            W = Cinv @ A
            CiY = Cinv @ Y
            logdet = _logdet_eig(xp, C)
        else:
            Li = xp.linalg.inv(Lc)
            LiH = _ht(xp, Li)
            W = LiH @ (Li @ A)
            CiY = LiH @ (Li @ Y)
            logdet = 2.0 * float(xp.sum(xp.log(xp.abs(xp.linalg.diagonal(Lc)))))
        mu = xp.astype(gamma, A.dtype)[:, None] * (AH @ CiY)
        sdiag = gamma - gamma ** 2 * _real(xp, xp.sum(xp.conj(A) * W, axis=0))
        sdiag = xp.maximum(sdiag, 0.0)
        # y - A mu = sigma^2 C^{-1} y: the residual is free
        rss = sigma2 ** 2 * float(xp.sum(_real(xp, xp.conj(CiY) * CiY)))
        Sigma = None
        if full:
            Sigma = -(_ht(xp, AG) @ W) * xp.astype(gamma, A.dtype)[None, :]
            Sigma = _add_diag(xp, Sigma, xp.astype(gamma, A.dtype))
        return SBLPosterior(mu, sdiag, logdet, rss, Sigma)
    G = AH @ A if gram is None else gram
    S = _add_diag(xp, G / sigma2, xp.astype(1.0 / gamma, G.dtype))
    Ls = _chol_xp(xp, S)
    if Ls is None:
        Sigma = _pinvh_xp(xp, S)
        logdet_s = _logdet_eig(xp, S)
    else:
        Li = xp.linalg.inv(Ls)
        Sigma = _ht(xp, Li) @ Li
        logdet_s = 2.0 * float(xp.sum(xp.log(xp.abs(xp.linalg.diagonal(Ls)))))
    mu = Sigma @ (AH @ Y) / sigma2
    sdiag = xp.maximum(_real(xp, xp.linalg.diagonal(Sigma)), 0.0)
    R = Y - A @ mu
    rss = float(xp.sum(_real(xp, xp.conj(R) * R)))
    # det(sigma^2 I + A Gamma A^H) = sigma^{2M} det(Gamma) det(Sigma^{-1})
    logdet = M * math.log(sigma2) + float(xp.sum(xp.log(gamma))) + logdet_s
    return SBLPosterior(mu, sdiag, float(logdet), rss, Sigma if full else None)


def _scatter_positions(xp, active):
    """Where each entry of the full vector sits in the active-set vector (for ``_expand``)."""
    pos = xp.cumulative_sum(xp.astype(active, xp.int64)) - 1
    return xp.clip(pos, min=0)


def _expand(xp, vals, active, pos):
    """Active-set values back to full length along axis 0 (zeros elsewhere), by a gather."""
    if vals.shape[0] == 0:
        return xp.zeros((active.shape[0],) + tuple(vals.shape[1:]), dtype=vals.dtype,
                        device=device(vals))
    full = xp.take(vals, pos, axis=0)
    mask = active if vals.ndim == 1 else active[:, None]
    return xp.where(mask, full, xp.zeros_like(full))


def _check_dense_xp(xp, X, y, name):
    """The checks of :func:`sbl` for namespace arrays; ``(A, Y, was_1d)``."""
    A = X
    if A.ndim != 2 or 0 in A.shape:
        raise ValueError(f"{name}: X must be a non-empty 2-D array, got shape {tuple(A.shape)}.")
    numeric = ("integral", "real floating", "complex floating")
    if not xp.isdtype(A.dtype, numeric):
        raise TypeError(f"{name}: X must be numeric, got dtype {A.dtype}.")
    if not bool(xp.all(xp.isfinite(A))):
        raise ValueError(f"{name}: X contains NaN or infinity.")
    if y.ndim not in (1, 2):
        raise ValueError(f"{name}: y must be 1-D (M,) or 2-D (M, n_snapshots), got shape "
                         f"{tuple(y.shape)}.")
    if y.shape[0] != A.shape[0]:
        raise ValueError(f"{name}: y has {y.shape[0]} rows but the dictionary has "
                         f"{A.shape[0]} rows (measurements).")
    if not xp.isdtype(y.dtype, numeric):
        raise TypeError(f"{name}: y must be numeric, got dtype {y.dtype}.")
    if not bool(xp.all(xp.isfinite(y))):
        raise ValueError(f"{name}: y contains NaN or infinity.")
    return A, (y[:, None] if y.ndim == 1 else y), y.ndim == 1


def _dtypes_xp(xp, *dts):
    """(output dtype, work dtype): float32 stays float32 (complex64 for complex), the work
    is in float64/complex128 as on NumPy; integer inputs give float64."""
    cplx = any(xp.isdtype(d, "complex floating") for d in dts)
    single = all(d in (xp.float32, xp.complex64) for d in dts)
    if cplx:
        return (xp.complex64 if single else xp.complex128), xp.complex128
    return (xp.float32 if single else xp.float64), xp.float64


def _sbl_xp(xp, X, y, solver, noise_variance, learn_noise, prune_rtol, prune_atol, max_iter,
            tol, stop, priors, init, callback, verbose):
    """:func:`sbl` on namespace arrays: every array stays in ``X``'s namespace and device;
    the scalars of each iteration (cost, noise variance, the largest ``gamma``, the
    stopping value, the active count) are read as host floats, as the NumPy loop does."""
    name = "sbl"
    A, Y, was_1d = _check_dense_xp(xp, X, y, name)
    check_common(name, solver, noise_variance, learn_noise, tol, stop, priors)
    check_scalar(prune_rtol, "prune_rtol", name, lower=0.0, upper=1.0)
    check_scalar(prune_atol, "prune_atol", name, lower=0.0)
    lambda_1, lambda_2 = priors["lambda_1"], priors["lambda_2"]
    alpha_1, alpha_2 = priors["alpha_1"], priors["alpha_2"]
    out_dtype, work = _dtypes_xp(xp, A.dtype, Y.dtype)
    A = xp.astype(A, work)
    Y = xp.astype(Y, work)
    M, N = A.shape
    L = Y.shape[1]
    dev = device(A)
    if init is None:
        gamma = xp.ones(N, dtype=xp.float64, device=dev)
    else:
        gamma = xp.reshape(asarray_on(init, A, dtype=xp.float64), (-1,))
        if gamma.shape != (N,) or not bool(xp.all(xp.isfinite(gamma) & (gamma > 0))):
            raise ValueError(f"{name}: init (the initial prior variances gamma) must hold {N} "
                             "positive finite values.")
        gamma = xp.asarray(gamma, copy=True)
    mon = LoopMonitor(name, max_iter=max_iter, tol=tol, callback=callback, verbose=verbose,
                      criterion=CRITERIA[stop], keep_finite=False)
    sigma2 = initial_noise(Y, noise_variance)
    floor = noise_floor(Y)
    gram_full = _ht(xp, A) @ A if M >= N else None
    active = xp.ones(N, dtype=xp.bool, device=dev)
    mu_full = xp.zeros((N, L), dtype=work, device=dev)
    n_active = N
    if not bool(xp.any(Y != 0)):  # y = 0: the evidence is maximal at gamma = 0, x = 0
        active = xp.zeros(N, dtype=xp.bool, device=dev)
        gamma = xp.zeros(N, dtype=xp.float64, device=dev)
        n_active = 0
        mon.converged, mon.stopped_by, mon.stop_crit = True, "zero_targets", 0.0
    for it in range(1, mon.max_iter + 1 if n_active else 1):
        idx = xp.nonzero(active)[0]
        pos = _scatter_positions(xp, active)
        g_a = xp.take(gamma, idx)
        gram = None
        if gram_full is not None:
            gram = xp.take(xp.take(gram_full, idx, axis=0), idx, axis=1)
        mu, sdiag, logdet, rss, _ = _sbl_posterior_xp(xp, xp.take(A, idx, axis=1), Y, g_a,
                                                      sigma2, gram, False)
        rss /= L
        m2 = xp.mean(_real(xp, xp.conj(mu) * mu), axis=1)
        cost = logdet + (rss / sigma2 + float(xp.sum(m2 / g_a)))
        sum_g = float(xp.sum(1.0 - sdiag / g_a))
        gamma_new = _expand(xp, gamma_update(solver, m2, sdiag, g_a, lambda_1, lambda_2),
                            active, pos)
        sigma2_new = sigma2
        if learn_noise:
            sigma2_new = max(noise_update(solver, rss, M, sum_g, sigma2, alpha_1, alpha_2),
                             floor)
        gmax = float(xp.max(gamma_new))
        if not (math.isfinite(cost) and math.isfinite(gmax) and math.isfinite(sigma2_new)):
            mon.n_iter, mon.stopped_by = it, "nonfinite"
            break
        mu_old = mu_full if stop == "coef" else None  # rebound below, never written
        keep = active & (gamma_new > prune_atol) & (gamma_new >= prune_rtol * gmax) \
            & (gamma_new > 0)
        gamma_raw = gamma_new if callback is not None else None
        gamma_new = xp.where(keep, gamma_new, 0.0)
        mu_full = xp.where(keep[:, None], _expand(xp, mu, active, pos), 0.0)
        if stop == "gamma":
            crit = relative_change(gamma_new, gamma)
        else:
            crit = float(xp.sum(xp.abs(mu_full - mu_old))) if it > 1 else math.inf
        gamma, sigma2, active = gamma_new, sigma2_new, keep
        n_active = int(xp.sum(xp.astype(active, xp.int64)))
        if _check(mon, it, mu_full[:, 0] if was_1d else mu_full, crit, cost, gamma=gamma,
                  gamma_unpruned=gamma_raw, logdet=logdet, rss=rss, noise_variance=sigma2,
                  n_active=n_active):
            break
    # final E-step with the last (finite) gamma and sigma^2
    mu_full = xp.zeros((N, L), dtype=work, device=dev)
    sdiag_full = xp.zeros(N, dtype=xp.float64, device=dev)
    if n_active:
        idx = xp.nonzero(active)[0]
        pos = _scatter_positions(xp, active)
        gram = None
        if gram_full is not None:
            gram = xp.take(xp.take(gram_full, idx, axis=0), idx, axis=1)
        post = _sbl_posterior_xp(xp, xp.take(A, idx, axis=1), Y, xp.take(gamma, idx), sigma2,
                                 gram, False)
        mu_full = _expand(xp, post.mean, active, pos)
        sdiag_full = _expand(xp, post.sdiag, active, pos)
    x = xp.astype(mu_full[:, 0] if was_1d else mu_full, out_dtype)
    if mon.stopped_by == "nonfinite":
        mon.last_finite = x if all_finite((x, sdiag_full)) else None
    return mon.result(x, gamma=gamma, sigma_diag=sdiag_full, noise_variance=sigma2,
                      active=xp.asarray(active, copy=True), n_active=n_active, solver=solver,
                      stop=stop, stacklevel=3)

