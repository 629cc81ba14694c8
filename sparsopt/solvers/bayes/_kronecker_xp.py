"""Kronecker SBL on array-API arrays (CuPy, ``array_api_strict`` ...).

The same E-step (one ``eigh`` per factor, mode products) and per-factor pruning as
:mod:`.kronecker_sbl`, written against the inputs' namespace; the M-steps ("svd": the top
eigenpair of a Gram matrix per unfolding; "am": alternating means), the Kronecker product
of vectors and the mode products are the NumPy path's own helpers, which take the
namespace. Kept entries are tracked as boolean masks per factor (kept values in order),
scattered back with gathers (``xp.take``) since the standard has no scatter; the kept
product indices in C order are exactly the ``True`` entries of ``mask_1 ⊗ ... ⊗ mask_I``.
The pattern-coupled prior (``coupling``, SciPy's NNLS) stays NumPy-only.
"""

from __future__ import annotations

import math

from ..._core.loop import LoopMonitor, all_finite
from ...backends import asarray_on, device, host_only_error
from ...linalg._kronecker import _mode_products
from ._common import (
    CRITERIA,
    SBLPosterior,
    check_noise,
    initial_noise,
    noise_floor,
    noise_update,
    relative_change,
)
from .kronecker_sbl import _check_options, _kron, _m_step_am, _m_step_svd, _normalise
from .sbl import _dtypes_xp, _expand, _ht, _real, _scatter_positions


def kronecker_posterior_xp(xp, factors, gammas, y, sigma2):
    """:func:`~sparsopt.solvers.kronecker_posterior` in the inputs' namespace."""
    AGs = [A * xp.astype(g, A.dtype) for A, g in zip(factors, gammas)]
    ps, Us = [], []
    for AG, A in zip(AGs, factors):
        p, U = xp.linalg.eigh(AG @ _ht(xp, A))
        ps.append(xp.maximum(_real(xp, p), 0.0))
        Us.append(U)
    Bs = [_ht(xp, AG) @ U for AG, U in zip(AGs, Us)]
    s = sigma2 + _kron(ps, xp)
    d = 1.0 / s
    z = _mode_products([_ht(xp, U) for U in Us], y, xp.reshape) * xp.astype(d, y.dtype)[:, None]
    mu = _mode_products(Bs, z, xp.reshape)
    absB2 = [_real(xp, xp.conj(B) * B) for B in Bs]
    sdiag = _kron(gammas, xp) - _mode_products(absB2, d, xp.reshape)
    logdet = float(xp.sum(xp.log(s)))
    rss = sigma2 ** 2 * float(xp.sum(_real(xp, xp.conj(z) * z)))
    return SBLPosterior(mu, xp.maximum(sdiag, 0.0), logdet, rss, None)


def kronecker_sbl_xp(xp, facs, y, *, solver, coupling, noise_variance, learn_noise,
                     prune_rtol, prune_atol, max_iter, tol, am_tol, am_max_iter, init,
                     callback, verbose, solvers, prune_rtols, check_coupling):
    """:func:`~sparsopt.solvers.kronecker_sbl` on namespace arrays (list of factors)."""
    name = "kronecker_sbl"
    if solver not in solvers:
        raise ValueError(f"{name}: solver must be one of {solvers}, got {solver!r}.")
    for i, f in enumerate(facs):
        if f.ndim != 2:
            raise ValueError(f"{name}: factor {i} must be 2-D, got shape {tuple(f.shape)}.")
        if not bool(xp.all(xp.isfinite(f))):
            raise ValueError(f"{name}: factor {i} contains NaN or infinity.")
    I = len(facs)  # noqa: E741
    M = math.prod(f.shape[0] for f in facs)
    ns = [f.shape[1] for f in facs]
    N = math.prod(ns)
    if y.ndim not in (1, 2) or y.shape[0] != M:
        raise ValueError(f"{name}: y must have shape ({M},) or ({M}, n_snapshots), got "
                         f"{tuple(y.shape)}.")
    if not bool(xp.all(xp.isfinite(y))):
        raise ValueError(f"{name}: y contains NaN or infinity.")
    was_1d = y.ndim == 1
    coupling = check_coupling(coupling, I, solver, name)
    if coupling is not None and any(c > 0 for c in coupling):
        raise host_only_error(f"{name}: coupling", xp,
                              reason="PC-KroSBL, solved by SciPy's NNLS",
                              alternative="use coupling=None")
    check_noise(name, noise_variance, learn_noise)
    rtol, am_max_iter, max_iter = _check_options(name, prune_rtols[solver], prune_rtol,
                                                 prune_atol, am_max_iter, tol, am_tol,
                                                 max_iter)
    out_dtype, work = _dtypes_xp(xp, *([f.dtype for f in facs] + [y.dtype]))
    facs = [xp.astype(f, work) for f in facs]
    Y = xp.astype(y[:, None] if was_1d else y, work)
    L = Y.shape[1]
    dev = device(Y)
    if init is not None:
        try:
            gs = [xp.reshape(asarray_on(g, Y, dtype=xp.float64), (-1,)) for g in init]
        except (TypeError, ValueError):
            raise TypeError(f"{name}: init must be a sequence of {I} vectors (one per "
                            f"factor), got {type(init).__name__}.") from None
        if len(gs) != I or any(g.shape != (n,) for g, n in zip(gs, ns)) or not all(
                bool(xp.all(xp.isfinite(g) & (g > 0))) for g in gs):
            raise ValueError(f"{name}: init (the initial factor prior variances) must hold "
                             f"{I} vectors of positive finite values, of lengths {tuple(ns)}.")
        gammas = _normalise(gs, xp)
    else:
        gammas = [xp.full(n, 1.0 / math.sqrt(n), dtype=xp.float64, device=dev)
                  for n in ns[:-1]]
        gammas.append(xp.full(ns[-1], float(math.sqrt(math.prod(ns[:-1]))),
                              dtype=xp.float64, device=dev))
    mon = LoopMonitor(name, max_iter=max_iter, tol=tol, callback=callback, verbose=verbose,
                      criterion=CRITERIA["gamma"], keep_finite=False,
                      hint="AM often needs 200-300 iterations" if solver == "am" else "")
    masks = [xp.ones(n, dtype=xp.bool, device=dev) for n in ns]  # kept entries per factor
    sigma2, floor = initial_noise(Y, noise_variance), noise_floor(Y)

    def full_factors(gammas, masks):
        return [_expand(xp, g, m, _scatter_positions(xp, m)) for g, m in zip(gammas, masks)]

    def product_mask(masks):
        return _kron([xp.astype(m, xp.float64) for m in masks], xp) > 0

    gamma_full = _kron(full_factors(gammas, masks), xp)
    am_total = 0
    if not bool(xp.any(Y != 0)):  # y = 0: the evidence is maximal at gamma = 0, x = 0
        masks = [xp.zeros(n, dtype=xp.bool, device=dev) for n in ns]
        gammas = [g[:0] for g in gammas]
        mon.converged, mon.stopped_by, mon.stop_crit = True, "zero_targets", 0.0
    for it in range(1, 1 if mon.stopped_by == "zero_targets" else mon.max_iter + 1):
        good = (gammas, masks, sigma2)  # the state to roll back to
        masks, gammas = list(masks), list(gammas)
        for i in range(I):
            g = gammas[i]
            sel = (g >= rtol * xp.max(g)) & (g >= prune_atol) & (g > 0)
            if not bool(xp.all(sel)):
                pos = _scatter_positions(xp, masks[i])
                masks[i] = masks[i] & xp.take(sel, pos)
                gammas[i] = g[sel]
        if any(g.shape[0] == 0 for g in gammas):
            mon.converged, mon.stopped_by = True, "all_pruned"
            break
        Fa = [xp.take(f, xp.nonzero(m)[0], axis=1) for f, m in zip(facs, masks)]
        masks_e = list(masks)  # the E-step's kept entries (mu lives on them)
        mu, sdiag, logdet, rss, _ = kronecker_posterior_xp(xp, Fa, gammas, Y, sigma2)
        rss /= L
        g_e = _kron(gammas, xp)
        m2 = xp.mean(_real(xp, xp.conj(mu) * mu), axis=1)
        pos = g_e > 0
        safe = xp.where(pos, g_e, 1.0)
        cost = logdet + rss / sigma2 + float(xp.sum(xp.where(pos, m2 / safe, 0.0)))
        if learn_noise:
            sum_g = float(xp.sum(xp.where(pos, 1.0 - sdiag / safe, 0.0)))
            sigma2 = max(noise_update("em", rss, M, sum_g, sigma2, 0.0, 0.0), floor)
        Lam = xp.reshape(m2 + sdiag, tuple(g.shape[0] for g in gammas))
        sweeps = 0
        if solver == "svd":
            gammas = _m_step_svd(Lam, xp)
        else:
            gammas, sweeps = _m_step_am(Lam, gammas, [None] * I, am_tol, am_max_iter, xp)
        factors_now = full_factors(gammas, masks)
        new_full = _kron(factors_now, xp)
        crit = relative_change(new_full, gamma_full)
        if not (math.isfinite(cost) and math.isfinite(crit) and math.isfinite(sigma2)):
            gammas, masks, sigma2 = good
            mon.n_iter, mon.stopped_by = it, "nonfinite"
            break
        am_total += sweeps
        gamma_full = new_full
        if callback is not None:  # the full-length mean, shaped as x, only for the callback
            pm = product_mask(masks_e)
            x_now = _expand(xp, mu, pm, _scatter_positions(xp, pm))
            x_now = x_now[:, 0] if was_1d else x_now
        else:
            x_now = mu
        if mon.check(it, x_now, crit, cost, gamma_factors=factors_now, noise_variance=sigma2,
                     n_active=math.prod(g.shape[0] for g in gammas), am_sweeps=sweeps):
            break
    mu_full = xp.zeros((N, L), dtype=work, device=dev)
    sd_full = xp.zeros(N, dtype=xp.float64, device=dev)
    if all(g.shape[0] for g in gammas):
        Fa = [xp.take(f, xp.nonzero(m)[0], axis=1) for f, m in zip(facs, masks)]
        post = kronecker_posterior_xp(xp, Fa, gammas, Y, sigma2)
        pm = product_mask(masks)
        pos = _scatter_positions(xp, pm)
        mu_full = _expand(xp, post.mean, pm, pos)
        sd_full = _expand(xp, post.sdiag, pm, pos)
    gamma_factors = full_factors(gammas, masks)
    x = xp.astype(mu_full[:, 0] if was_1d else mu_full, out_dtype)
    if mon.stopped_by == "nonfinite":
        mon.last_finite = x if all_finite((x, sd_full)) else None
    return mon.result(
        x, stacklevel=3, gamma=_kron(gamma_factors, xp), gamma_factors=gamma_factors,
        sigma_diag=sd_full, noise_variance=sigma2,
        active_factors=[xp.asarray(m, copy=True) for m in masks],
        n_active=math.prod(g.shape[0] for g in gammas), solver=solver, am_sweeps=am_total,
    )
