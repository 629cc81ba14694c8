"""Orthogonal dictionary learning by lp-norm maximization over O(N).

Two solvers share one objective, ``f(A) = 1/(p T) sum_t ||A x_t||_p^p`` maximized over
orthogonal ``A`` (rows are atoms, so the codes are simply ``X @ A.T``):

* ``"gpm"`` (alias ``"msp"``): the batch generalized power method / MSP iteration
  ``A <- Polar(grad f(A))`` (Zhai et al. 2020 for p=4, Shen et al. 2020 for p >= 3);
* ``"online_fw"``: the stochastic Frank-Wolfe method with recursive gradient averaging
  of Xue & Lau (2021), one step per mini-batch, re-projected onto O(N).

Stationarity is measured by the Frank-Wolfe gap over the spectral-norm ball
``conv O(N)``: ``gap(A) = ||G||_* - <G, A>`` with ``G = grad f(A)``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._core.loop import run_iterations
from .._core.progress import fit_progress
from ..utils.estimator import SparsoptEstimatorMixin
from ..utils.parallel import blas_limits
from ..utils.validation import check_array, check_int, check_scalar

SOLVERS = ("gpm", "msp", "online_fw")
SCHEDULES = ("xue_lau", "mokhtari")
_DEFAULT_MAX_ITER = {"gpm": 200, "online_fw": 1}
_DEFAULT_TOL = {"gpm": 1e-6, "online_fw": 1e-4}
# BLAS calls smaller than this (multiply-adds of the largest matmul) run faster on one
# thread: measured 2-10x slower with 2 OpenBLAS threads on a shared 2-core machine for
# N=10..100 (small SVDs and matmuls are latency-bound).
_SMALL_BLAS_WORK = 2**25
_CHUNK_ELEMENTS = 2**22  # rows of X per gradient block: keeps X @ A.T below ~32 MB


# --------------------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------------------

def _check_p(p, owner):
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"{owner}: p must be a real number > 2, got {p!r}.")
    p = float(p)
    if not math.isfinite(p) or p <= 2:
        raise ValueError(
            f"{owner}: p must be a finite real number > 2, got {p!r}. On the orthogonal "
            "group ||A x||_2 = ||x||_2, so p = 2 is constant and carries no information, and "
            "p < 2 favours dense codes; use p=3 (recommended, Shen et al. 2020) or p=4 (MSP)."
        )
    return int(p) if p.is_integer() else p


def _check_solver(solver, owner):
    if solver not in SOLVERS:
        raise ValueError(f"{owner}: solver must be one of {SOLVERS}, got {solver!r}.")
    return "gpm" if solver == "msp" else solver


def _schedule(value, name, owner):
    """A step-size schedule ``t -> float`` (t = 0, 1, ... is the global step counter)."""
    if callable(value):
        return value
    if value == "xue_lau":
        return _xue_lau_rho if name == "rho" else _xue_lau_gamma
    if value == "mokhtari":
        return _mokhtari_rho if name == "rho" else _mokhtari_gamma
    raise ValueError(f"{owner}: {name} must be one of {SCHEDULES} or a callable t -> float, "
                     f"got {value!r}.")


def _xue_lau_rho(t):
    return 4.0 / math.sqrt(t + 1.0)


def _xue_lau_gamma(t):
    return 2.0 / (t + 2.0) ** 0.75


def _mokhtari_rho(t):
    return 4.0 / (t + 8.0) ** (2.0 / 3.0)


def _mokhtari_gamma(t):
    return 2.0 / (t + 8.0)


def _step_value(fn, t, name, owner):
    v = float(fn(t))
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{owner}: the {name} schedule returned {v!r} at step {t}; "
                         "it must return finite values > 0.")
    return v


def _signed_power(Z, p):
    """``sign(Z) * |Z|**(p - 1)`` (the derivative of ``|z|**p / p``), fast for p = 3, 4."""
    if p == 3:
        return Z * np.abs(Z)
    if p == 4:
        return Z * Z * Z
    if isinstance(p, int) and p % 2 == 0:
        return Z ** (p - 1)
    return np.sign(Z) * np.abs(Z) ** (p - 1)


def _grad_obj(A, X, p, owner):
    """Gradient ``sign(Z)|Z|^(p-1)^T X / n`` (Z = X A^T) and objective ``sum |Z|^p / (p n)``."""
    n, n_features = X.shape
    chunk = max(1, _CHUNK_ELEMENTS // max(n_features, 1))
    G = None
    obj = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, n, chunk):
            Xc = X[start:start + chunk]
            Z = Xc @ A.T
            Zp = _signed_power(Z, p)
            Gc = Zp.T @ Xc
            G = Gc if G is None else G + Gc
            obj += float(np.vdot(Zp, Z))
        G /= n
    if not (np.all(np.isfinite(G)) and math.isfinite(obj)):
        raise ValueError(
            f"{owner}: the gradient of the l{p} objective overflowed in {X.dtype}: X is too "
            f"large for p={p}. Rescale X (e.g. divide it by its standard deviation; the "
            "learned dictionary does not depend on the scale), use a smaller p, or float64."
        )
    return G, obj / (p * n)


def _polar(M):
    """Polar factor ``U V^T`` of ``M = U S V^T`` (thin SVD) and the singular values."""
    U, s, Vt = np.linalg.svd(M, full_matrices=False)
    return U @ Vt, s


def _fw_gap(G, s, A):
    """``||G||_* - <G, A>`` and its value relative to ``||G||_*`` (computed in float64)."""
    nuc = float(np.sum(s, dtype=np.float64))
    gap = nuc - float(np.sum(G.astype(np.float64) * A.astype(np.float64)))
    rel = gap / nuc if nuc > 0 else 0.0
    return gap, rel


def _random_orthogonal(n, rng, dtype):
    """Haar-distributed orthogonal matrix (QR of a Gaussian matrix, signs fixed)."""
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    d = np.sign(np.diag(R))
    d[d == 0] = 1.0
    return np.ascontiguousarray((Q * d).astype(dtype))


def _check_n_components(n_components, n_features, owner):
    if n_components is None:
        return n_features
    n_components = check_int(n_components, "n_components", owner, lower=1)
    if n_components > n_features:
        raise ValueError(
            f"{owner}: an orthogonal dictionary has at most n_features={n_features} atoms, got "
            f"n_components={n_components}. Use n_components=None (a complete dictionary); "
            "for overcomplete dictionaries use MiniBatchDictionaryLearning."
        )
    return n_components


def _initial_dictionary(dict_init, n_components, n_features, dtype, rng, owner):
    if dict_init is None:  # first rows of a Haar matrix: the same draws for every k
        return np.ascontiguousarray(_random_orthogonal(n_features, rng, dtype)[:n_components])
    D = check_array(dict_init, "dict_init", owner, ndim=2)
    if D.shape != (n_components, n_features):
        raise ValueError(f"{owner}: dict_init must have shape (n_components, n_features) = "
                         f"{(n_components, n_features)} (atoms as rows), got {D.shape}.")
    A, s = _polar(D.astype(np.float64))
    if s[-1] <= s[0] * 1e-12:
        raise ValueError(f"{owner}: dict_init is singular; its polar factor (the nearest "
                         "orthogonal matrix) is not unique. Pass a full-rank matrix.")
    return np.ascontiguousarray(A.astype(dtype))




def _online_steps(X, A, G, t, *, p, batch_size, rho_fn, gamma_fn, clip_rho, reproject,
                  batch_objective, owner):
    """One stochastic Frank-Wolfe step per mini-batch of ``X`` (rows in the given order).

    Returns the new ``(A, G, t)``; ``A`` and ``G`` are not modified in place.
    """
    G = G.copy()
    for start in range(0, X.shape[0], batch_size):
        Xb = X[start:start + batch_size]
        g, obj = _grad_obj(A, Xb, p, owner)
        rho = _step_value(rho_fn, t, "rho", owner)
        if clip_rho:
            rho = min(rho, 1.0)
        gamma = _step_value(gamma_fn, t, "gamma", owner)
        G *= 1.0 - rho
        G += rho * g
        S, s = _polar(G)
        if s[0] > 0:  # G == 0 (X == 0): every point is stationary, stay
            A = (1.0 - gamma) * A + gamma * S
            if reproject:
                A = _polar(A)[0]
        batch_objective.append(obj)
        t += 1
    return A, G, t


class _State:
    """Mutable solver state for :func:`~sparsopt._core.loop.run_iterations`."""


def _gpm(X, A0, *, p, max_iter, tol, callback, verbose, owner):
    st = _State()
    st.x = A0
    st.G, st.obj = _grad_obj(A0, X, p, owner)
    st.S, st.s = _polar(st.G)

    def step(st, it):
        if st.s[0] > 0:
            st.x = st.S
        st.G, st.obj = _grad_obj(st.x, X, p, owner)
        st.S, st.s = _polar(st.G)

    def crit(st, x_prev):
        st.gap, rel = _fw_gap(st.G, st.s, st.x)
        return rel

    res = run_iterations(
        step, st, stop_crit=crit, max_iter=max_iter, tol=tol, objective=lambda st: st.obj,
        callback=callback, verbose=verbose, solver=f"{owner}(solver='gpm')",
        criterion="relative Frank-Wolfe gap (||G||_* - <G, A>) / ||G||_*",
    )
    return res.with_info(fw_gap=st.gap, relative_fw_gap=res.stop_crit, objective=st.obj,
                         grad_avg=st.G)


def _online_fit(X, A0, *, p, max_iter, tol, batch_size, shuffle, rho_fn, gamma_fn, clip_rho,
                reproject, rng, callback, verbose, owner):
    st = _State()
    st.x = A0
    st.G = np.zeros_like(A0)
    st.t = 0
    st.batch_objective = []

    def step(st, it):
        Xp = X[rng.permutation(X.shape[0])] if shuffle else X
        st.x, st.G, st.t = _online_steps(
            Xp, st.x, st.G, st.t, p=p, batch_size=batch_size, rho_fn=rho_fn,
            gamma_fn=gamma_fn, clip_rho=clip_rho, reproject=reproject,
            batch_objective=st.batch_objective, owner=owner)
        st.out = st.x if reproject else _polar(st.x)[0]
        G_full, st.obj = _grad_obj(st.out, X, p, owner)  # exact gap on the training data
        st.gap, st.rel = _fw_gap(G_full, np.linalg.svd(G_full, compute_uv=False), st.out)

    res = run_iterations(
        step, st, stop_crit=lambda st, x_prev: st.rel, max_iter=max_iter, tol=tol,
        objective=lambda st: st.obj, callback=callback, verbose=verbose,
        solver=f"{owner}(solver='online_fw')",
        criterion="relative Frank-Wolfe gap (||G||_* - <G, A>) / ||G||_* on the training data "
                  "after a pass",
        hint="max_iter is the number of passes over the data for solver='online_fw'",
    )
    out = st.x if reproject else _polar(st.x)[0]
    return type(res)(x=out, n_iter=res.n_iter, converged=res.converged,
                     stop_crit=res.stop_crit, history=res.history, info=res.info).with_info(
        fw_gap=st.gap, relative_fw_gap=st.rel, objective=st.obj, grad_avg=st.G,
        n_steps=st.t, iterate=st.x, batch_objective=np.asarray(st.batch_objective))


# --------------------------------------------------------------------------------------
# public function
# --------------------------------------------------------------------------------------

def orthogonal_dictionary_learning(X, n_components=None, *, p=3, solver="gpm", max_iter=None,
                                   tol=None, batch_size=256, shuffle=True, rho="xue_lau",
                                   gamma="xue_lau", clip_rho=True, reproject=True,
                                   dict_init=None, random_state=None, callback=None,
                                   verbose=None):
    r"""Learn an orthogonal dictionary by lp-norm maximization over O(N).

    Model: ``X = C @ D + noise`` with ``D`` orthogonal (``n_features`` atoms as rows) and
    sparse codes ``C`` (e.g. Bernoulli-Gaussian). Since ``D`` is orthogonal the codes are
    ``X @ D.T``, and sparse codes have a large lp norm (p > 2) among all rotations, so
    ``D`` is estimated by

    .. math:: \max_{A \in O(N)} f(A) = \frac{1}{pT} \sum_{t=1}^{T} \|A x_t\|_p^p ,

    with gradient ``G = (sign(Z) * |Z|**(p-1)).T @ X / T``, ``Z = X @ A.T``. With
    ``n_components = k < N`` the same iterations run over the ``k x N`` matrices with
    orthonormal rows (the Stiefel manifold, whose convex hull is again the spectral-norm
    unit ball): they learn ``k`` orthonormal atoms maximizing the lp norm of the codes.
    This extension is ours; the cited guarantees are for the complete case.

    * ``solver="gpm"`` (alias ``"msp"``): the batch generalized power method
      ``A <- Polar(G(A))``, with ``Polar(G) = U V^T`` for the SVD ``G = U S V^T``. It is
      Frank-Wolfe with step 1 over the spectral-norm ball; for p=4 it is the MSP
      ("matching, stretching, projection") algorithm [1]_, for p >= 3 the GPM of [2]_.
    * ``solver="online_fw"``: the stochastic Frank-Wolfe method with recursive gradient
      averaging of [3]_, one step per mini-batch ``X_t`` (global step counter t = 0, 1, ...):
      ``G <- (1 - rho_t) G + rho_t g_t(A)``, ``A <- (1 - gamma_t) A + gamma_t Polar(G)``,
      then ``A <- Polar(A)`` (``reproject``). Memory is O(N^2), independent of the stream.

    Convergence is measured by the Frank-Wolfe gap over the spectral-norm ball
    ``conv O(N)``: ``gap(A) = ||G||_* - <G, A> >= 0``, zero exactly at the stationary
    points (the fixed points ``A = Polar(G(A))``). The stopping test uses its value
    relative to ``||G||_*``. The problem is scale-invariant (the dictionary does not depend
    on the scale of ``X``); ``X`` is not centered (the model assumes zero-mean codes).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Training signals, one per row. float32 stays float32.
    n_components : int or None, default=None
        Number of atoms, at most ``n_features`` (None: ``n_features``, a complete
        orthogonal dictionary). For overcomplete dictionaries use
        ``MiniBatchDictionaryLearning``.
    p : float, default=3
        Exponent of the lp norm, > 2. ``p=3`` is recommended ([2]_: it recovers the
        dictionary from fewer samples than p=4); ``p=4`` is MSP. For odd or fractional p
        the gradient uses ``sign(z) |z|**(p-1)``.
    solver : {"gpm", "msp", "online_fw"}, default="gpm"
        Batch power method (``"msp"`` is an alias) or online stochastic Frank-Wolfe.
    max_iter : int or None, default=None
        ``"gpm"``: maximum number of iterations (None: 200). ``"online_fw"``: number of
        passes over the data (None: 1, the single-pass streaming setting of [3]_).
    tol : float or None, default=None
        Stop when the relative Frank-Wolfe gap ``(||G||_* - <G, A>) / ||G||_*`` on ``X``
        is at most ``tol``: checked after every iteration for ``"gpm"`` (None: 1e-6) and
        after every pass for ``"online_fw"`` (None: 1e-4; one pass is statistically
        limited, more passes lower the gap slowly). The relative gap is roughly the square
        of the relative distance to the nearest stationary point, and is already ~1e-3 at
        a random start.
    batch_size : int, default=256
        Mini-batch size of ``"online_fw"`` (the last batch of a pass may be smaller).
    shuffle : bool, default=True
        ``"online_fw"``: visit the samples in a new random order at every pass; with
        False, in the order of ``X``.
    rho : {"xue_lau", "mokhtari"} or callable, default="xue_lau"
        Gradient-averaging weights ``rho_t``: ``"xue_lau"`` is ``4 / (t+1)**(1/2)`` [3]_,
        ``"mokhtari"`` is ``4 / (t+8)**(2/3)`` (the convex stochastic FW of [4]_); a
        callable maps the step ``t`` (from 0) to a positive float.
    gamma : {"xue_lau", "mokhtari"} or callable, default="xue_lau"
        Frank-Wolfe step sizes ``gamma_t``: ``"xue_lau"`` is ``2 / (t+2)**(3/4)`` (note
        ``gamma_0 ~ 1.19``, as in the authors' code), ``"mokhtari"`` is ``2 / (t+8)``.
    clip_rho : bool, default=True
        Use ``min(1, rho_t)``. The ``"xue_lau"`` weights exceed 1 for t < 15, which makes
        ``1 - rho_t`` negative; the polar factor is scale-invariant so the unclipped
        schedule of the authors' code also works (same final error in our runs), but
        clipping keeps ``G`` a convex combination of gradients.
    reproject : bool, default=True
        Replace ``A`` by ``Polar(A)`` after every online step (the authors' code). With
        False, ``A`` is a running combination of the Frank-Wolfe vertices (a convex one in
        ``conv O(N)`` when every ``gamma_t <= 1``) and only the returned dictionary is
        projected (re-projection did not change the final error in [3]_'s setting).
    dict_init : array-like of shape (n_components, n_features), default=None
        Initial dictionary (atoms as rows), replaced by its polar factor (the nearest
        matrix with orthonormal rows). None: the first ``n_components`` rows of a
        Haar-random orthogonal matrix drawn from ``random_state``.
    random_state : int, RandomState instance or None, default=None
        Seed of the initial dictionary and of the shuffling.
    callback : callable or None, default=None
        ``callback(state)`` with a :class:`~sparsopt.solvers.SolverState` (``x`` is the
        current dictionary) after every GPM iteration or every online pass; returning True
        stops the solver (``converged=False``, ``stopped_by == "callback"``).
    verbose : int, bool or None, default=None
        One line per check when > 0; ``None`` reads :func:`sparsopt.get_config`.

    Returns
    -------
    result : SolverResult
        ``x``: the learned dictionary with orthonormal rows (atoms; ``x @ x.T = I``); the
        codes of ``X`` are ``X @ result.x.T``. ``n_iter`` (iterations, or passes for
        ``"online_fw"``), ``converged``, ``history`` (relative gap and objective per
        check), and in ``info``: ``fw_gap`` (absolute gap of ``components`` on ``X``),
        ``relative_fw_gap``, ``objective`` (``f(components)``), ``grad_avg`` (the
        averaged gradient of ``"online_fw"``; the full gradient for ``"gpm"``),
        ``n_steps`` (online steps made, 0 for ``"gpm"``), and for ``"online_fw"``
        ``batch_objective`` (the mini-batch objective of every step) and ``iterate`` (the
        last iterate before the final projection, differs only with ``reproject=False``).

    Raises
    ------
    ValueError
        For NaN/inf in ``X``, ``p <= 2``, an unknown solver or schedule, a
        ``dict_init`` of the wrong shape, or a gradient that overflows (rescale ``X``).

    Warns
    -----
    ConvergenceWarning
        Once, if ``max_iter`` iterations (passes) end with the relative gap above ``tol``.

    See Also
    --------
    OrthogonalDictionaryLearning : the estimator built on this function.
    sparsopt.metrics.dictionary_recovery_error : the ``|| A D0^T ||_4^4 / N - 1`` metric.

    Notes
    -----
    Each GPM iteration costs one ``N x N`` SVD and ``O(N^2 T)`` flops; each online step
    two ``N x N`` SVDs and ``O(N^2 b)``. Small problems run with one BLAS thread (they are
    latency-bound, and thread oversubscription made them 2-10x slower in our runs).

    References
    ----------
    .. [1] Y. Zhai, Z. Yang, Z. Liao, J. Wright and Y. Ma, "Complete dictionary learning
       via l4-norm maximization over the orthogonal group", J. Mach. Learn. Res. 21, 2020.
    .. [2] Y. Shen, Y. Xue, J. Zhang, K. B. Letaief and V. Lau, "Complete dictionary
       learning via lp-norm maximization", UAI 2020.
    .. [3] Y. Xue and V. K. N. Lau, "Online orthogonal dictionary learning based on
       Frank-Wolfe method", arXiv:2103.01484, 2021.
    .. [4] A. Mokhtari, H. Hassani and A. Karbasi, "Stochastic conditional gradient
       methods: from convex minimization to submodular maximization", J. Mach. Learn.
       Res. 21, 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.datasets import make_orthogonal_dictionary_problem
    >>> from sparsopt.decomposition import orthogonal_dictionary_learning
    >>> from sparsopt.metrics import dictionary_recovery_error
    >>> X, D, C = make_orthogonal_dictionary_problem(3000, 8, theta=0.3, random_state=0)
    >>> A = orthogonal_dictionary_learning(X, random_state=0).x
    >>> A.shape, bool(abs(A @ A.T - np.eye(8)).max() < 1e-12)
    ((8, 8), True)
    >>> bool(dictionary_recovery_error(A, D) < 1e-2)
    True
    """
    owner = "orthogonal_dictionary_learning"
    X = np.ascontiguousarray(check_array(X, "X", owner, ndim=2))
    p = _check_p(p, owner)
    solver = _check_solver(solver, owner)
    max_iter = _DEFAULT_MAX_ITER[solver] if max_iter is None else check_int(
        max_iter, "max_iter", owner, lower=1)
    tol = _DEFAULT_TOL[solver] if tol is None else check_scalar(tol, "tol", owner, lower=0.0)
    batch_size = check_int(batch_size, "batch_size", owner, lower=1)
    rho_fn = _schedule(rho, "rho", owner)
    gamma_fn = _schedule(gamma, "gamma", owner)
    if callback is not None and not callable(callback):
        raise TypeError(f"{owner}: callback must be callable or None, got {callback!r}.")
    rng = check_random_state(random_state)
    n_samples, n_features = X.shape
    n_components = _check_n_components(n_components, n_features, owner)
    A0 = _initial_dictionary(dict_init, n_components, n_features, X.dtype, rng, owner)
    if solver == "gpm":
        work = min(n_samples, _CHUNK_ELEMENTS // n_features) * n_features * n_components
        with blas_limits(work, _SMALL_BLAS_WORK):
            res = _gpm(X, A0, p=p, max_iter=max_iter, tol=tol, callback=callback,
                       verbose=verbose, owner=owner)
        res = res.with_info(n_steps=0)
    else:
        work = min(batch_size, n_samples) * n_features * n_components
        with blas_limits(work, _SMALL_BLAS_WORK):
            res = _online_fit(X, A0, p=p, max_iter=max_iter, tol=tol, batch_size=batch_size,
                              shuffle=bool(shuffle), rho_fn=rho_fn, gamma_fn=gamma_fn,
                              clip_rho=bool(clip_rho), reproject=bool(reproject), rng=rng,
                              callback=callback, verbose=verbose, owner=owner)
    return res.with_info(solver=solver, p=p)


# --------------------------------------------------------------------------------------
# estimator
# --------------------------------------------------------------------------------------

class OrthogonalDictionaryLearning(SparsoptEstimatorMixin, ClassNamePrefixFeaturesOutMixin,
                                   TransformerMixin, BaseEstimator):
    """Orthogonal dictionary learning by lp-norm maximization (batch or online).

    Learns an orthogonal dictionary ``D`` (``n_features`` atoms as rows) such that the
    codes ``X @ D.T`` are as sparse as possible, measured by their lp norm (p > 2): the
    MSP / generalized power method (batch, [1]_ [2]_) or the online stochastic
    Frank-Wolfe method of Xue & Lau [3]_ (streaming, with :meth:`partial_fit`). See
    :func:`orthogonal_dictionary_learning` for the algorithms.

    Dictionaries are complete by default. ``n_components < n_features`` learns that many
    orthonormal atoms (our extension, no recovery guarantee cited). Overcomplete
    dictionaries cannot be orthogonal: use ``MiniBatchDictionaryLearning`` for them.

    Parameters
    ----------
    n_components : int or None, default=None
        Number of atoms, at most ``n_features`` (None: ``n_features``).
    p : float, default=3
        Exponent of the lp norm, > 2 (3 recommended; 4 is MSP).
    solver : {"gpm", "msp", "online_fw"}, default="gpm"
        Algorithm of :meth:`fit` (``"msp"`` is an alias of ``"gpm"``). :meth:`partial_fit`
        always makes online Frank-Wolfe steps.
    max_iter : int or None, default=None
        ``"gpm"``: maximum iterations (None: 200); ``"online_fw"``: passes over the data
        (None: 1).
    tol : float or None, default=None
        Tolerance on the relative Frank-Wolfe gap ``(||G||_* - <G, A>) / ||G||_*`` on the
        training data (None: 1e-6 for ``"gpm"``, 1e-4 for ``"online_fw"``).
    batch_size : int, default=256
        Mini-batch size of the online steps (``"online_fw"`` and :meth:`partial_fit`).
    shuffle : bool, default=True
        Shuffle the samples at every pass of ``"online_fw"`` (:meth:`partial_fit` keeps
        the given order).
    clip_rho : bool, default=True
        Clip the gradient-averaging weights ``rho_t = 4 / (t+1)**(1/2)`` to at most 1
        (see :func:`orthogonal_dictionary_learning`).
    dict_init : array-like of shape (n_components, n_features), default=None
        Initial dictionary (replaced by its polar factor); None: Haar-random orthogonal.
    transform_threshold : float or None, default=None
        If set, :meth:`transform` hard-thresholds the codes: entries with
        ``|code| <= transform_threshold`` become 0.
    random_state : int, RandomState instance or None, default=None
        Seed of the initialization and of the shuffling.
    verbose : int, bool or None, default=None
        Progress of the fit: 1 shows a progress bar (tqdm when installed, plain lines
        otherwise), 2 adds the solver's line per iteration; ``None`` reads
        :func:`sparsopt.get_config`.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        Dictionary with orthonormal rows (atoms; ``components_ @ components_.T = I``).
    n_components_ : int
        Number of atoms (``n_features`` unless ``n_components`` is smaller).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` has string column names.
    n_iter_ : int
        Iterations (``"gpm"``) or passes over the data (``"online_fw"``) of :meth:`fit`.
        Not changed by :meth:`partial_fit`.
    converged_ : bool
        Whether :meth:`fit` met ``tol``.
    n_steps_ : int
        Online Frank-Wolfe steps made so far; the step-size schedules continue from it
        in :meth:`partial_fit`. After a ``"gpm"`` fit it is set as if the fit had been one
        pass of mini-batches, so that :meth:`partial_fit` refines the solution with small
        steps rather than restarting the schedule.
    grad_avg_ : ndarray of shape (n_components, n_features)
        Averaged stochastic gradient of the online method (after a ``"gpm"`` fit: the
        full gradient at ``components_``).
    fw_gap_ : float
        Frank-Wolfe gap ``||G||_* - <G, components_>`` (>= 0, 0 at stationary points).
        After :meth:`fit` it is computed with the full gradient on the training data;
        after :meth:`partial_fit`, estimated with ``grad_avg_``.
    objective_history_ : ndarray of shape (n_checks,)
        ``"gpm"``: the objective ``1/(p n) sum ||components x||_p^p`` after every
        iteration; online fit or :meth:`partial_fit`: the mini-batch objective of every
        step (of the last call for :meth:`partial_fit`).

    See Also
    --------
    orthogonal_dictionary_learning : the function behind :meth:`fit`.
    sparsopt.metrics.dictionary_recovery_error : recovery metric against a true dictionary.

    References
    ----------
    .. [1] Y. Zhai, Z. Yang, Z. Liao, J. Wright and Y. Ma, "Complete dictionary learning
       via l4-norm maximization over the orthogonal group", J. Mach. Learn. Res. 21, 2020.
    .. [2] Y. Shen, Y. Xue, J. Zhang, K. B. Letaief and V. Lau, "Complete dictionary
       learning via lp-norm maximization", UAI 2020.
    .. [3] Y. Xue and V. K. N. Lau, "Online orthogonal dictionary learning based on
       Frank-Wolfe method", arXiv:2103.01484, 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.datasets import make_orthogonal_dictionary_problem
    >>> from sparsopt.decomposition import OrthogonalDictionaryLearning
    >>> from sparsopt.metrics import dictionary_recovery_error
    >>> X, D, C = make_orthogonal_dictionary_problem(3000, 8, random_state=0)
    >>> odl = OrthogonalDictionaryLearning(random_state=0).fit(X)
    >>> codes = odl.transform(X)
    >>> codes.shape, bool(dictionary_recovery_error(odl.components_, D) < 1e-2)
    ((3000, 8), True)
    >>> online = OrthogonalDictionaryLearning(solver="online_fw", batch_size=10,
    ...                                       random_state=0)
    >>> for chunk in np.array_split(X, 3):  # streaming: one step per mini-batch
    ...     online = online.partial_fit(chunk)
    >>> online.n_steps_
    300
    """

    _parameter_constraints = {
        "n_components": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "p": [numbers.Real],
        "solver": [StrOptions(set(SOLVERS))],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "tol": [Interval(numbers.Real, 0, None, closed="left"), None],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "clip_rho": ["boolean"],
        "dict_init": ["array-like", None],
        "transform_threshold": [Interval(numbers.Real, 0, None, closed="left"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose", None],
    }

    def __init__(self, n_components=None, *, p=3, solver="gpm", max_iter=None, tol=None,
                 batch_size=256, shuffle=True, clip_rho=True, dict_init=None,
                 transform_threshold=None, random_state=None, verbose=None):
        self.n_components = n_components
        self.p = p
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.clip_rho = clip_rho
        self.dict_init = dict_init
        self.transform_threshold = transform_threshold
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the dictionary from ``X`` (from scratch).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training signals.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : OrthogonalDictionaryLearning
        """
        X = self._validate_input(X)
        name = type(self).__name__
        n_components = _check_n_components(self.n_components, X.shape[1], name)
        _check_p(self.p, name)
        with fit_progress(self.max_iter, name, self.verbose) as fp:
            A, res = orthogonal_dictionary_learning(
                X, n_components, p=self.p, solver=self.solver, max_iter=self.max_iter,
                tol=self.tol, batch_size=self.batch_size, shuffle=self.shuffle,
                clip_rho=self.clip_rho, dict_init=self.dict_init,
                random_state=self.random_state, callback=fp.callback,
                verbose=fp.solver_verbose,
            )
            fp.finish(res.n_iter)
        self.components_ = A
        self.n_components_ = n_components
        self.n_iter_ = int(res.n_iter)
        self.converged_ = bool(res.converged)
        self.fw_gap_ = float(res.info["fw_gap"])
        self.grad_avg_ = np.asarray(res.info["grad_avg"])
        if res.info["solver"] == "gpm":
            self.n_steps_ = -(-X.shape[0] // self.batch_size)  # as if one online pass
            self.objective_history_ = np.array([r["objective"] for r in res.history])
        else:
            self.n_steps_ = int(res.info["n_steps"])
            self.objective_history_ = np.asarray(res.info["batch_objective"])
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """One online Frank-Wolfe step per mini-batch of ``X`` (rows in the given order).

        The step-size schedules continue across calls (``n_steps_``, ``grad_avg_``), so
        calling :meth:`partial_fit` on consecutive chunks equals one ``"online_fw"`` pass
        (``shuffle=False``) over the same mini-batches in the same order. The first call
        initializes the dictionary as :meth:`fit` does. The update is atomic: if it
        raises, the fitted state is unchanged.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A chunk of the stream.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : OrthogonalDictionaryLearning
        """
        first = not hasattr(self, "components_")
        X = self._validate_input(X, reset=first)
        name = type(self).__name__
        p = _check_p(self.p, name)
        if first:
            n_components = _check_n_components(self.n_components, X.shape[1], name)
            A = _initial_dictionary(self.dict_init, n_components, X.shape[1], X.dtype,
                                    check_random_state(self.random_state), name)
            G = np.zeros_like(A)
            t = 0
        else:
            A, G, t = self.components_, self.grad_avg_, self.n_steps_
        X = np.ascontiguousarray(X, dtype=A.dtype)
        batch_objective = []
        work = min(self.batch_size, X.shape[0]) * X.shape[1] * A.shape[0]
        with blas_limits(work, _SMALL_BLAS_WORK):
            A, G, t = _online_steps(
                X, A, G, t, p=p, batch_size=self.batch_size, rho_fn=_xue_lau_rho,
                gamma_fn=_xue_lau_gamma, clip_rho=self.clip_rho, reproject=True,
                batch_objective=batch_objective, owner=name)
            s = np.linalg.svd(G, compute_uv=False)
        self.components_ = A
        self.n_components_ = A.shape[0]
        self.grad_avg_ = G
        self.n_steps_ = int(t)
        self.fw_gap_ = float(_fw_gap(G, s, A)[0])
        self.objective_history_ = np.asarray(batch_objective)
        return self

    def transform(self, X):
        """Codes ``X @ components_.T``, hard-thresholded if ``transform_threshold`` is set.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Signals.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_components)
        """
        check_is_fitted(self, "components_")
        X = self._validate_input(X, reset=False)
        codes = X @ self.components_.T.astype(X.dtype, copy=False)
        if self.transform_threshold is not None:
            codes[np.abs(codes) <= self.transform_threshold] = 0
        return codes

    def inverse_transform(self, X):
        """Signals from codes: ``codes @ components_`` (exact inverse without threshold).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self, "components_")
        return self._signals_from_codes(X, self.components_)

    @property
    def _n_features_out(self):
        return self.n_components_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @classmethod
    def _test_params(cls, check_name):
        """Small fast constructor parameters for scikit-learn's estimator checks."""
        return {"max_iter": 5, "tol": 1e-2, "batch_size": 16, "random_state": 0}

