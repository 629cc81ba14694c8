"""Numba kernels:
Truncated E-steps of probabilistic sparse coding (ProSper: BSC and GSC).

For every data point ``n`` the truncated state set is
``K_n = {0} ∪ {e_h : h < H} ∪ {s : 2 <= |s| <= γ, supp(s) ⊂ I_n}`` where ``I_n = cand[n]``
holds the ``H'`` preselected units and ``combos`` (shape ``(M, γ)``, padded with -1)
lists the supports of size 2..γ as positions into ``cand[n]``.

The kernels never form ``W s``: with the projections ``yw = W y`` and the Gram matrix
``G = W Wᵀ`` computed once per block by BLAS, ``||y - W s||² = yy - 2 Σ_{h∈A} yw_h +
Σ_{h,h'∈A} G_hh'`` costs ``O(|A|²)`` per state instead of ``O(D |A|)``. The GSC kernel
likewise only factors the ``|A|×|A|`` matrix ``Λ_s = G_AA/σ² + diag(1/ψ²_A)`` per state.
The scalar work is done in float64; outputs have the dtype of the arrays passed in.

Outputs per data point (filled in place): ``logz[n]`` (log Σ_{K_n} exp of the log-joint),
``es[n]`` (⟨s⟩, over all H units) and ``ecc[n]`` (``(H', H')``: the off-diagonal
second moments ⟨s_i s_j⟩ between candidates ``i != j``; zero diagonal; the diagonal of
⟨s sᵀ⟩ is ``es``). The GSC kernel also fills ⟨s⊙z⟩ and ⟨s_h z_h²⟩ and uses ``ecc`` for
⟨(s⊙z)_i (s⊙z)_j⟩.

Posteriors smaller than ``1e-30`` times the largest one of a data point are set to 0 (not
left to underflow into subnormal numbers, which slow down every later product with them).
"""

import math

import numpy as np
from numba import njit

from .._registry import register_kernel

_opts = dict(cache=True, nogil=True)
_LOG_CUT = math.log(1e-30)


@njit(**_opts)
def _combo_parents(combos):
    """For each support ``m`` (rows of ``combos``), ``(parent, k)``: ``parent[m]`` is the row
    of its prefix without the last unit (``-1`` when that prefix is a singleton or is not
    found) and ``k[m]`` its size. With the rows of ``state_combinations`` (by size, then
    lexicographic) the prefixes come in order too, so the search is linear overall."""
    M, gamma = combos.shape
    parent = np.full(M, -1, dtype=np.int64)
    size = np.zeros(M, dtype=np.int64)
    for m in range(M):
        k = 0
        while k < gamma and combos[m, k] >= 0:
            k += 1
        size[m] = k
    start = 0  # first row of the previous size block
    ptr = 0
    for m in range(M):
        k = size[m]
        if k <= 2:
            continue
        if m > 0 and size[m - 1] != k:  # first support of size k
            while start < M and size[start] != k - 1:
                start += 1
            ptr = start
        found = -1
        for q in range(ptr, m):  # a parent row must come before its child
            if size[q] == k - 1:
                same = True
                for a in range(k - 1):
                    if combos[q, a] != combos[m, a]:
                        same = False
                        break
                if same:
                    found = q
                    break
        if found >= 0:
            ptr = found
        parent[m] = found  # -1 (rows not in that order): the kernel sums from scratch
    return parent, size


@register_kernel("prosper_bsc_estep", "numba")
@njit(**_opts)
def prosper_bsc_estep(yw, yy, G, cand, combos, log_odds, beta_prior, beta_lik, sigma2,
                      logz, es, ecc):
    """Truncated BSC E-step over a block of data points (see the module docstring).

    The annealed log-joint of a state with support ``A`` is
    ``beta_prior |A| log_odds - beta_lik ||y - W s||² / (2 sigma2)``. Per data point the
    candidates' projections and ``H'×H'`` Gram block are gathered once; each support of
    size ``k >= 2`` extends its prefix by one unit ``u``, so its energy is the prefix's
    plus ``G_uu - 2 yw_u + 2 Σ_{a∈prefix} G_au`` (``O(k)``, no allocation per state).
    States whose posterior is flushed to 0 are skipped in the expectations.
    """
    n, H = yw.shape
    Hp = cand.shape[1]
    M, gamma = combos.shape
    S = 1 + H + M
    parent, size = _combo_parents(combos)
    lj = np.empty(S)
    en = np.empty(M)         # ||y - W s||² - ||y||² of each support
    ywc = np.empty(Hp)
    Gc = np.empty((Hp, Hp))
    cz = beta_lik / (2.0 * sigma2)
    lp = beta_prior * log_odds
    for i in range(n):
        y2 = float(yy[i])
        for a in range(Hp):
            ua = cand[i, a]
            ywc[a] = yw[i, ua]
            for b in range(Hp):
                Gc[a, b] = G[ua, cand[i, b]]
        lj[0] = -cz * y2
        mx = lj[0]
        for h in range(H):
            v = lp - cz * (y2 - 2.0 * yw[i, h] + G[h, h])
            lj[1 + h] = v
            if v > mx:
                mx = v
        for m in range(M):
            k = size[m]
            u = combos[m, k - 1]
            p0 = combos[m, 0]
            if k == 2:
                acc = Gc[p0, p0] - 2.0 * ywc[p0]
            elif parent[m] >= 0:
                acc = en[parent[m]]
            else:
                acc = 0.0
                for a in range(k - 1):
                    pa = combos[m, a]
                    acc += Gc[pa, pa] - 2.0 * ywc[pa]
                    for b in range(a):
                        acc += 2.0 * Gc[pa, combos[m, b]]
            acc += Gc[u, u] - 2.0 * ywc[u]
            for a in range(k - 1):
                acc += 2.0 * Gc[combos[m, a], u]
            en[m] = acc
            v = k * lp - cz * (y2 + acc)
            lj[1 + H + m] = v
            if v > mx:
                mx = v
        tot = 0.0
        for t in range(S):
            v = lj[t] - mx
            # posteriors below 1e-30 of the largest are flushed to 0: they change nothing,
            # and as subnormal numbers they would slow down the M-step's BLAS products
            lj[t] = math.exp(v) if v > _LOG_CUT else 0.0
            tot += lj[t]
        logz[i] = mx + math.log(tot)
        inv = 1.0 / tot
        for h in range(H):
            es[i, h] = lj[1 + h] * inv
        for a in range(Hp):
            for b in range(Hp):
                ecc[i, a, b] = 0.0
        for m in range(M):
            q = lj[1 + H + m] * inv
            if q == 0.0:
                continue
            k = size[m]
            for a in range(k):
                pa = combos[m, a]
                es[i, cand[i, pa]] += q
                for b in range(a):
                    pb = combos[m, b]
                    ecc[i, pa, pb] += q
                    ecc[i, pb, pa] += q


@njit(**_opts)
def _chol_inv(Lam, k, L, Linv, C):
    """Cholesky ``Lam[:k,:k] = L Lᵀ``; ``C = Lam⁻¹``; returns ``log det Lam`` (or nan)."""
    logdet = 0.0
    for j in range(k):
        d = Lam[j, j]
        for p in range(j):
            d -= L[j, p] * L[j, p]
        if d <= 0.0:
            return np.nan
        d = math.sqrt(d)
        L[j, j] = d
        logdet += 2.0 * math.log(d)
        for r in range(j + 1, k):
            v = Lam[r, j]
            for p in range(j):
                v -= L[r, p] * L[j, p]
            L[r, j] = v / d
    for j in range(k):  # Linv lower triangular
        for r in range(k):
            Linv[r, j] = 0.0
        Linv[j, j] = 1.0 / L[j, j]
        for r in range(j + 1, k):
            v = 0.0
            for p in range(j, r):
                v -= L[r, p] * Linv[p, j]
            Linv[r, j] = v / L[r, r]
    for a in range(k):  # C = Linvᵀ Linv
        for b in range(a + 1):
            v = 0.0
            for p in range(a, k):
                v += Linv[p, a] * Linv[p, b]
            C[a, b] = v
            C[b, a] = v
    return logdet


@register_kernel("prosper_gsc_estep", "numba")
@njit(**_opts)
def prosper_gsc_estep(yw, yy, G, cand, combos, log_odds, mu, psi2, sigma2, beta, half,
                      const, logz, es, esz, esz2, ecc):
    """Truncated GSC (spike-and-slab) E-step over a block of data points.

    For a support ``A``: ``Λ = G_AA/σ² + diag(1/ψ²_A)``, ``b = (yw_A - G_AA μ_A)/σ²``,
    ``r = yy - 2 μ_Aᵀ yw_A + μ_Aᵀ G_AA μ_A`` (``= ||y - W_A μ_A||²``), and the log-joint
    ``const + Σ_A log_odds - half (Σ_A log ψ² + log|Λ| + r/σ² - bᵀ Λ⁻¹ b)``, annealed as
    ``beta`` times the whole. ``half = 0.5`` is the exact model (``1`` reproduces the
    reference code). The slab posterior is ``κ = μ_A + Λ⁻¹ b``, ``Cov = Λ⁻¹``.
    """
    n, H = yw.shape
    Hp = cand.shape[1]
    M, gamma = combos.shape
    S = 1 + H + M
    g1 = max(gamma, 1)
    lj = np.empty(S)
    kap = np.zeros((S, g1))
    cov = np.zeros((S, g1, g1))
    units = np.empty(g1, dtype=np.int64)
    Lam = np.empty((g1, g1))
    L = np.zeros((g1, g1))
    Linv = np.zeros((g1, g1))
    bvec = np.empty(g1)
    for i in range(n):
        y2 = float(yy[i])
        for t in range(S):
            k = 0
            if t >= 1 + H:
                m = t - 1 - H
                for a in range(gamma):
                    pa = combos[m, a]
                    if pa < 0:
                        break
                    units[k] = cand[i, pa]
                    k += 1
            elif t >= 1:
                units[0] = t - 1
                k = 1
            lo = 0.0
            lpsi = 0.0
            r = y2
            for a in range(k):
                ua = units[a]
                lo += log_odds[ua]
                lpsi += math.log(psi2[ua])
                r -= 2.0 * mu[ua] * yw[i, ua]
                bv = yw[i, ua]
                for b in range(k):
                    ub = units[b]
                    r += mu[ua] * G[ua, ub] * mu[ub]
                    bv -= G[ua, ub] * mu[ub]
                    Lam[a, b] = G[ua, ub] / sigma2
                Lam[a, a] += 1.0 / psi2[ua]
                bvec[a] = bv / sigma2
            ld = _chol_inv(Lam, k, L, Linv, cov[t])
            quad = r / sigma2
            for a in range(k):
                v = 0.0
                for b in range(k):
                    v += cov[t, a, b] * bvec[b]
                kap[t, a] = mu[units[a]] + v
                quad -= bvec[a] * v
            if ld != ld:
                lj[t] = -np.inf
            else:
                lj[t] = beta * (const + lo - half * (lpsi + ld + quad))
        mx = -np.inf
        for t in range(S):
            if lj[t] > mx:
                mx = lj[t]
        tot = 0.0
        for t in range(S):
            v = lj[t] - mx
            # posteriors below 1e-30 of the largest are flushed to 0: they change nothing,
            # and as subnormal numbers they would slow down the M-step's BLAS products
            lj[t] = math.exp(v) if v > _LOG_CUT else 0.0
            tot += lj[t]
        logz[i] = mx + math.log(tot)
        for h in range(H):
            q = lj[1 + h] / tot
            es[i, h] = q
            esz[i, h] = q * kap[1 + h, 0]
            esz2[i, h] = q * (kap[1 + h, 0] * kap[1 + h, 0] + cov[1 + h, 0, 0])
        for a in range(Hp):
            for b in range(Hp):
                ecc[i, a, b] = 0.0
        for m in range(M):
            t = 1 + H + m
            q = lj[t] / tot
            for a in range(gamma):
                pa = combos[m, a]
                if pa < 0:
                    break
                ua = cand[i, pa]
                es[i, ua] += q
                esz[i, ua] += q * kap[t, a]
                esz2[i, ua] += q * (kap[t, a] * kap[t, a] + cov[t, a, a])
                for b in range(a):
                    pb = combos[m, b]
                    v = q * (kap[t, a] * kap[t, b] + cov[t, a, b])
                    ecc[i, pa, pb] += v
                    ecc[i, pb, pa] += v


@register_kernel("prosper_xt_weighted", "numba")
@njit(**_opts)
def prosper_xt_weighted(X, E, w, out):
    """``out = (w ⊙ E)ᵀ X`` (``(H, D)``), touching only the nonzero ``w_n E_nh``.

    The M-step's ``Σ_n w_n ⟨s⟩_n x_nᵀ``: once the posteriors are sharp, ``⟨s⟩`` is mostly
    exact zeros (flushed posteriors) and N_cut zeroes whole rows of ``w``, so this costs
    ``nnz · D`` instead of the dense product's ``N H D``.
    """
    n, D = X.shape
    H = E.shape[1]
    for h in range(H):
        for d in range(D):
            out[h, d] = 0.0
    for i in range(n):
        wi = w[i]
        if wi == 0.0:
            continue
        for h in range(H):
            v = wi * E[i, h]
            if v != 0.0:
                for d in range(D):
                    out[h, d] += v * X[i, d]
