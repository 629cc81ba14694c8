"""Kronecker-structured sparse Bayesian learning (KroSBL, He & Joseph 2024).

Dictionary ``A = A_1 ⊗ ... ⊗ A_I`` and prior variances ``gamma = gamma_1 ⊗ ... ⊗ gamma_I``.
The E-step never forms ``A`` nor ``Sigma``: with ``A_i diag(gamma_i) A_i^H = U_i diag(p_i)
U_i^H`` (one small ``eigh`` per factor) and ``B_i = diag(gamma_i) A_i^H U_i``,

    d        = 1 / (sigma^2 + p_1 ⊗ ... ⊗ p_I)
    mu       = (B_1 ⊗ ... ⊗ B_I) [d ⊙ (U_1 ⊗ ... ⊗ U_I)^H y]
    diag Sig = gamma - (|B_1|^2 ⊗ ... ⊗ |B_I|^2) d

(Kronecker products applied by mode products). The M-step fits ``⊗ gamma_i`` to the
posterior second moments ``Lambda = |mu|^2 + diag Sigma`` (an ``I``-way tensor) by
alternating minimisation of ``sum_j log gamma_j + Lambda_j / gamma_j`` ("am") or by
sequential rank-one SVDs ("svd"); the pattern-coupled variant (PC-KroSBL) replaces a factor
by ``1e-5 + C gamma_i`` with ``C`` tridiagonal and finds ``gamma_i`` by non-negative least
squares inside the AM sweep.
"""

from __future__ import annotations

import math
from contextlib import nullcontext

import numpy as np
from scipy.optimize import nnls
from threadpoolctl import ThreadpoolController

from ..._core.loop import LoopMonitor, all_finite, copy_array
from ...backends import non_numpy_namespace, require_host
from ...linalg import KroneckerOperator, kron_apply
from ...utils.validation import check_int, check_scalar
from ._common import (
    CRITERIA,
    SBLPosterior,
    check_noise,
    check_targets,
    initial_noise,
    noise_floor,
    noise_update,
    relative_change,
    shape_output,
)

__all__ = ["kronecker_sbl", "kronecker_posterior"]

SOLVERS = ("svd", "am")
PRUNE_RTOL = {"svd": 1e-3, "am": 1e-2}  # the reference code's per-factor relative rules
COUPLING_OFFSET = 1e-5  # gamma_tilde = 1e-5 + C gamma, as in PC-KroSBL
_TINY = np.finfo(np.float64).tiny
SMALL_FACTOR = 512  # factors up to this size run their BLAS/LAPACK calls on one thread


def _reshape(xp, a, shape):
    """``xp.reshape(a, shape)``; NumPy arrays take the method (a few times faster than the
    function on the tiny arrays of these loops)."""
    return a.reshape(shape) if type(a) is np.ndarray else xp.reshape(a, shape)


def _kron(vectors, xp=np):
    """``v_1 ⊗ ... ⊗ v_I`` of vectors of namespace ``xp`` (outer products; ``np.kron`` is
    much slower)."""
    out = vectors[0]
    for v in vectors[1:]:
        out = _reshape(xp, out[:, None] * v[None, :], (-1,))
    return out


def kronecker_posterior(factors, gammas, y, sigma2):
    """Kronecker E-step: posterior mean, covariance diagonal, ``log det C`` and residual.

    Parameters
    ----------
    factors : sequence of ndarray, each of shape (m_i, n_i)
    gammas : sequence of ndarray, each of shape (n_i,)
        Non-negative factor prior variances (``gamma = gamma_1 ⊗ ... ⊗ gamma_I``).
    y : ndarray of shape (m_1 ... m_I, L)
    sigma2 : float
        Noise variance (> 0).

    Returns
    -------
    posterior : SBLPosterior
        ``mean`` (n_1 ... n_I, L), ``sdiag`` (n_1 ... n_I,), ``logdet``
        ``log det(sigma^2 I + A Gamma A^H)``, ``rss`` ``||y - A mean||_F^2`` (free here: the
        residual is ``sigma^2 (⊗ U_i) [d ⊙ (⊗ U_i)^H y]`` and the ``U_i`` are unitary), and
        ``cov`` ``None`` (the full covariance is never formed).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.solvers import kronecker_posterior, sbl_posterior
    >>> rng = np.random.default_rng(0)
    >>> F = [rng.standard_normal((3, 5)), rng.standard_normal((4, 6))]
    >>> g = [rng.random(5) + 0.1, rng.random(6) + 0.1]
    >>> y = rng.standard_normal((12, 1))
    >>> post = kronecker_posterior(F, g, y, 0.3)
    >>> dense = sbl_posterior(np.kron(*F), y, np.kron(*g), 0.3)
    >>> bool(np.allclose(post.mean, dense.mean) and np.allclose(post.sdiag, dense.sdiag))
    True
    """
    xp = None if isinstance(y, np.ndarray) else _namespace_of(factors, y, *gammas)
    if xp is not None:  # CuPy, array_api_strict ...
        from ._kronecker_xp import kronecker_posterior_xp

        return kronecker_posterior_xp(xp, list(factors), list(gammas), y, float(sigma2))
    AGs = [A_i * g_i for A_i, g_i in zip(factors, gammas)]
    Cs = [AG @ A_i.conj().T for AG, A_i in zip(AGs, factors)]
    if len(Cs) > 1 and all(C.shape == Cs[0].shape for C in Cs):
        P, U = np.linalg.eigh(np.stack(Cs))  # one stacked call for equal factor sizes
        ps, Us = list(P), list(U)
    else:
        eig = [np.linalg.eigh(C) for C in Cs]
        ps, Us = [e[0] for e in eig], [e[1] for e in eig]
    ps = [np.maximum(p, 0.0) for p in ps]  # eigh may return tiny negatives
    Bs = [AG.conj().T @ U for AG, U in zip(AGs, Us)]  # diag(gamma_i) A_i^H U_i
    s = sigma2 + _kron(ps)
    d = 1.0 / s
    z = kron_apply([U.conj().T for U in Us], y) * d[:, None]
    mu = kron_apply(Bs, z)
    sdiag = _kron(gammas) - np.real(kron_apply([np.abs(B) ** 2 for B in Bs], d))
    logdet = float(np.sum(np.log(s)))
    rss = sigma2 ** 2 * float(np.real(np.vdot(z, z)))
    return SBLPosterior(mu, np.maximum(sdiag, 0.0), logdet, rss, None)


def _namespace_of(factors, y, *more):
    """The namespace of non-NumPy array-API inputs (a list of factors or one 2-D array,
    ``y``), or None for NumPy inputs (and the host-only KroneckerOperator)."""
    if isinstance(factors, KroneckerOperator):
        require_host("kronecker_sbl", y)
        return None
    fl = [factors] if getattr(factors, "ndim", None) == 2 else (
        list(factors) if isinstance(factors, (list, tuple)) else [factors])
    return non_numpy_namespace(*fl, y, *more)


def _tridiag(n, c):
    C = np.eye(n)
    i = np.arange(n - 1)
    C[i, i + 1] = c
    C[i + 1, i] = c
    return C


def _am_factor(xp, Lam, gammas, i):
    """AM right-hand side of factor ``i``: the mean over the other modes of
    ``Lam / ⊗_{k≠i} gamma_k`` (any namespace ``xp``)."""
    W = Lam
    for k, g in enumerate(gammas):
        if k == i:
            continue
        shape = [1] * Lam.ndim
        shape[k] = g.shape[0]
        W = W / _reshape(xp, xp.maximum(g, float(_TINY)), tuple(shape))
    axes = tuple(k for k in range(Lam.ndim) if k != i)
    return xp.mean(W, axis=axes) if axes else copy_array(W)


def _normalise(gammas, xp=np):
    """Fix the scale ambiguity: unit norm for all but the last factor, which takes the scale
    (the factors are arrays of namespace ``xp``)."""
    norm = np.linalg.norm if xp is np else xp.linalg.vector_norm
    scale = 1.0
    out = []
    for g in gammas[:-1]:
        n = float(norm(g))
        n = n if n > 0 else 1.0
        out.append(g / n)
        scale *= n
    out.append(gammas[-1] * scale)
    return out


def _m_step_am(Lam, gammas, coupling_mats, am_tol, am_max_iter, xp=np):
    """AM sweeps (hard cap ``am_max_iter``); returns the factors and the sweeps done.
    ``coupling_mats`` (PC-KroSBL, SciPy's NNLS) are NumPy-only: all ``None`` for other
    namespaces ``xp``."""
    gammas = list(gammas)  # factors are replaced, never written into
    old = _kron(gammas, xp)
    sweeps = 0
    for sweeps in range(1, am_max_iter + 1):  # noqa: B007 - the count is returned
        for i in range(len(gammas)):
            rhs = _am_factor(xp, Lam, gammas, i)
            if coupling_mats[i] is not None:
                raw, _ = nnls(coupling_mats[i], rhs)
                gammas[i] = COUPLING_OFFSET + coupling_mats[i] @ raw
            else:
                gammas[i] = rhs
        gammas = _normalise(gammas, xp)
        new = _kron(gammas, xp)
        if relative_change(new, old) < am_tol:
            break
        old = new
    return gammas, sweeps


def _check_options(name, default_rtol, prune_rtol, prune_atol, am_max_iter, tol, am_tol,
                   max_iter):
    """The scalar options of :func:`kronecker_sbl` checked (any namespace):
    ``(prune_rtol, am_max_iter, max_iter)``, ``default_rtol`` for a ``None`` rtol."""
    rtol = default_rtol if prune_rtol is None else check_scalar(
        prune_rtol, "prune_rtol", name, lower=0.0, upper=1.0)
    check_scalar(prune_atol, "prune_atol", name, lower=0.0)
    am_max_iter = check_int(am_max_iter, "am_max_iter", name, lower=1)
    check_scalar(tol, "tol", name, lower=0.0)
    check_scalar(am_tol, "am_tol", name, lower=0.0)
    max_iter = check_int(max_iter, "max_iter", name, lower=1)
    return rtol, am_max_iter, max_iter


def _top_singular(R, xp=np):
    """Top singular triple ``(u, s, v)`` of a non-negative ``R`` of shape (p, q), p <= q,
    from the ``p x p`` Gram matrix (only the top triple is needed, not a full SVD); ``s``
    a host float."""
    w, U = xp.linalg.eigh(R @ R.T)
    s = math.sqrt(max(float(w[-1]), 0.0))
    u = U[:, -1]
    v = (R.T @ u) / s if s > 0 else xp.zeros_like(R[0, :])
    return u, s, v


def _m_step_svd(Lam, xp=np):
    """Sequential rank-one SVDs: gamma_1 = |u_1| of Lam as (n_1, rest), then recurse on s v
    (``Lam`` an array of namespace ``xp``)."""
    shape = Lam.shape
    gammas = []
    R = _reshape(xp, Lam, (shape[0], -1))
    for i in range(len(shape) - 1):
        if R.shape[0] <= R.shape[1]:
            u, s, v = _top_singular(R, xp)
        else:
            v, s, u = _top_singular(R.T, xp)
        gammas.append(xp.abs(u))  # the Perron vector, up to sign
        R = _reshape(xp, xp.abs(s * v), (shape[i + 1], -1))
    gammas.append(copy_array(_reshape(xp, R, (-1,))))
    return gammas


def _as_factors(factors, name):
    if isinstance(factors, KroneckerOperator):
        return list(factors.factors)
    if isinstance(factors, np.ndarray) and factors.ndim == 2:
        return [factors]
    if isinstance(factors, (list, tuple)):
        return list(KroneckerOperator(factors).factors)
    raise TypeError(f"{name}: factors must be a KroneckerOperator, a list of 2-D factor "
                    f"matrices or one 2-D array, got {type(factors).__name__}.")


def check_coupling(coupling, n_factors, solver, name):
    """``coupling`` as a tuple of ``n_factors`` non-negative floats (0: no coupling) or None."""
    if coupling is None:
        return None
    try:
        c = tuple(coupling)
    except TypeError:
        raise TypeError(f"{name}: coupling must be a sequence of {n_factors} numbers (one per "
                        f"factor, 0 for none), got {coupling!r}.") from None
    if len(c) != n_factors:
        raise ValueError(f"{name}: coupling has {len(c)} entries but the dictionary has "
                         f"{n_factors} factors; give one coefficient per factor (0 for none).")
    c = tuple(check_scalar(v, "coupling", name, lower=0.0) for v in c)
    if any(v > 0 for v in c) and solver != "am":
        raise ValueError(f"{name}: coupling (PC-KroSBL) needs solver='am', got solver={solver!r}.")
    return c


_CONTROLLER = []


def _blas_controller():
    """One ``ThreadpoolController`` per process (building it scans the loaded libraries,
    ~6 ms, more than a small fit's iterations)."""
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0]


def _max_factor_dim(factors):
    try:
        if isinstance(factors, KroneckerOperator):
            shapes = factors.factor_shapes
        elif isinstance(factors, np.ndarray) and factors.ndim == 2:
            shapes = [factors.shape]
        else:
            shapes = [np.shape(f) for f in factors]
        return max(max(sh) for sh in shapes)
    except (TypeError, ValueError):
        return None


def kronecker_sbl(factors, y, *, solver="svd", coupling=None, noise_variance=None,
                  learn_noise=True, prune_rtol=None, prune_atol=0.0, max_iter=500, tol=1e-4,
                  am_tol=1e-5, am_max_iter=100, init=None, callback=None, verbose=None):
    """Sparse Bayesian learning with a Kronecker dictionary and a Kronecker prior (KroSBL).

    Objective: the SBL cost ``log det C + y^H C^{-1} y`` (per snapshot, averaged over the
    snapshots), ``C = sigma^2 I + A Gamma A^H``, over ``gamma = gamma_1 ⊗ ... ⊗ gamma_I``;
    recorded in ``history`` for the ``gamma`` of each E-step.

    Parameters
    ----------
    factors : KroneckerOperator or sequence of ndarray, each of shape (m_i, n_i)
        ``A = A_1 ⊗ ... ⊗ A_I`` (real or complex; C-order index convention of
        :func:`numpy.kron`). One 2-D array is the one-factor case (classical EM SBL).
    y : ndarray of shape (M,) or (M, L)
        Measurements, ``M = m_1 ... m_I``; ``L`` snapshots share the prior.
    solver : {"svd", "am"}, default="svd"
        M-step: sequential rank-one SVDs (fast, the paper's most accurate) or alternating
        minimisation (a stationary point of the SBL cost is guaranteed).
    coupling : sequence of float or None, default=None
        One coefficient ``c_i >= 0`` per factor (0: none): factor ``i`` becomes
        ``1e-5 + C_i gamma_i`` with ``C_i = I + c_i (super + sub-diagonal)``, the
        pattern-coupled block-sparse prior of PC-KroSBL (needs ``solver="am"``).
    noise_variance : float or None, default=None
        Known ``sigma^2`` (with ``learn_noise=False``) or the starting value (default the
        variance of ``y``).
    learn_noise : bool, default=True
        EM update of ``sigma^2`` each iteration.
    prune_rtol : float or None, default=None
        Per factor, prune entry ``j`` when ``gamma_i[j] < prune_rtol * max(gamma_i)``; None
        takes the reference code's value (1e-3 for "svd", 1e-2 for "am").
    prune_atol : float, default=0.0
        Also prune ``gamma_i[j] < prune_atol`` (on the factor entries after the scale
        normalisation, as the reference code; not on ``⊗ gamma``).
    max_iter : int, default=500
        Hard cap on the iterations. The reference code stops at 150; AM often needs
        200-300 iterations when the factors are far from square (m_i ~ n_i / 2), and
        stopping it early leaves dense, poor estimates. SVD usually converges in 20-100.
    tol : float, default=1e-4
        Stop when ``||gamma_new - gamma_old|| / ||gamma_old||`` falls to ``tol`` (full-length
        ``⊗ gamma``, zeros at pruned entries).
    am_tol, am_max_iter : float, int, default=1e-5, 100
        The inner AM sweeps of each M-step stop at this relative change of ``⊗ gamma_i``,
        or after ``am_max_iter`` sweeps (a hard cap; the sweeps done are counted in
        ``history`` and ``info["am_sweeps"]``, an inner stop at the cap is not a warning).
    init : sequence of ndarray, each of shape (n_i,), default=None
        Initial factor prior variances ``gamma_i`` (positive), used as given in the first
        E-step (only rescaled: all but the last to unit norm, the last takes the scale, so
        ``⊗ gamma_i`` is unchanged). Default: ``⊗ gamma_i = 1`` (with coupling, the coupled
        factors ``1e-5 + C_i gamma_i`` of that start).
    callback : callable, default=None
        ``callback(state)`` with a :class:`~sparsopt.solvers.SolverState` after each
        iteration: ``state.x`` the posterior mean of that iteration's E-step (full length,
        zero at pruned entries, shaped as the result's ``x``), ``state.objective`` the SBL cost,
        ``state.info``: ``gamma_factors`` (the updated full-length factors, zeros at pruned
        entries), ``noise_variance``, ``n_active``. Returning True stops the run
        (``converged=False``, ``stopped_by="callback"``, no ``ConvergenceWarning``).
    verbose : int or None, default=None
        One line per iteration when > 0; ``None`` reads ``sparsopt.get_config()``.

    Returns
    -------
    result : SolverResult
        ``x`` the posterior mean for the final ``gamma``, ``(N,)`` or ``(N, L)``, zero at
        pruned entries; ``info``: ``gamma`` (N,), ``gamma_factors`` (full-length factor
        vectors, zeros at pruned entries), ``sigma_diag`` (N,), ``noise_variance``,
        ``active_factors`` (masks), ``n_active``, ``solver``, ``am_sweeps`` (total inner AM
        sweeps, 0 for "svd"), ``stopped_by`` (``"tol"``, ``"max_iter"``, ``"callback"``,
        ``"nonfinite"``, ``"all_pruned"`` or ``"zero_targets"``). ``history`` holds the SBL
        cost, ``noise_variance``, ``n_active`` and ``am_sweeps`` per iteration.

    Warns
    -----
    ConvergenceWarning
        Once, when ``max_iter`` is reached before the criterion falls to ``tol``.
    NonFiniteIterateWarning
        When an iteration produced NaN or infinity: the result is the posterior of the last
        finite prior and noise variance.

    Notes
    -----
    A list of factors (or one 2-D array) and ``y`` from another array-API library (CuPy,
    ``array_api_strict`` ...) are solved in their namespace and on their device (the same
    E-step, M-steps and pruning; float64/complex128 work, float32 kept for ``x``); ``x``
    and the arrays of ``info`` are arrays of that namespace. The pattern-coupled prior
    (``coupling``, solved by SciPy's NNLS) and a :class:`~sparsopt.linalg.KroneckerOperator`
    (a SciPy operator) are NumPy-only and raise ``TypeError`` with such arrays.

    References
    ----------
    .. [1] Y. He and G. Joseph, "Bayesian algorithms for Kronecker-structured sparse vector
       recovery with application to IRS-MIMO channel estimation", IEEE Trans. Signal
       Process., 2024 (arXiv:2307.14719).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.datasets import make_kronecker_problem
    >>> from sparsopt.solvers import kronecker_sbl
    >>> factors, y, x = make_kronecker_problem((6, 6), (8, 8), n_nonzero=2, snr=30,
    ...                                        random_state=0)
    >>> res = kronecker_sbl(factors, y)
    >>> bool(np.sum((res.x - x) ** 2) / np.sum(x ** 2) < 1e-2)
    True
    """
    xp = _namespace_of(factors, y)
    if xp is not None:  # CuPy, array_api_strict ...: the same algorithm in their namespace
        from ._kronecker_xp import kronecker_sbl_xp

        facs = [factors] if getattr(factors, "ndim", None) == 2 else list(factors)
        return kronecker_sbl_xp(
            xp, facs, y, solver=solver, coupling=coupling, noise_variance=noise_variance,
            learn_noise=learn_noise, prune_rtol=prune_rtol, prune_atol=prune_atol,
            max_iter=max_iter, tol=tol, am_tol=am_tol, am_max_iter=am_max_iter, init=init,
            callback=callback, verbose=verbose, solvers=SOLVERS, prune_rtols=PRUNE_RTOL,
            check_coupling=check_coupling)
    big = _max_factor_dim(factors)
    # hundreds of tiny eigh/svd/GEMM calls: threads only add overhead (and stall badly when
    # the cores are shared), so small factors run on one BLAS thread
    small = big is not None and big <= SMALL_FACTOR
    with _blas_controller().limit(limits=1, user_api="blas") if small else nullcontext():
        return _kronecker_sbl(factors, y, solver=solver, coupling=coupling,
                              noise_variance=noise_variance, learn_noise=learn_noise,
                              prune_rtol=prune_rtol, prune_atol=prune_atol, max_iter=max_iter,
                              tol=tol, am_tol=am_tol, am_max_iter=am_max_iter, init=init,
                              callback=callback, verbose=verbose)


def _check_init(init, ns, name):
    """``init`` as a list of positive finite float64 factor vectors of lengths ``ns``."""
    try:
        gs = [np.array(g, dtype=np.float64).reshape(-1) for g in init]
    except (TypeError, ValueError):
        raise TypeError(f"{name}: init must be a sequence of {len(ns)} vectors (one per "
                        f"factor), got {type(init).__name__}.") from None
    if len(gs) != len(ns) or any(g.shape != (n,) for g, n in zip(gs, ns)) \
            or not all(np.all(np.isfinite(g)) and np.all(g > 0) for g in gs):
        raise ValueError(f"{name}: init (the initial factor prior variances) must hold "
                         f"{len(ns)} vectors of positive finite values, of lengths "
                         f"{tuple(ns)}.")
    return gs


def _kronecker_sbl(factors, y, *, solver, coupling, noise_variance, learn_noise, prune_rtol,
                   prune_atol, max_iter, tol, am_tol, am_max_iter, init, callback, verbose):
    name = "kronecker_sbl"
    if solver not in SOLVERS:
        raise ValueError(f"{name}: solver must be one of {SOLVERS}, got {solver!r}.")
    facs = _as_factors(factors, name)
    for i, f in enumerate(facs):
        if not np.all(np.isfinite(f)):
            raise ValueError(f"{name}: factor {i} contains NaN or infinity.")
    I = len(facs)  # noqa: E741
    M = int(np.prod([f.shape[0] for f in facs]))
    ns = [f.shape[1] for f in facs]
    N = int(np.prod(ns))
    Y, was_1d = check_targets(y, M, name)
    coupling = check_coupling(coupling, I, solver, name)
    check_noise(name, noise_variance, learn_noise)
    rtol, am_max_iter, max_iter = _check_options(name, PRUNE_RTOL[solver], prune_rtol,
                                                 prune_atol, am_max_iter, tol, am_tol,
                                                 max_iter)
    if init is not None:
        init = _check_init(init, ns, name)
    mon = LoopMonitor(name, max_iter=max_iter, tol=tol, callback=callback, verbose=verbose,
                      criterion=CRITERIA["gamma"], keep_finite=False,
                      hint="AM often needs 200-300 iterations" if solver == "am" else "")
    dtypes = [f.dtype for f in facs] + [Y.dtype]
    cplx = any(np.issubdtype(t, np.complexfloating) for t in dtypes)
    work = np.complex128 if cplx else np.float64
    out_dtype = np.result_type(*dtypes, np.float32)
    facs = [np.asarray(f, dtype=work) for f in facs]
    Y = np.asarray(Y, dtype=work)
    L = Y.shape[1]

    cmats = [None] * I
    if coupling is not None:
        for i, c in enumerate(coupling):
            if c > 0:
                cmats[i] = _tridiag(ns[i], c)
    if init is not None:
        gammas = _normalise(init)
    else:
        # initial factors: 1/sqrt(n_i) for all but the last, the last carries the scale: ⊗ = 1
        gammas = [np.full(n, 1.0 / np.sqrt(n)) for n in ns[:-1]]
        gammas.append(np.full(ns[-1], float(np.sqrt(np.prod(ns[:-1])))))
        if coupling is not None:
            for i in range(I):
                if cmats[i] is not None:
                    gammas[i] = COUPLING_OFFSET + cmats[i] @ gammas[i]
            gammas = _normalise(gammas)
    keep = [np.arange(n) for n in ns]  # kept (absolute) indices per factor
    sigma2 = initial_noise(Y, noise_variance)
    floor = noise_floor(Y)

    def full_factors(gammas, keep):
        out = []
        for n, k, g in zip(ns, keep, gammas):
            v = np.zeros(n)
            v[k] = g
            out.append(v)
        return out

    gamma_full = _kron(full_factors(gammas, keep))
    am_total = 0
    if not np.any(Y):  # y = 0: the evidence is maximal at gamma = 0, x = 0
        keep = [k[:0] for k in keep]
        gammas = [g[:0] for g in gammas]
        mon.converged, mon.stopped_by, mon.stop_crit = True, "zero_targets", 0.0
    for it in range(1, 1 if mon.stopped_by == "zero_targets" else mon.max_iter + 1):
        good = (gammas, keep, list(cmats), sigma2)  # the state to roll back to
        # prune each factor (relative and absolute rules), with its coupling matrix
        keep, cmats = list(keep), list(cmats)
        gammas = list(gammas)
        for i in range(I):
            g = gammas[i]
            sel = (g >= rtol * g.max()) & (g >= prune_atol) & (g > 0)
            if not sel.all():
                keep[i] = keep[i][sel]
                gammas[i] = g[sel]
                if cmats[i] is not None:
                    cmats[i] = cmats[i][np.ix_(sel, sel)]
        if any(k.size == 0 for k in keep):
            mon.converged, mon.stopped_by = True, "all_pruned"
            break
        Fa = [f[:, k] for f, k in zip(facs, keep)]
        keep_e = list(keep)  # the E-step's indices (mu lives on them)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            # overflow is caught by the finiteness guard below, with one clear warning
            mu, sdiag, logdet, rss, _ = kronecker_posterior(Fa, gammas, Y, sigma2)
            rss /= L
            g_e = _kron(gammas)
            m2 = np.mean(np.abs(mu) ** 2, axis=1)
            pos = g_e > 0
            cost = logdet + rss / sigma2 + float(np.sum(m2[pos] / g_e[pos]))
            if learn_noise:  # EM, with the E-step's gamma (sum_j 1 - Sigma_jj / gamma_j)
                sum_g = float(np.sum(1.0 - sdiag[pos] / g_e[pos]))
                sigma2 = max(noise_update("em", rss, M, sum_g, sigma2, 0.0, 0.0), floor)
            Lam = (m2 + sdiag).reshape([k.size for k in keep])
            sweeps = 0
            if solver == "svd":
                gammas = _m_step_svd(Lam)
            else:
                gammas, sweeps = _m_step_am(Lam, gammas, cmats, am_tol, am_max_iter)
            factors_now = full_factors(gammas, keep)
            new_full = _kron(factors_now)
            crit = relative_change(new_full, gamma_full)
        # scalar guards: a NaN or inf in mu reaches the cost, one in gamma the criterion
        if not (math.isfinite(cost) and math.isfinite(crit) and math.isfinite(sigma2)):
            gammas, keep, cmats, sigma2 = good  # roll back to the last check's state
            mon.n_iter, mon.stopped_by = it, "nonfinite"
            break
        am_total += sweeps
        gamma_full = new_full
        if callback is not None:  # the full-length mean, shaped as x, only for the callback
            x_now = np.zeros((N, L), dtype=work)
            x_now[np.ravel_multi_index(np.ix_(*keep_e), ns).reshape(-1)] = mu
            x_now = x_now[:, 0] if was_1d else x_now
        else:
            x_now = mu
        if mon.check(it, x_now, crit, cost, gamma_factors=factors_now, noise_variance=sigma2,
                     n_active=math.prod(k.size for k in keep), am_sweeps=sweeps):
            break
    # final E-step with the last (finite) gamma: mu and Sigma on the kept indices, scattered
    mu_full = np.zeros((N, L), dtype=work)
    sd_full = np.zeros(N)
    if all(k.size for k in keep):
        Fa = [f[:, k] for f, k in zip(facs, keep)]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            post = kronecker_posterior(Fa, gammas, Y, sigma2)
        flat = np.ravel_multi_index(np.ix_(*keep), ns).reshape(-1)
        mu_full[flat] = post.mean
        sd_full[flat] = post.sdiag
    gamma_factors = full_factors(gammas, keep)
    x = shape_output(mu_full, was_1d, out_dtype)
    if mon.stopped_by == "nonfinite":
        # the monitor returns its last finite iterate: the posterior of the last finite prior
        # (the initial one when the first iteration failed); none if that E-step fails too
        mon.last_finite = x if all_finite((x, sd_full)) else None
    actives = []
    for n, k in zip(ns, keep):
        a = np.zeros(n, dtype=bool)
        a[k] = True
        actives.append(a)
    return mon.result(
        x, stacklevel=3, gamma=_kron(gamma_factors), gamma_factors=gamma_factors,
        sigma_diag=sd_full, noise_variance=sigma2, active_factors=actives,
        n_active=int(np.prod([k.size for k in keep])), solver=solver, am_sweeps=am_total,
    )
