"""NumPy reference kernels: truncated E-steps of probabilistic sparse coding (BSC, GSC).

Written as the textbook computation the Numba kernels avoid: each data point's state set
is materialised as a dense 0/1 matrix, the BSC log-joints come from matrix products with
it, the GSC ones from ``numpy.linalg`` (``slogdet``, ``inv``) per state, and the
expectations are weighted sums over the dense states. Same arguments and in-place
outputs as ``sparsopt/backends/_numba/prosper.py``.
"""

import numpy as np
from scipy.special import logsumexp

from .._registry import register_kernel


def _states(H, cand_row, combos):
    """Dense ``(1 + H + M, H)`` 0/1 state matrix of one data point."""
    M = combos.shape[0]
    S = np.zeros((1 + H + M, H))
    S[1 + np.arange(H), np.arange(H)] = 1.0
    for m in range(M):
        pos = combos[m][combos[m] >= 0]
        S[1 + H + m, cand_row[pos]] = 1.0
    return S


def _second_moments(Q, cand_row):
    """Off-diagonal candidate block of Σ_s q(s) Q_s (Q: (S, H, H))."""
    block = Q[:, cand_row][:, :, cand_row].sum(axis=0)
    np.fill_diagonal(block, 0.0)
    return block


@register_kernel("prosper_bsc_estep", "numpy")
def prosper_bsc_estep(yw, yy, G, cand, combos, log_odds, beta_prior, beta_lik, sigma2,
                      logz, es, ecc):
    n, H = yw.shape
    for i in range(n):
        S = _states(H, cand[i], combos)
        G64 = G.astype(np.float64)
        resid = float(yy[i]) - 2.0 * S @ yw[i].astype(np.float64) \
            + np.einsum("sh,hk,sk->s", S, G64, S)
        lj = beta_prior * log_odds * S.sum(axis=1) - beta_lik * resid / (2.0 * sigma2)
        lz = logsumexp(lj)
        q = np.exp(lj - lz)
        logz[i] = lz
        es[i] = q @ S
        ecc[i] = _second_moments(q[:, None, None] * S[:, :, None] * S[:, None, :], cand[i])


@register_kernel("prosper_gsc_estep", "numpy")
def prosper_gsc_estep(yw, yy, G, cand, combos, log_odds, mu, psi2, sigma2, beta, half,
                      const, logz, es, esz, esz2, ecc):
    n, H = yw.shape
    G64 = G.astype(np.float64)
    mu = mu.astype(np.float64)
    psi2 = psi2.astype(np.float64)
    log_odds = log_odds.astype(np.float64)
    for i in range(n):
        S = _states(H, cand[i], combos).astype(bool)
        nS = S.shape[0]
        lj = np.empty(nS)
        Z = np.zeros((nS, H))        # κ embedded
        Q2 = np.zeros((nS, H, H))    # κκᵀ + Λ⁻¹ embedded
        y = yw[i].astype(np.float64)
        for t in range(nS):
            A = np.flatnonzero(S[t])
            GA = G64[np.ix_(A, A)]
            Lam = GA / sigma2 + np.diag(1.0 / psi2[A])
            sign, ld = np.linalg.slogdet(Lam) if A.size else (1.0, 0.0)
            C = np.linalg.inv(Lam) if A.size else np.zeros((0, 0))
            muA = mu[A]
            b = (y[A] - GA @ muA) / sigma2
            r = float(yy[i]) - 2.0 * muA @ y[A] + muA @ GA @ muA
            quad = r / sigma2 - b @ C @ b
            lj[t] = beta * (const + log_odds[A].sum()
                            - half * (np.log(psi2[A]).sum() + ld + quad))
            if sign <= 0:
                lj[t] = -np.inf
            kap = muA + C @ b
            Z[t, A] = kap
            Q2[t][np.ix_(A, A)] = np.outer(kap, kap) + C
        lz = logsumexp(lj)
        q = np.exp(lj - lz)
        logz[i] = lz
        es[i] = q @ S
        esz[i] = q @ Z
        esz2[i] = np.einsum("s,shh->h", q, Q2)
        ecc[i] = _second_moments(q[:, None, None] * Q2, cand[i])


@register_kernel("prosper_xt_weighted", "numpy")
def prosper_xt_weighted(X, E, w, out):
    out[:] = np.einsum("nh,n,nd->hd", E, w, X)


@register_kernel("prosper_pair_moments", "numpy")
def prosper_pair_moments(cand, ecc, diag, w, out):
    H = out.shape[0]
    w = np.asarray(w, dtype=np.float64)
    flat = (cand[:, :, None] * H + cand[:, None, :]).ravel()
    vals = (ecc * w[:, None, None]).ravel()
    full = np.bincount(flat, weights=vals, minlength=H * H).reshape(H, H)
    full[np.diag_indices(H)] += w @ diag.astype(np.float64)
    out[:] = full


@register_kernel("prosper_residual_preselect", "numpy")
def prosper_residual_preselect(yw, G, cand):
    """Matching pursuit in coefficient space, all rows at once: ``H'`` rounds of "pick the
    unused unit of largest ``|r_h| / ||W_h||``, subtract its least-squares fit"."""
    n, H = yw.shape
    g = np.diag(G).astype(np.float64)
    pos = g > 0
    inv = np.where(pos, 1.0 / np.sqrt(np.where(pos, g, 1.0)), 0.0)
    gs = np.where(pos, g, 1.0)
    Gf = G.astype(np.float64)
    r = yw.astype(np.float64)
    used = np.zeros((n, H), dtype=bool)
    rows = np.arange(n)
    for k in range(cand.shape[1]):
        sc = np.abs(r) * inv
        sc[np.isnan(sc) | used] = -np.inf
        j = np.argmax(sc, axis=1)
        j = np.where(np.isneginf(sc[rows, j]), np.argmin(used, axis=1), j)
        cand[:, k] = j
        used[rows, j] = True
        a = np.where(pos[j], r[rows, j] / gs[j], 0.0)
        r = r - a[:, None] * Gf[j]
    cand.sort(axis=1)


@register_kernel("prosper_topk_preselect", "numpy")
def prosper_topk_preselect(scores, scale, cand):
    """The ``H'`` largest ``scores * scale`` per row by a stable sort (ties: lower unit
    first; NaN as ``-inf``), in ascending unit order."""
    with np.errstate(invalid="ignore"):  # inf * 0 is NaN, ranked as -inf below
        key = scores.astype(np.float64) * np.asarray(scale, dtype=np.float64)
    key = np.where(np.isnan(key), -np.inf, key)
    order = np.argsort(-key, axis=1, kind="stable")[:, :cand.shape[1]]
    cand[:] = np.sort(order, axis=1)
