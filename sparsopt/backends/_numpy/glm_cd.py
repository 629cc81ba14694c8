"""NumPy references:
Working-set coordinate descent for squared loss + any separable penalty.

Slow, readable versions of the Numba kernels (same arguments, same in-place updates, same
return value), used as the oracle in the conformance tests and as the ``engine="numpy"`` path.

``glm_cd_ws_dense(Xt, w, R, ws, lc, kind, params, lower, upper, max_epochs, tol, n_anderson,
crit_mode, check_offset)`` (``Xt = X.T`` of shape (n_features, n_samples), C-contiguous, so
feature ``j`` is ``Xt[j]``) runs at most ``max_epochs`` cyclic epochs of exact coordinate
minimisation over the indices ``ws`` of

    1/(2n) ||R||^2 + sum_j pen(w_j)     (w_j in [lower, upper])

where ``pen`` is the separable penalty of the :class:`~sparsopt.penalties.PenaltySpec`
``(kind, params, lower, upper)``, ``R = y - X w`` (updated in place with ``w``) and
``lc[j] = ||X_j||^2 / n``. The update of coordinate ``j`` is
``w_j <- clip(prox_{pen / L_j}(w_j + g_j / L_j), lower, upper)`` with ``g_j = X_j^T R / n``
and ``L_j = lc[j]`` (CEL0 with ``a_j = sqrt(L_j)``: hard thresholding at
``sqrt(2 alpha / L_j)``). With ``n_anderson = K > 0`` every ``K + 1`` epochs the stored
iterates are extrapolated by Anderson acceleration (Bertrand and Massias, 2021) and the
extrapolated point replaces the current one when it stays in the box and its objective is
lower. Every 10 epochs (epochs 10, 20, ... with ``check_offset = 0``; 1, 11, 21, ... with
``check_offset = 1``, skglm's schedule) and at the last one the run stops if the largest
violation on the working set is ``<= tol`` (``crit_mode`` 0: subdifferential distance,
fixed-point violation ``|w_j - prox(w_j + g_j / L_j)| L_j`` where it has no closed form or
where it is 0 at ``w_j = 0``; 1: fixed-point violation).
Returns the number of epochs run.

``glm_cd_ws_sparse(data, indices, indptr, n, center, mu, v, xv, vv, w, Rs, c_arr, ws, lc, ...)``
does the same for a CSC matrix ``Xs`` with implicit column centring: the columns are
``a_j = Xs_j - mu_j v`` (``center`` True) and the residual is ``R = Rs + c v`` with the scalar
``c = c_arr[0]``; ``xv = Xs^T v`` and ``vv = v^T v`` are precomputed.
"""

import numpy as np

from .. import _kinds as K
from .._registry import register_kernel
from . import prox as _prox

CHECK_EVERY = 10
MAX_WEIGHT = 1e3  # larger Anderson weights amplify rounding: no extrapolation


def prox_step(kind, p, lcj, t):
    """Scalar prox of ``pen / lcj`` at ``t`` (no box), through the array references."""
    x = np.array([float(t)])
    out = np.empty(1)
    step = 1.0 / lcj
    lam = p[0]
    if kind == K.KIND_L1:
        _prox.prox_l1(x, step * lam, out)
    elif kind == K.KIND_ELASTICNET:
        _prox.prox_elasticnet(x, step * lam * p[1], 1.0 + step * lam * (1.0 - p[1]), out)
    elif kind == K.KIND_L0:
        _prox.prox_l0(x, np.sqrt(2.0 * step * lam), out)
    elif kind == K.KIND_CEL0:  # a_j^2 step = 1: hard threshold at sqrt(2 alpha) / a_j
        _prox.prox_l0(x, np.sqrt(2.0 * lam / lcj), out)
    elif kind == K.KIND_LHALF:
        _prox.prox_lhalf(x, step * lam, out)
    elif kind == K.KIND_LTWOTHIRDS:
        _prox.prox_ltwothirds(x, step * lam, out)
    elif kind == K.KIND_LQ:
        _prox.prox_lq(x, step * lam, p[1], out)
    elif kind == K.KIND_MCP:
        _prox.prox_mcp(x, lam, p[1], step, out)
    elif kind == K.KIND_SCAD:
        _prox.prox_scad(x, lam, p[1], step, out)
    elif kind == K.KIND_LOG:
        _prox.prox_log(x, step * lam, p[1], out)
    else:  # KIND_BOX
        _prox.prox_box(x, p[0], p[1], out)
    return float(out[0])


def coord(kind, p, lower, upper, wj, g, lcj):
    """The coordinate update (``lcj = 0``: the penalty's minimiser in the box, 0 clipped)."""
    if lcj <= 0.0:
        return float(np.clip(0.0, lower, upper))
    inv_l = 1.0 / lcj  # the kernels multiply by 1 / L_j (computed once per working set)
    return float(np.clip(prox_step(kind, p, lcj, wj + g * inv_l), lower, upper))


def pen_values(kind, p, a, w):
    """Penalty value of each entry of ``w`` (CEL0 with the weights ``a``)."""
    u = np.abs(np.asarray(w, dtype=np.float64))
    lam = p[0]
    if kind == K.KIND_L1:
        return lam * u
    if kind == K.KIND_ELASTICNET:
        return lam * (p[1] * u + 0.5 * (1 - p[1]) * u * u)
    if kind == K.KIND_MCP:
        g = p[1]
        return np.where(u <= g * lam, lam * u - u * u / (2 * g), 0.5 * g * lam * lam)
    if kind == K.KIND_SCAD:
        a_ = p[1]
        mid = (2 * a_ * lam * u - u * u - lam * lam) / (2 * (a_ - 1))
        return np.where(u <= lam, lam * u, np.where(u <= a_ * lam, mid, lam * lam * (a_ + 1) / 2))
    if kind == K.KIND_L0:
        return np.where(u != 0, lam, 0.0)
    if kind == K.KIND_LHALF:
        return lam * np.sqrt(u)
    if kind == K.KIND_LTWOTHIRDS:
        return lam * u ** (2.0 / 3.0)
    if kind == K.KIND_LQ:
        return lam * u ** p[1]
    if kind == K.KIND_LOG:
        return lam * np.log1p(u / p[1])
    if kind == K.KIND_CEL0:
        a = np.asarray(a, dtype=np.float64)
        with np.errstate(divide="ignore"):
            b = np.where(a > 0, np.sqrt(2 * lam) / np.where(a > 0, a, 1.0), np.inf)
        return np.where(u <= b, a * np.sqrt(2 * lam) * u - 0.5 * a * a * u * u, lam)
    return np.zeros_like(u)  # KIND_BOX (inside)


def violation(kind, p, lower, upper, wj, g, lcj, crit_mode):
    """Subdifferential distance (``crit_mode`` 0; the fixed-point violation where it has no
    closed form or is 0 at ``w_j = 0``) or fixed-point violation (1) of one coordinate."""
    if crit_mode == 0:
        d = float(_prox.subdiff_distance(kind, np.array([wj]), np.array([g]), p, lower,
                                         upper)[0])
        if d > 0.0 or (d == 0.0 and wj != 0.0):
            return d
    if lcj <= 0.0:
        return abs(wj - float(np.clip(0.0, lower, upper)))
    return abs(wj - coord(kind, p, lower, upper, wj, g, lcj)) * lcj


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


class _DenseResidual:
    """The residual ``R`` of a dense ``Xt`` (feature ``j`` is the row ``Xt[j]``), in place."""

    def __init__(self, Xt, R):
        self.Xt, self.R = Xt, R

    def grad(self, j):
        return float(self.Xt[j].astype(np.float64) @ self.R.astype(np.float64))

    def update(self, j, d):
        self.R[:] = self.R - d * self.Xt[j]

    def get(self):
        """The residual state (float64 copy), as the Anderson iterates store it."""
        return self.R.astype(np.float64)

    def set(self, r):
        self.R[:] = r

    def true(self, r):
        """The true residual of a stored state."""
        return r

    def finish(self):
        pass


class _SparseResidual:
    """The residual ``R = Rs + c v`` of a CSC matrix with implicitly centred columns
    ``Xs_j - mu_j v`` (``center``); the state is ``Rs`` and the scalar ``c = c_arr[0]``,
    written back by :meth:`finish`."""

    def __init__(self, data, indices, indptr, n, center, mu, v, xv, vv, Rs, c_arr):
        self.data, self.indices, self.indptr, self.n = data, indices, indptr, n
        self.center, self.mu, self.v64, self.xv, self.vv = center, mu, v.astype(np.float64), xv, vv
        self.Rs, self.c_arr, self.c = Rs, c_arr, float(c_arr[0])

    def _col(self, j):
        sl = slice(self.indptr[j], self.indptr[j + 1])
        return self.indices[sl], self.data[sl]

    def grad(self, j):
        idx, val = self._col(j)
        g = float(val.astype(np.float64) @ self.Rs[idx].astype(np.float64))
        if self.center:  # float64 throughout (a Python float times a float32 scalar is float32)
            c = self.c
            s = float(self.v64 @ self.Rs.astype(np.float64))
            g += c * float(self.xv[j]) - float(self.mu[j]) * (s + c * self.vv)
        return g

    def update(self, j, d):
        idx, val = self._col(j)
        self.Rs[idx] = self.Rs[idx] - d * val
        if self.center:
            self.c += float(d) * float(self.mu[j])

    def get(self):
        return np.append(self.Rs.astype(np.float64), self.c)

    def set(self, r):
        self.Rs[:] = r[:self.n]
        if self.center:
            self.c = float(r[self.n])

    def true(self, r):
        return r[:self.n] + r[self.n] * self.v64 if self.center else r[:self.n]

    def finish(self):
        self.c_arr[0] = self.c


def _anderson_step(bw, br, K_, w, idx, res, objective, feasible):
    """Store the iterate ``w[idx]`` and the residual state; every ``K_ + 1`` stores, replace
    them by the Anderson extrapolation when it is ``feasible`` and lowers ``objective``."""
    bw.append(w[idx].astype(np.float64))
    br.append(res.get())
    if len(bw) < K_ + 1:
        return
    c = anderson_coefs(np.array(bw))
    B, Br = np.array(bw), np.array(br)
    bw.clear()
    br.clear()
    if c is None:
        return
    wacc = c @ B[1:]
    if not feasible(wacc):
        return
    racc = c @ Br[1:]
    f_acc = objective(res.true(racc), wacc)
    f_cur = objective(res.true(res.get()), w[idx].astype(np.float64))
    if f_acc < f_cur:
        w[idx] = wacc
        res.set(racc)


def _run(n, w, ws, lc, kind, p, lower, upper, max_epochs, tol, K_, crit_mode, check_offset,
         res):
    """Shared driver of the coordinate kernels on the residual ``res``."""
    inv_n = 1.0 / n
    aws = np.sqrt(np.maximum(np.asarray(lc, dtype=np.float64)[ws], 0.0))

    def objective(R_true, wv):
        return 0.5 / n * float(R_true @ R_true) + float(pen_values(kind, p, aws, wv).sum())

    def feasible(wacc):
        return not (np.any(wacc < lower) or np.any(wacc > upper))

    bw, br = [], []
    ep = 0
    for ep in range(1, max_epochs + 1):
        for j in ws:
            old = w[j]
            w[j] = coord(kind, p, lower, upper, float(old), res.grad(j) * inv_n, float(lc[j]))
            d = w[j] - old
            if d != 0.0:
                res.update(j, d)
        if K_ > 0:
            _anderson_step(bw, br, K_, w, ws, res, objective, feasible)
        if (ep - check_offset) % CHECK_EVERY == 0 or ep == max_epochs:
            crit = 0.0
            for j in ws:
                crit = max(crit, violation(kind, p, lower, upper, float(w[j]),
                                           res.grad(j) * inv_n, float(lc[j]), crit_mode))
            if crit <= tol:
                break
    res.finish()
    return ep


@register_kernel("glm_cd_ws_dense", "numpy")
def glm_cd_ws_dense(Xt, w, R, ws, lc, kind, params, lower, upper, max_epochs, tol, n_anderson,
                    crit_mode, check_offset):
    return _run(Xt.shape[1], w, ws, lc, kind, params, lower, upper, max_epochs, tol, n_anderson,
                crit_mode, check_offset, _DenseResidual(Xt, R))


@register_kernel("glm_cd_ws_sparse", "numpy")
def glm_cd_ws_sparse(data, indices, indptr, n, center, mu, v, xv, vv, w, Rs, c_arr, ws, lc,
                     kind, params, lower, upper, max_epochs, tol, n_anderson, crit_mode,
                     check_offset):
    res = _SparseResidual(data, indices, indptr, n, center, mu, v, xv, vv, Rs, c_arr)
    return _run(n, w, ws, lc, kind, params, lower, upper, max_epochs, tol, n_anderson,
                crit_mode, check_offset, res)


@register_kernel("glm_cd_scores", "numpy")
def glm_cd_scores(w, G, lc, norms, kind, params, lower, upper, strategy, crit_mode, const,
                  screened, score):
    """Working-set scores of every feature (float64 arrays), in place in ``score``.

    ``strategy`` 0 is GS-s (the violation of :func:`violation` with ``crit_mode``), 1 GS-r
    (length of the coordinate prox step at ``w_j = 0``, ``|prox(G_j / L_j)|``), 2 celer's
    priority ``(const |G_j| - alpha l1_ratio) / norms_j`` (L1 and elastic net only). The
    support gets ``+inf`` (forced into the working set), screened features ``-inf``. Returns
    ``(largest violation over the unscreened features, support size)``.
    """
    p = w.size
    kkt = np.array([violation(kind, params, lower, upper, float(w[j]), float(G[j]),
                              float(lc[j]), crit_mode) for j in range(p)])
    kkt[screened] = 0.0
    zero = w == 0
    if strategy == 0:
        score[:] = kkt
    elif strategy == 1:
        score[:] = [abs(coord(kind, params, lower, upper, 0.0, float(G[j]), float(lc[j])))
                    for j in range(p)]
    else:
        if kind == K.KIND_L1:
            a1 = params[0]
        elif kind == K.KIND_ELASTICNET:
            a1 = params[0] * params[1]
        else:
            a1 = 0.0
        corr = const * (G if lower >= 0 else np.abs(G))
        safe = np.where(norms > 0, norms, 1.0)
        score[:] = np.where(norms > 0, (corr - a1) / safe, -np.finfo(np.float64).max)
    score[~zero] = np.inf
    score[screened] = -np.inf
    return float(kkt.max(initial=0.0)), int(np.count_nonzero(~zero & ~screened))


# ----------------------------------------------------------------------------- group kernels
# ``glm_bcd_ws_dense(Xt, w, R, gptr, gidx, ws, lg, thresh, lower, max_epochs, tol, n_anderson,
# check_offset)`` and ``glm_bcd_ws_sparse(data, indices, indptr, n, center, mu, v, xv, vv, w,
# Rs, c_arr, gptr, gidx, ws, lg, thresh, lower, ...)``: working-set BLOCK coordinate descent on
#
#     1/(2n) ||R||^2 + sum_G thresh[G] ||w_G||_2        (w >= 0 when lower == 0)
#
# over the groups ``ws`` (group G = features ``gidx[gptr[G]:gptr[G+1]]``), block Lipschitz
# constants ``lg[G] = ||X_G||_2^2 / n``. Group update: ``v = w_G + X_G^T R / (n L_G)``
# (``max(v, 0)`` under the orthant), ``w_G <- max(1 - t_G / (L_G ||v||), 0) v`` (0 when
# ``L_G = 0``). Anderson extrapolation and the inner stopping test as in the coordinate
# kernels, with the group subdifferential distance :func:`group_dist`.


def group_dist(wg, gg, t, positive):
    """Distance of ``gg`` (negative gradient of group G) to the subdifferential of
    ``t ||.||`` (+ the orthant's normal cone) at ``wg``."""
    wg = np.asarray(wg, dtype=np.float64)
    gg = np.asarray(gg, dtype=np.float64)
    nw = np.sqrt(np.sum(wg * wg))
    if nw == 0.0:
        gp = np.maximum(gg, 0.0) if positive else gg
        return max(float(np.sqrt(np.sum(gp * gp))) - t, 0.0)
    r = gg - t * wg / nw
    if positive:
        r = np.where(wg == 0.0, np.maximum(gg, 0.0), r)
    return float(np.sqrt(np.sum(r * r)))


def block_prox(wg, gg, lg, t, positive):
    """Block prox-gradient step of one group (0 when ``lg == 0``)."""
    wg = np.asarray(wg, dtype=np.float64)
    if lg <= 0.0:
        return np.zeros_like(wg)
    v = wg + np.asarray(gg, dtype=np.float64) / lg
    if positive:
        v = np.maximum(v, 0.0)
    nv = float(np.sqrt(np.sum(v * v)))
    scale = max(1.0 - t / (lg * nv), 0.0) if nv > 0.0 else 0.0
    return scale * v


def _run_group(n, w, gptr, gidx, ws, lg, thresh, lower, max_epochs, tol, K_, check_offset,
               res):
    inv_n = 1.0 / n
    positive = lower == 0.0
    groups = [gidx[gptr[G]:gptr[G + 1]] for G in ws]
    feats = np.concatenate(groups) if groups else np.zeros(0, dtype=np.int64)

    def objective(R_true, wf):
        pen, q = 0.0, 0
        for G, idx in zip(ws, groups):
            pen += thresh[G] * float(np.sqrt(np.sum(wf[q:q + idx.size] ** 2)))
            q += idx.size
        return 0.5 / n * float(R_true @ R_true) + pen

    def feasible(wacc):
        return not (positive and np.any(wacc < 0.0))

    bw, br = [], []
    ep = 0
    for ep in range(1, max_epochs + 1):
        for G, idx in zip(ws, groups):
            old = w[idx].astype(np.float64)
            g = np.array([res.grad(j) * inv_n for j in idx])
            w[idx] = block_prox(old, g, float(lg[G]), thresh[G], positive)
            for j, o in zip(idx, old):
                d = float(w[j]) - o
                if d != 0.0:
                    res.update(j, d)
        if K_ > 0:
            _anderson_step(bw, br, K_, w, feats, res, objective, feasible)
        if (ep - check_offset) % CHECK_EVERY == 0 or ep == max_epochs:
            crit = 0.0
            for G, idx in zip(ws, groups):
                g = np.array([res.grad(j) * inv_n for j in idx])
                crit = max(crit, group_dist(w[idx], g, thresh[G], positive))
            if crit <= tol:
                break
    res.finish()
    return ep


@register_kernel("glm_bcd_ws_dense", "numpy")
def glm_bcd_ws_dense(Xt, w, R, gptr, gidx, ws, lg, thresh, lower, max_epochs, tol, n_anderson,
                     check_offset):
    return _run_group(Xt.shape[1], w, gptr, gidx, ws, lg, thresh, lower, max_epochs, tol,
                      n_anderson, check_offset, _DenseResidual(Xt, R))


@register_kernel("glm_bcd_ws_sparse", "numpy")
def glm_bcd_ws_sparse(data, indices, indptr, n, center, mu, v, xv, vv, w, Rs, c_arr, gptr, gidx,
                      ws, lg, thresh, lower, max_epochs, tol, n_anderson, check_offset):
    res = _SparseResidual(data, indices, indptr, n, center, mu, v, xv, vv, Rs, c_arr)
    return _run_group(n, w, gptr, gidx, ws, lg, thresh, lower, max_epochs, tol, n_anderson,
                      check_offset, res)
