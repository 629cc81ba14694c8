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

The BSC kernel works on column blocks of 64 data points with the point index innermost,
so that its loops over states vectorise, and takes its exponentials from ``_exp_cols``, a
branch-free polynomial ``exp`` (:mod:`._fastmath`, within 2 ulp) that LLVM vectorises,
where Numba's ``math.exp`` is a scalar call. The M-step's ``prosper_pair_moments`` sums
the per-point second moments into the ``(H, H)`` matrix, ``prosper_xt_weighted`` forms
``Xᵀ (w ⊙ ⟨s⟩)`` over the nonzero posteriors only. ``prosper_topk_preselect`` picks the
candidates of the largest scores (``preselection="singleton"``),
``prosper_residual_preselect`` by matching pursuit on ``W y`` (``preselection="residual"``).
"""

import math

import numpy as np
from numba import njit

from .._registry import register_kernel
from ._fastmath import exp_poly

_opts = dict(cache=True, nogil=True)
_LOG_CUT = math.log(1e-30)

#: points per column block of the BSC kernel (its work buffers, ``(|K|, _COLS)``, stay in L2)
_COLS = 64


@njit(cache=True, nogil=True, fastmath={"contract"})
def _exp_cols(lj, mx, nt, nc, cut, out, tot):
    """``out[t, i] = exp(lj[t, i] - mx[i])`` where ``lj[t, i] - mx[i] > cut`` (else 0) for
    ``t < nt``, ``i < nc``; ``tot[i] = Σ_t out[t, i]``.

    One branch-free loop over ``i`` that LLVM vectorises (Numba's ``math.exp`` is a
    scalar call): the exponentials are :func:`~._fastmath.exp_poly`'s, within 2 ulp of
    ``exp`` for ``cut <= v <= 0`` with ``cut >= -708``. ``out`` must not overlap ``lj``.
    """
    for i in range(nc):
        tot[i] = 0.0
    for t in range(nt):
        for i in range(nc):
            v = lj[t, i] - mx[i]
            keep = v > cut
            e = exp_poly(max(v, cut))
            e = e if keep else 0.0
            out[t, i] = e
            tot[i] += e


@njit(cache=True, nogil=True, fastmath={"contract"})
def _exp_row_terms(x, shift, cut, out):
    """``out = exp(x - shift)`` where ``x - shift > cut``, else 0: :func:`_exp_cols` along
    one row (vectorised over it)."""
    for t in range(x.shape[0]):
        v = x[t] - shift
        keep = v > cut
        e = exp_poly(max(v, cut))
        out[t] = e if keep else 0.0


@njit(cache=True, nogil=True, fastmath={"reassoc", "nsz", "contract"})
def _sum_reassoc(x):
    """``sum(x)`` in any order (so that it vectorises)."""
    tot = 0.0
    for t in range(x.shape[0]):
        tot += x[t]
    return tot


@njit(**_opts)
def _exp_row(x, shift, cut, out):
    """``out = exp(x - shift)`` (0 where ``x - shift <= cut``); returns ``sum(out)``.
    ``out`` must not overlap ``x`` (LLVM would fall back to its scalar loop)."""
    _exp_row_terms(x, shift, cut, out)
    return _sum_reassoc(out)


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
    ``beta_prior |A| log_odds - beta_lik ||y - W s||² / (2 sigma2)``. Each support of
    size ``k >= 2`` extends its prefix by one unit ``u``, so its energy is the prefix's
    plus ``G_uu - 2 yw_u + 2 Σ_{a∈prefix} G_au`` (``O(k)``).

    The data points are processed in column blocks of ``_COLS``: every buffer is laid out
    ``(state or candidate, point)``, so that each step (energies, max, exponentials,
    sums of the expectations) is a loop over the points of the block that LLVM
    vectorises, the state structure (``combos``) being the same for all points.
    """
    n, H = yw.shape
    Hp = cand.shape[1]
    M, gamma = combos.shape
    S = 1 + H + M
    parent, size = _combo_parents(combos)
    C = _COLS
    lj = np.empty((S, C))
    pq = np.empty((S, C))
    en = np.empty((max(M, 1), C))   # ||y - W s||² - ||y||² of each support
    dg = np.empty((Hp, C))          # G_uu - 2 yw_u of each candidate
    P2 = np.empty((Hp, Hp, C))      # 2 G_ab of each pair of candidates
    sacc = np.empty((Hp, C))
    pacc = np.empty((Hp, Hp, C))
    mx = np.empty(C)
    tot = np.empty(C)
    y2 = np.empty(C)
    cz = beta_lik / (2.0 * sigma2)
    lp = beta_prior * log_odds
    for i0 in range(0, n, C):
        nc = min(C, n - i0)
        for i in range(nc):
            ii = i0 + i
            y2[i] = yy[ii]
            for a in range(Hp):
                ua = cand[ii, a]
                dg[a, i] = G[ua, ua] - 2.0 * yw[ii, ua]
                for b in range(Hp):
                    P2[a, b, i] = 2.0 * G[ua, cand[ii, b]]
        for i in range(nc):
            v = -cz * y2[i]
            lj[0, i] = v
            mx[i] = v
        for h in range(H):
            ghh = np.float64(G[h, h])
            for i in range(nc):
                v = lp - cz * (y2[i] - 2.0 * yw[i0 + i, h] + ghh)
                lj[1 + h, i] = v
                mx[i] = max(mx[i], v)
        for m in range(M):
            k = size[m]
            u = combos[m, k - 1]
            p0 = combos[m, 0]
            par = parent[m]
            if k == 2:
                for i in range(nc):
                    en[m, i] = dg[p0, i] + dg[u, i] + P2[p0, u, i]
            else:
                if par >= 0:
                    for i in range(nc):
                        en[m, i] = en[par, i] + dg[u, i]
                else:  # rows not in state_combinations' order: the prefix from scratch
                    for i in range(nc):
                        en[m, i] = 0.0
                    for a in range(k - 1):
                        pa = combos[m, a]
                        for i in range(nc):
                            en[m, i] += dg[pa, i]
                        for b in range(a):
                            pb = combos[m, b]
                            for i in range(nc):
                                en[m, i] += P2[pa, pb, i]
                    for i in range(nc):
                        en[m, i] += dg[u, i]
                for a in range(k - 1):
                    pa = combos[m, a]
                    for i in range(nc):
                        en[m, i] += P2[pa, u, i]
            kl = k * lp
            for i in range(nc):
                v = kl - cz * (y2[i] + en[m, i])
                lj[1 + H + m, i] = v
                mx[i] = max(mx[i], v)
        # posteriors below 1e-30 of the largest are flushed to 0: they change nothing,
        # and as subnormal numbers they would slow down the M-step's BLAS products
        _exp_cols(lj, mx, S, nc, _LOG_CUT, pq, tot)
        for a in range(Hp):
            for i in range(nc):
                sacc[a, i] = 0.0
            for b in range(Hp):
                for i in range(nc):
                    pacc[a, b, i] = 0.0
        for m in range(M):
            t = 1 + H + m
            for a in range(size[m]):
                pa = combos[m, a]
                for i in range(nc):
                    sacc[pa, i] += pq[t, i]
                for b in range(a):
                    pb = combos[m, b]
                    for i in range(nc):
                        pacc[pa, pb, i] += pq[t, i]
        for i in range(nc):
            ii = i0 + i
            logz[ii] = mx[i] + math.log(tot[i])
            inv = 1.0 / tot[i]
            for h in range(H):
                es[ii, h] = pq[1 + h, i] * inv
            for a in range(Hp):
                es[ii, cand[ii, a]] += sacc[a, i] * inv
                ecc[ii, a, a] = 0.0
                for b in range(a):
                    # one triangle is summed (positions in a support increase)
                    v = (pacc[a, b, i] + pacc[b, a, i]) * inv
                    ecc[ii, a, b] = v
                    ecc[ii, b, a] = v


@njit(inline="always", **_opts)
def _chol_inv(Lam, k, L, Linv, C):
    """Cholesky ``Lam[:k,:k] = L Lᵀ``; ``C = Lam⁻¹``; returns ``log det Lam`` (or nan).

    Inlined into the kernel (a call per state with array arguments costs more than the
    factorisation); ``log det`` is the log of the product of the pivots (one ``log``),
    folded into a sum of logs if the product leaves ``[1e-280, 1e280]``.
    """
    prod = 1.0
    logdet = 0.0
    for j in range(k):
        d = Lam[j, j]
        for p in range(j):
            d -= L[j, p] * L[j, p]
        if d <= 0.0:
            return np.nan
        prod *= d
        if not 1e-280 < prod < 1e280:
            logdet += math.log(prod)
            prod = 1.0
        d = math.sqrt(d)
        L[j, j] = d
        Linv[j, j] = 1.0 / d
        for r in range(j + 1, k):
            v = Lam[r, j]
            for p in range(j):
                v -= L[r, p] * L[j, p]
            L[r, j] = v * Linv[j, j]
    for j in range(k):  # Linv lower triangular
        for r in range(j):
            Linv[r, j] = 0.0
        for r in range(j + 1, k):
            v = 0.0
            for p in range(j, r):
                v -= L[r, p] * Linv[p, j]
            Linv[r, j] = v * Linv[r, r]
    for a in range(k):  # C = Linvᵀ Linv
        for b in range(a + 1):
            v = 0.0
            for p in range(a, k):
                v += Linv[p, a] * Linv[p, b]
            C[a, b] = v
            C[b, a] = v
    return logdet + math.log(prod)


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
    pq = np.empty(S)
    kap = np.zeros((S, g1))
    cov = np.zeros((S, g1, g1))
    units = np.empty(g1, dtype=np.int64)
    Lam = np.empty((g1, g1))
    L = np.zeros((g1, g1))
    Linv = np.zeros((g1, g1))
    bvec = np.empty(g1)
    is2 = 1.0 / sigma2
    lpsi_u = np.empty(H)
    ipsi_u = np.empty(H)
    for h in range(H):
        lpsi_u[h] = math.log(psi2[h])
        ipsi_u[h] = 1.0 / psi2[h]
    for i in range(n):
        y2 = np.float64(yy[i])
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
                lpsi += lpsi_u[ua]
                r -= 2.0 * mu[ua] * yw[i, ua]
                bv = yw[i, ua]
                for b in range(k):
                    ub = units[b]
                    r += mu[ua] * G[ua, ub] * mu[ub]
                    bv -= G[ua, ub] * mu[ub]
                    Lam[a, b] = G[ua, ub] * is2
                Lam[a, a] += ipsi_u[ua]
                bvec[a] = bv * is2
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
        tot = _exp_row(lj, mx, _LOG_CUT, pq)
        for t in range(S):
            lj[t] = pq[t]
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


@register_kernel("prosper_pair_moments", "numba")
@njit(**_opts)
def prosper_pair_moments(cand, ecc, diag, w, out):
    """``out = Σ_n w_n (scatter of ecc[n] at (cand[n], cand[n]) + diag(diag[n]))``, the
    ``(H, H)`` weighted sum of the per-point second moments (rows with ``w_n = 0``
    skipped)."""
    n, Hp = cand.shape
    H = out.shape[0]
    for a in range(H):
        for b in range(H):
            out[a, b] = 0.0
    for i in range(n):
        wi = np.float64(w[i])
        if wi == 0.0:
            continue
        for h in range(H):
            out[h, h] += wi * diag[i, h]
        for a in range(Hp):
            ua = cand[i, a]
            for b in range(Hp):
                out[ua, cand[i, b]] += wi * ecc[i, a, b]


@njit(inline="always", **_opts)
def _sort_row(cand, i):
    """``cand[i]`` in ascending unit order (insertion sort: ``H'`` is small)."""
    for k in range(1, cand.shape[1]):
        v = cand[i, k]
        m = k - 1
        while m >= 0 and cand[i, m] > v:
            cand[i, m + 1] = cand[i, m]
            m -= 1
        cand[i, m + 1] = v


@register_kernel("prosper_residual_preselect", "numba")
@njit(**_opts)
def prosper_residual_preselect(yw, G, cand):
    """Residual preselection: ``cand[n]`` (ascending) are the ``H'`` units picked by
    matching pursuit on ``x_n`` in coefficient space.

    Round ``k`` picks the unused unit of largest ``|r_h| / ||W_h||`` (``r = W x`` at the
    start), then subtracts that unit's least-squares fit, ``r -= (r_j / G_jj) G_j``; it
    never forms a residual in data space. Units of zero norm score 0; a NaN score is
    never picked before a finite one.
    """
    n, H = yw.shape
    Hp = cand.shape[1]
    inv = np.empty(H)
    for h in range(H):
        g = np.float64(G[h, h])
        inv[h] = 1.0 / math.sqrt(g) if g > 0.0 else 0.0
    r = np.empty(H)
    used = np.empty(H, dtype=np.bool_)
    for i in range(n):
        for h in range(H):
            r[h] = yw[i, h]
            used[h] = False
        for k in range(Hp):
            j = -1
            best = -np.inf
            for h in range(H):
                if not used[h]:
                    v = abs(r[h]) * inv[h]
                    if v > best:
                        best = v
                        j = h
            if j < 0:  # only NaN scores left: the first unused unit
                for h in range(H):
                    if not used[h]:
                        j = h
                        break
            used[j] = True
            cand[i, k] = j
            gj = np.float64(G[j, j])
            if gj > 0.0:
                a = r[j] / gj
                for h in range(H):
                    r[h] = r[h] - a * G[j, h]
        _sort_row(cand, i)


@register_kernel("prosper_topk_preselect", "numba")
@njit(cache=True, nogil=True, fastmath={"contract"})
def prosper_topk_preselect(scores, scale, cand):
    """Singleton preselection: ``cand[n]`` (ascending) are the ``H'`` units of largest
    ``scores[n, h] * scale[h]`` (in float64); ties go to the lower unit, NaN scores count
    as ``-inf``.

    Works on column blocks of ``_COLS`` points, laid out ``(unit, point)``: each of the
    ``H'`` rounds is a branch-free running maximum over the units, vectorised over the
    points of the block (1.7x faster than ``argpartition`` + ``sort`` on 1000 × 32 with
    ``H' = 8``, where a per-point insertion into a sorted list is 2x slower: its branches
    are unpredictable). A picked unit becomes NaN, which no comparison selects.
    """
    n, H = scores.shape
    Hp = cand.shape[1]
    C = _COLS
    v = np.empty((H, C))
    best = np.empty(C)
    idx = np.empty(C, dtype=np.int64)
    ninf = -np.inf
    for i0 in range(0, n, C):
        nc = min(C, n - i0)
        for h in range(H):   # point-contiguous reads for the E-step's (W Xᵀ)ᵀ
            sh = scale[h]
            for i in range(nc):
                x = np.float64(scores[i0 + i, h]) * sh
                v[h, i] = x if x == x else ninf
        for k in range(Hp):
            for i in range(nc):
                best[i] = ninf
                idx[i] = -1
            for h in range(H):
                for i in range(nc):
                    x = v[h, i]
                    m = x > best[i]   # strict: the lower unit keeps a tie
                    best[i] = x if m else best[i]
                    idx[i] = h if m else idx[i]
            for i in range(nc):
                j = idx[i]
                if j < 0:   # only -inf left (or NaN, i.e. picked): the first -inf unit
                    for h in range(H):
                        if v[h, i] == ninf:
                            j = h
                            break
                cand[i0 + i, k] = j
                v[j, i] = np.nan
        for i in range(nc):
            _sort_row(cand, i0 + i)
