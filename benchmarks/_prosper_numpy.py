"""Plain vectorised NumPy truncated EM for binary (BSC) and spike-and-slab (GSC) sparse coding.

The baseline of ``bench_prosper.py``: the implementation a user would write from the equations
of ``shared/specs/probabilistic_sparse_coding.md`` (section 2(b)) with NumPy alone, written
independently of ``sparsopt``'s kernels. Everything is vectorised over (data points x states):
the log-joints are dense ``(N, |K|)`` arrays, the posteriors come from a log-sum-exp over the
state axis, the expectations are matrix products and ``np.bincount`` scatters, and the M-steps
are linear solves (BLAS/LAPACK: ``lstsq`` by default, ``solver="solve"`` for an LU solve).
Nothing is made deliberately slow; nothing is blocked either,
so memory grows as ``N * |K|`` (BSC) and ``N * |K| * gamma^2`` (GSC).

Conventions (the spec's corrected model, ``prosper_compat=False`` in sparsopt):

* BSC log-joint ``|s| log(pi/(1-pi)) - beta ||y - W s||^2 / (2 sigma^2)`` (``anneal_prior``
  False) or ``beta`` times the whole of it (True); the state-independent ``||y||^2`` is kept so
  that the N_cut ranking by ``logsumexp`` is meaningful. The pi update carries the A(pi)/B(pi)
  truncation correction; sigma uses the *new* W by default (``sigma_new_W=True``; spec pitfall 5,
  ``False`` uses the old W as the reference code does).
* GSC: the exact log-joint with the 1/2 (pitfall 1), annealed as ``beta * log p(y, s)``; a
  diagonal slab covariance ``psi`` (variances) and a scalar noise variance; the exact M-steps of
  the spec (pitfalls 2, 3); pi clipped to ``[5e-5, 1 - 5e-5]``.

Parameters are ``W`` of shape ``(D, H)`` (columns are the atoms, as in the spec), not sparsopt's
``components_`` of shape ``(H, D)``.
"""

from __future__ import annotations

from itertools import combinations
from math import comb

import numpy as np
from scipy.special import logsumexp

# --------------------------------------------------------------------------- M-step solve


def solve_psd(M, R, solver="lstsq"):
    """``M^{-1} R`` for the M-step's symmetric PSD ``M``: ``"lstsq"`` (an SVD; any ``M``) or
    ``"solve"`` (LU; least squares only if ``M`` is exactly singular)."""
    if solver == "solve":
        try:
            return np.linalg.solve(M, R)
        except np.linalg.LinAlgError:
            pass
    return np.linalg.lstsq(M, R, rcond=None)[0]


# --------------------------------------------------------------------------- state sets


def combination_states(n_preselect, max_active):
    """Binary matrix ``(M, H')`` of every state with 2 <= |s| <= max_active over H' units."""
    rows = []
    for k in range(2, max_active + 1):
        for c in combinations(range(n_preselect), k):
            r = np.zeros(n_preselect)
            r[list(c)] = 1.0
            rows.append(r)
    return np.array(rows).reshape(-1, n_preselect)


def all_states(n_components):
    """Binary matrix ``(2^H, H)`` of every state (exact EM)."""
    codes = np.arange(2**n_components)[:, None]
    return ((codes >> np.arange(n_components)) & 1).astype(float)


def n_states(n_components, n_preselect, max_active):
    """|K_n| = 1 + H + sum_{k=2}^{gamma} C(H', k)."""
    return 1 + n_components + sum(comb(n_preselect, k) for k in range(2, max_active + 1))


def truncation_moments(pi, H, gamma):
    """``A(pi) = P(|s| <= gamma)`` and ``B(pi) = E[|s|; |s| <= gamma]`` for |s| ~ Bin(H, pi)."""
    g = np.arange(gamma + 1)
    p = np.array([comb(H, int(k)) for k in g], dtype=float) * pi**g * (1.0 - pi) ** (H - g)
    return p.sum(), (g * p).sum()


# --------------------------------------------------------------------------- BSC


def bsc_preselect(Y, W, n_preselect):
    """Indices ``(N, H')`` of the H' largest cosine scores <W_h, y> / (||W_h|| ||y||)."""
    wn = np.linalg.norm(W, axis=0)
    yn = np.linalg.norm(Y, axis=1)
    score = (Y @ W) / np.where(wn > 0, wn, 1.0)[None, :] / np.where(yn > 0, yn, 1.0)[:, None]
    return np.argpartition(-score, n_preselect - 1, axis=1)[:, :n_preselect]


def bsc_log_joints(Y, W, pi, sigma, sel, Sc, beta=1.0, anneal_prior=False):
    """Log-joints ``(N, 1 + H + M)``: the zero state, the H singletons, then the M combinations
    ``Sc`` of each row's preselected units ``sel``. Also returns the squared residuals."""
    H = W.shape[1]
    yy = np.einsum("nd,nd->n", Y, Y)
    WtY = Y @ W  # (N, H)
    G = W.T @ W  # (H, H)
    # zero state and singletons
    r0 = yy[:, None]
    r1 = yy[:, None] - 2.0 * WtY + np.diag(G)[None, :]
    # combinations: y^T W s and s^T G s on the gathered (N, H', H') Gram blocks
    lin = np.take_along_axis(WtY, sel, axis=1) @ Sc.T  # (N, M)
    Gsel = G[sel[:, :, None], sel[:, None, :]]  # (N, H', H')
    quad = np.einsum("nmi,mi->nm", Sc[None, :, :] @ Gsel, Sc)
    rc = yy[:, None] - 2.0 * lin + quad
    resid = np.concatenate([r0, r1, rc], axis=1)
    size = np.concatenate([[0.0], np.ones(H), Sc.sum(axis=1)])
    logit = np.log(pi / (1.0 - pi))
    lik = -resid / (2.0 * sigma**2)
    if anneal_prior:
        lpj = beta * (size[None, :] * logit + lik)
    else:
        lpj = size[None, :] * logit + beta * lik
    return lpj, resid


def bsc_expectations(q, sel, Sc, H):
    """``<s>_n`` ``(N, H)`` and ``sum_n <s s^T>_n`` ``(H, H)`` from the posteriors ``q``."""
    N, Hp = sel.shape
    q1, qc = q[:, 1 : 1 + H], q[:, 1 + H :]
    Es_sel = qc @ Sc  # (N, H')
    Es = q1.copy()
    rows = np.repeat(np.arange(N), Hp)
    np.add.at(Es, (rows, sel.ravel()), Es_sel.ravel())
    # sum_n <ss^T>_n: singletons on the diagonal, combinations as (N, H', H') blocks
    Ess_sel = np.einsum("nm,mi,mj->nij", qc, Sc, Sc, optimize=True)
    flat = (sel[:, :, None] * H + sel[:, None, :]).ravel()
    Ess = np.bincount(flat, weights=Ess_sel.ravel(), minlength=H * H).reshape(H, H)
    Ess[np.diag_indices(H)] += q1.sum(axis=0)
    return Es, Ess


def bsc_estep(Y, W, pi, sigma, n_preselect, max_active, *, beta=1.0, anneal_prior=False,
              Sc=None):
    """Preselection and truncated E-step of BSC: ``(logz (N,), q (N, |K|), residuals
    (N, |K|), sel (N, H'), Sc)`` with ``logz`` the log-sum-exp of the log-joints."""
    if Sc is None:
        Sc = combination_states(n_preselect, max_active)
    sel = bsc_preselect(Y, W, n_preselect)
    lpj, resid = bsc_log_joints(Y, W, pi, sigma, sel, Sc, beta, anneal_prior)
    lse = logsumexp(lpj, axis=1)
    return lse, np.exp(lpj - lse[:, None]), resid, sel, Sc


def bsc_em_step(Y, W, pi, sigma, n_preselect, max_active, *, beta=1.0, ncut_factor=0.0,
                anneal_prior=False, sigma_new_W=True, Sc=None, solver="lstsq"):
    """One truncated EM iteration of BSC; returns ``(W, pi, sigma, loglik_per_sample)``.

    ``Y`` ``(N, D)``; ``W`` ``(D, H)``. The data truncation keeps the
    ``floor(N (1 - (1 - A(pi)) ncut_factor))`` points with the largest ``logsumexp`` of the
    log-joints.
    """
    N, D = Y.shape
    H = W.shape[1]
    lse, q, resid, sel, Sc = bsc_estep(Y, W, pi, sigma, n_preselect, max_active, beta=beta,
                                       anneal_prior=anneal_prior, Sc=Sc)
    A, B = truncation_moments(pi, H, max_active)
    n_cut = int(np.floor(N * (1.0 - (1.0 - A) * ncut_factor)))
    if n_cut < N:
        keep = np.sort(np.argpartition(-lse, n_cut - 1)[:n_cut])
        Y, sel, q, resid, lse = Y[keep], sel[keep], q[keep], resid[keep], lse[keep]
    Es, Ess = bsc_expectations(q, sel, Sc, H)
    loglik = (H * np.log(1.0 - pi) - 0.5 * D * np.log(2.0 * np.pi * sigma**2) - np.log(A)
              + lse.mean())
    YEs = Y.T @ Es  # (D, H)
    W_new = solve_psd(Ess, YEs.T, solver).T
    pi_new = pi * A / B * Es.sum(axis=1).mean()
    if sigma_new_W:
        yy = np.einsum("nd,nd->", Y, Y)
        e2 = yy - 2.0 * np.sum(YEs * W_new) + np.sum((W_new.T @ W_new) * Ess)
    else:
        e2 = np.sum(q * resid)
    sigma_new = np.sqrt(e2 / (Y.shape[0] * D))
    return W_new, pi_new, sigma_new, loglik


def bsc_exact_em_step(Y, W, pi, sigma, *, beta=1.0, anneal_prior=False, sigma_new_W=True,
                      S=None):
    """One exact EM iteration of BSC over all ``2^H`` states (no preselection, no truncation)."""
    N, D = Y.shape
    H = W.shape[1]
    if S is None:
        S = all_states(H)
    yy = np.einsum("nd,nd->n", Y, Y)
    G = W.T @ W
    quad = np.einsum("ki,ki->k", S @ G, S)
    resid = yy[:, None] - 2.0 * (Y @ W) @ S.T + quad[None, :]
    size = S.sum(axis=1)
    logit = np.log(pi / (1.0 - pi))
    lik = -resid / (2.0 * sigma**2)
    lpj = beta * (size * logit + lik) if anneal_prior else size * logit + beta * lik
    lse = logsumexp(lpj, axis=1)
    q = np.exp(lpj - lse[:, None])
    Es = q @ S
    Ess = (S * q.sum(axis=0)[:, None]).T @ S
    loglik = H * np.log(1.0 - pi) - 0.5 * D * np.log(2.0 * np.pi * sigma**2) + lse.mean()
    YEs = Y.T @ Es
    W_new = np.linalg.lstsq(Ess, YEs.T, rcond=None)[0].T
    pi_new = Es.sum(axis=1).mean() / H
    if sigma_new_W:
        e2 = yy.sum() - 2.0 * np.sum(YEs * W_new) + np.sum((W_new.T @ W_new) * Ess)
    else:
        e2 = np.sum(q * resid)
    return W_new, pi_new, np.sqrt(e2 / (N * D)), loglik


# --------------------------------------------------------------------------- GSC


def _gsc_singletons(yy, WtY, G, pi, mu, psi, s2, D):
    """Singleton log-likelihoods log N(y; W_h mu_h, s2 I + psi_h W_h W_h^T), ``(N, H)``."""
    g = np.diag(G)
    lam = g / s2 + 1.0 / psi  # (H,)
    b = (WtY - g * mu) / s2  # (N, H)
    rr = yy[:, None] - 2.0 * mu * WtY + (mu**2 * g)[None, :]
    quad = rr / s2 - b**2 / lam
    logdet = D * np.log(s2) + np.log(psi) + np.log(lam)
    return -0.5 * (logdet + quad + D * np.log(2.0 * np.pi))


def gsc_states(sel, H, max_active):
    """Padded index sets ``(N, |K|, gamma)`` and masks of every state of K_n (zero state,
    singletons, combinations of the preselected ``sel``)."""
    N, Hp = sel.shape
    combos = [c for k in range(2, max_active + 1) for c in combinations(range(Hp), k)]
    K = 1 + H + len(combos)
    pos = np.zeros((K, max_active), dtype=np.intp)  # positions into sel (combinations)
    mask = np.zeros((K, max_active), dtype=bool)
    for j, c in enumerate(combos):
        pos[1 + H + j, : len(c)] = c
        mask[1 + H + j, : len(c)] = True
    idx = sel[:, pos]  # (N, K, gamma)
    idx[:, 1 : 1 + H, 0] = np.arange(H)[None, :]
    mask[1 : 1 + H, 0] = True
    idx = np.where(mask[None, :, :], idx, 0)  # padded slots (and the zero state) point at 0
    return idx, mask


def gsc_estep(Y, W, pi, mu, psi, s2, sel, max_active, beta=1.0):
    """Truncated GSC E-step. Returns the log-joints ``(N, K)``, the posterior means ``kappa``
    ``(N, K, gamma)``, the posterior covariances ``(N, K, gamma, gamma)`` and the index sets."""
    N, D = Y.shape
    H = W.shape[1]
    idx, mask = gsc_states(sel, H, max_active)
    m = mask[None, :, :].astype(Y.dtype)  # (1, K, g)
    mm = m[..., :, None] * m[..., None, :]
    yy = np.einsum("nd,nd->n", Y, Y)
    WtY = Y @ W
    G = W.T @ W
    Gs = G[idx[..., :, None], idx[..., None, :]] * mm  # (N, K, g, g)
    mus = mu[idx] * m
    psis = np.where(mask[None], psi[idx], 1.0)
    eye = np.eye(max_active)
    Lam = Gs / s2 + eye * (m / psis)[..., None, :] + eye * (1.0 - m)[..., None, :]
    Wy = np.take_along_axis(WtY[:, None, :], idx.reshape(N, -1)[:, None, :], axis=2)
    Wy = Wy.reshape(idx.shape) * m
    Gmu = np.einsum("nkij,nkj->nki", Gs, mus)
    b = (Wy - Gmu) / s2
    L = np.linalg.cholesky(Lam)
    Linv = np.linalg.inv(L)
    Cov = np.swapaxes(Linv, -1, -2) @ Linv  # Lam^{-1}
    v = np.einsum("nkij,nkj->nki", Cov, b)
    kappa = mus + v
    rr = yy[:, None] - 2.0 * np.einsum("nki,nki->nk", mus, Wy) + np.einsum("nki,nki->nk", mus, Gmu)
    quad = rr / s2 - np.einsum("nki,nki->nk", b, v)
    logdetLam = 2.0 * np.log(np.diagonal(L, axis1=-2, axis2=-1)).sum(-1)
    logdet = D * np.log(s2) + (np.log(psis) * m).sum(-1) + logdetLam
    logit = np.log(pi / (1.0 - pi))
    lp = (logit[idx] * m).sum(-1) + np.log1p(-pi).sum()
    lpj = beta * (lp - 0.5 * (logdet + quad + D * np.log(2.0 * np.pi)))
    return lpj, kappa * m, Cov * mm, idx, mask


def gsc_expectations(Y, W, pi, mu, psi, s2, n_preselect, max_active, beta=1.0):
    """Preselection and truncated E-step of GSC reduced to the M-step's statistics:
    ``(logz (N,), <s> (N, H), <s z> (N, H), sum_n <(s z)(s z)^T>_n (H, H))``."""
    N, D = Y.shape
    H = W.shape[1]
    yy = np.einsum("nd,nd->n", Y, Y)
    single = _gsc_singletons(yy, Y @ W, W.T @ W, pi, mu, psi, s2, D)
    sel = np.argpartition(-single, n_preselect - 1, axis=1)[:, :n_preselect]
    lpj, kappa, Cov, idx, mask = gsc_estep(Y, W, pi, mu, psi, s2, sel, max_active, beta)
    lse = logsumexp(lpj, axis=1)
    q = np.exp(lpj - lse[:, None])
    m = mask[None].astype(Y.dtype)
    # scatter from the padded (N, K, gamma) layout into H dimensions
    rows = np.repeat(np.arange(N), idx.shape[1] * idx.shape[2])
    flat = rows * H + idx.reshape(-1)
    Es = np.bincount(flat, weights=(q[:, :, None] * m).reshape(-1),
                     minlength=N * H).reshape(N, H)
    Esz = np.bincount(flat, weights=(q[:, :, None] * kappa).reshape(-1),
                      minlength=N * H).reshape(N, H)
    second = q[:, :, None, None] * (kappa[..., :, None] * kappa[..., None, :] + Cov)
    pair = (idx[..., :, None] * H + idx[..., None, :]).reshape(-1)
    Eszz = np.bincount(pair, weights=second.reshape(-1), minlength=H * H).reshape(H, H)
    return lse, Es, Esz, Eszz


def gsc_em_step(Y, W, pi, mu, psi, s2, n_preselect, max_active, *, beta=1.0,
                learn_mu=True, solver="lstsq"):
    """One truncated EM iteration of GSC (scalar noise variance ``s2``, diagonal slab variances
    ``psi``); returns ``(W, pi, mu, psi, s2, loglik_per_sample)``."""
    N, D = Y.shape
    lse, Es, Esz, Eszz = gsc_expectations(Y, W, pi, mu, psi, s2, n_preselect, max_active, beta)
    YEsz = Y.T @ Esz
    W_new = solve_psd(Eszz, YEsz.T, solver).T
    ns = Es.sum(axis=0)
    pi_new = np.clip(ns / N, 5e-5, 1.0 - 5e-5)
    nsz = Esz.sum(axis=0)
    mu_new = nsz / ns if learn_mu else mu
    psi_new = (np.diag(Eszz) - 2.0 * mu_new * nsz + mu_new**2 * ns) / ns
    yy = np.einsum("nd,nd->", Y, Y)
    s2_new = (yy - 2.0 * np.sum(YEsz * W_new) + np.sum((W_new.T @ W_new) * Eszz)) / (N * D)
    return W_new, pi_new, mu_new, psi_new, s2_new, lse.mean()


def gsc_exact_em_step(Y, W, pi, mu, psi, s2, *, beta=1.0, learn_mu=True):
    """One exact EM iteration of GSC over all ``2^H`` states: the truncated step with
    ``H' = gamma = H`` (then K_n holds every state). Memory ``N 2^H H^2``: small H only."""
    H = W.shape[1]
    return gsc_em_step(Y, W, pi, mu, psi, s2, H, H, beta=beta, learn_mu=learn_mu)
