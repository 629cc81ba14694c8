"""NumPy references:
Working-set coordinate descent for the sparse linear models (Lasso, ElasticNet).

Slow, readable versions of the Numba kernels (same arguments, same in-place updates, same
return value), used as the oracle in the conformance tests and as the ``engine="numpy"`` path.

``glm_cd_ws_dense(Xt, w, R, ws, lc, alpha1, alpha2, positive, max_epochs, tol, n_anderson)``
(``Xt = X.T`` of shape (n_features, n_samples), C-contiguous, so feature ``j`` is ``Xt[j]``)
runs at most ``max_epochs`` cyclic epochs of exact coordinate minimisation over the indices
``ws`` of

    1/(2n) ||R||^2 + alpha1 ||w||_1 + alpha2 / 2 ||w||^2   (+ indicator(w >= 0) if positive)

where ``R = y - X w`` (updated in place with ``w``) and ``lc[j] = ||X_j||^2 / n``. With
``n_anderson = K > 0`` every ``K + 1`` epochs the stored iterates are extrapolated by Anderson
acceleration (Bertrand and Massias, 2021) and the extrapolated point replaces the current one
when its objective is lower. Every 10 epochs (and at the last one) the run stops if the largest
subdifferential distance on the working set is ``<= tol``. Returns the number of epochs run.

``glm_cd_ws_sparse(data, indices, indptr, n, center, mu, v, xv, vv, w, Rs, c_arr, ws, lc, ...)``
does the same for a CSC matrix ``Xs`` with implicit column centring: the columns are
``a_j = Xs_j - mu_j v`` (``center`` True) and the residual is ``R = Rs + c v`` with the scalar
``c = c_arr[0]``; ``xv = Xs^T v`` and ``vv = v^T v`` are precomputed.
"""

import numpy as np

from .._registry import register_kernel

CHECK_EVERY = 10
MAX_WEIGHT = 1e3  # larger Anderson weights amplify rounding: no extrapolation


def cd_update(wj, g, lcj, alpha1, alpha2, positive):
    """Exact minimiser in ``w_j`` given ``g = X_j^T R / n`` and ``lcj = ||X_j||^2 / n``."""
    denom = lcj + alpha2
    if denom <= 0.0:
        return 0.0
    z = wj * lcj + g
    if positive:
        v = max(z - alpha1, 0.0)
    else:
        v = np.sign(z) * max(abs(z) - alpha1, 0.0)
    return v / denom


def subdiff_dist(wj, g, alpha1, alpha2, positive):
    """Distance of ``g`` (= minus the partial gradient) to the penalty's subdifferential."""
    if wj == 0.0:
        return max((g if positive else abs(g)) - alpha1, 0.0)
    return abs(g - alpha1 * np.sign(wj) - alpha2 * wj)


def anderson_coefs(bw):
    """Anderson weights (summing to one) from the iterates in the rows of ``bw``, or None."""
    U = np.diff(bw, axis=0)
    M = U @ U.T
    dmax = np.max(np.diag(M)) if M.size else 0.0
    if not (dmax > 0.0 and np.isfinite(dmax)):
        return None
    try:
        z = np.linalg.solve(M, np.ones(M.shape[0]))
    except np.linalg.LinAlgError:
        return None
    if np.linalg.cond(M) > 1e14:
        return None
    tot = z.sum()
    if tot == 0.0 or not np.isfinite(tot):
        return None
    c = z / tot
    return c if np.abs(c).sum() <= MAX_WEIGHT else None


def _objective(R_true, wv, alpha1, alpha2, n):
    return (0.5 / n * float(R_true @ R_true) + alpha1 * float(np.abs(wv).sum())
            + 0.5 * alpha2 * float(wv @ wv))


def _run(n, w, ws, lc, alpha1, alpha2, positive, max_epochs, tol, K, grad, update, get_r,
         set_r, r_true):
    """Shared driver: ``grad(j)``, ``update(j, d)``, residual snapshot accessors."""
    inv_n = 1.0 / n
    bw, br = [], []
    ep = 0
    for ep in range(1, max_epochs + 1):
        for j in ws:
            old = w[j]
            w[j] = cd_update(float(old), grad(j) * inv_n, float(lc[j]), alpha1, alpha2, positive)
            d = w[j] - old
            if d != 0.0:
                update(j, d)
        if K > 0:
            bw.append(w[ws].astype(np.float64))
            br.append(get_r())
            if len(bw) == K + 1:
                c = anderson_coefs(np.array(bw))
                B, Br = np.array(bw), np.array(br)
                bw, br = [], []
                if c is not None:
                    wacc = c @ B[1:]
                    if not (positive and np.any(wacc < 0.0)):
                        racc = c @ Br[1:]
                        f_acc = _objective(r_true(racc), wacc, alpha1, alpha2, n)
                        f_cur = _objective(r_true(get_r()), w[ws].astype(np.float64), alpha1,
                                           alpha2, n)
                        if f_acc < f_cur:
                            w[ws] = wacc
                            set_r(racc)
        if ep % CHECK_EVERY == 0 or ep == max_epochs:
            crit = 0.0
            for j in ws:
                crit = max(crit, subdiff_dist(float(w[j]), grad(j) * inv_n, alpha1, alpha2,
                                              positive))
            if crit <= tol:
                break
    return ep


@register_kernel("glm_cd_ws_dense", "numpy")
def glm_cd_ws_dense(Xt, w, R, ws, lc, alpha1, alpha2, positive, max_epochs, tol, n_anderson):
    n = Xt.shape[1]

    def grad(j):
        return float(Xt[j].astype(np.float64) @ R.astype(np.float64))

    def update(j, d):
        R[:] = R - d * Xt[j]

    def get_r():
        return R.astype(np.float64)

    def set_r(r):
        R[:] = r

    return _run(n, w, ws, lc, alpha1, alpha2, positive, max_epochs, tol, n_anderson, grad,
                update, get_r, set_r, lambda r: r)


@register_kernel("glm_cd_ws_sparse", "numpy")
def glm_cd_ws_sparse(data, indices, indptr, n, center, mu, v, xv, vv, w, Rs, c_arr, ws, lc,
                     alpha1, alpha2, positive, max_epochs, tol, n_anderson):
    v64 = v.astype(np.float64)
    st = {"c": float(c_arr[0])}

    def col(j):
        sl = slice(indptr[j], indptr[j + 1])
        return indices[sl], data[sl]

    def grad(j):
        idx, val = col(j)
        g = float(val.astype(np.float64) @ Rs[idx].astype(np.float64))
        if center:
            c = st["c"]
            s = float(v64 @ Rs.astype(np.float64))
            g += c * xv[j] - mu[j] * (s + c * vv)
        return g

    def update(j, d):
        idx, val = col(j)
        Rs[idx] = Rs[idx] - d * val
        if center:
            st["c"] += float(d) * mu[j]

    def get_r():
        return np.append(Rs.astype(np.float64), st["c"])

    def set_r(r):
        Rs[:] = r[:n]
        if center:
            st["c"] = float(r[n])

    def r_true(r):
        return r[:n] + r[n] * v64 if center else r[:n]

    ep = _run(n, w, ws, lc, alpha1, alpha2, positive, max_epochs, tol, n_anderson, grad, update,
              get_r, set_r, r_true)
    c_arr[0] = st["c"]
    return ep


@register_kernel("glm_cd_scores", "numpy")
def glm_cd_scores(w, G, lc, norms, alpha1, alpha2, positive, strategy, const, screened, score):
    """Working-set scores of every feature (float64 arrays), in place in ``score``.

    ``strategy`` 0 is GS-s (distance of ``G = X^T R / n`` to the subdifferential), 1 GS-r (length
    of the coordinate prox step, ``|prox(G_j / lc_j)|`` at ``w_j = 0``), 2 celer's priority
    ``(const |G_j| - alpha1) / norms_j``. The support gets ``+inf`` (forced into the working
    set), screened features ``-inf``. Returns ``(largest subdifferential distance over the
    unscreened features, support size)``.
    """
    zero = w == 0
    at0 = np.maximum((G if positive else np.abs(G)) - alpha1, 0.0)
    off = np.abs(G - alpha1 * np.sign(w) - alpha2 * w)
    kkt = np.where(zero, at0, off)
    kkt[screened] = 0.0
    if strategy == 0:
        score[:] = kkt
    elif strategy == 1:
        z = G
        v = np.maximum(z - alpha1, 0.0) if positive else np.sign(z) * np.maximum(
            np.abs(z) - alpha1, 0.0)
        den = lc + alpha2
        out = np.zeros_like(v)
        np.divide(v, den, out=out, where=den > 0)
        score[:] = np.abs(out)
    else:
        corr = const * (G if positive else np.abs(G))
        safe = np.where(norms > 0, norms, 1.0)
        score[:] = np.where(norms > 0, (corr - alpha1) / safe, -np.finfo(np.float64).max)
    score[~zero] = np.inf
    score[screened] = -np.inf
    return float(kkt.max(initial=0.0)), int(np.count_nonzero(~zero & ~screened))
