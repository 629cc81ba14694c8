"""Numba proximal operators, mirroring :mod:`sparsopt.backends._numpy.prox`.

Each formula lives once, in a scalar ``*_apply`` function taking constants that
``*_consts`` computes from the penalty parameters and the step; the array
kernels compute the constants once per call and loop. Coordinate-descent
kernels reuse the same pair (constants per coordinate). Kernels take an ``out``
array (which may be ``x`` itself) and return it; all are ``nogil``.
"""

import math

import numpy as np
from numba import njit

from .._registry import register_kernel

_opts = dict(cache=True, nogil=True)


# ----------------------------------------------------------------------------- scalar formulas


@njit(**_opts)
def l1_apply(t, thresh):
    v = abs(t) - thresh
    return 0.0 if v <= 0.0 else math.copysign(v, t)  # NaN propagates


@njit(**_opts)
def l0_apply(t, thresh):
    return 0.0 if abs(t) <= thresh else t


@njit(**_opts)
def lhalf_consts(c):
    ell = 2.0 * c
    # arg = (ell/8) (|t|/3)^(-3/2) = c1 / (|t| sqrt|t|): avoids a pow per element
    c1 = (ell / 8.0) * 3.0 * math.sqrt(3.0)
    return c1, (54.0 ** (1.0 / 3.0) / 4.0) * ell ** (2.0 / 3.0)


@njit(**_opts)
def lhalf_apply(t, c1, thr):
    at = abs(np.float64(t))  # float64 for float32 t too: at * sqrt(at) must not underflow
    if at <= thr:
        return 0.0
    arg = min(c1 / (at * math.sqrt(at)), 1.0)
    phi = math.acos(arg)
    return math.copysign((2.0 / 3.0) * at * (1.0 + math.cos(2.0 * math.pi / 3.0
                                                              - (2.0 / 3.0) * phi)), t)


# Scaling law used for the l_q proxes: with s = c^(1/(2-q)),
# prox_{c |.|^q}(t) = s * prox_{|.|^q}(t / s), so the formulas only run at c = 1
# (no under/overflow of c-dependent constants for extreme alphas).
_LTT_K = 2.0 / 3.0  # k = (2/3) c at c = 1
_LTT_COEF = 3.0 * math.sqrt(3.0) / (16.0 * _LTT_K**1.5)
_LTT_BASE = 2.0 * math.sqrt(_LTT_K / 3.0)
_LTT_THR = 2.0 * _LTT_K**0.75  # below this (at c = 1) the prox is exactly 0
_BIG = 1e150  # |t| / s beyond this: the shrinkage is below rounding, return t


@njit(**_opts)
def ltwothirds_apply(t, inv_s):
    at = abs(t) * inv_s
    if at < _LTT_THR:
        return 0.0
    if at > _BIG:
        return t
    arg = _LTT_COEF * at * at
    if arg >= 1.0:
        m = _LTT_BASE * math.cosh(math.acosh(arg) / 3.0)
    else:
        m = _LTT_BASE * math.cos(math.acos(arg) / 3.0)
    r = math.sqrt(2.0 * m)
    disc = 2.0 * at / r - 2.0 * m
    if disc < 0.0:
        return 0.0
    z = 0.5 * (r + math.sqrt(disc))
    cand = z * z * z
    if 0.5 * (cand - at) ** 2 + z * z >= 0.5 * at * at:
        return 0.0
    return math.copysign(cand / inv_s, t)


@njit(**_opts)
def lq_consts(q):
    xs = (q * (1.0 - q)) ** (1.0 / (2.0 - q))
    return xs + q * xs ** (q - 1.0)


@njit(**_opts)
def lq_apply(t, q, inv_s, gmin):
    at = abs(t) * inv_s
    if at <= gmin:
        return 0.0
    if at > _BIG:
        return t
    z = at
    tol = 1e-15 * max(at, 1.0)
    for _ in range(100):
        h = z + q * z ** (q - 1.0) - at
        dh = 1.0 - q * (1.0 - q) * z ** (q - 2.0)
        step = h / dh
        z -= step
        if abs(step) <= tol:
            break
    if 0.5 * (z - at) ** 2 + z**q >= 0.5 * at * at:
        return 0.0
    return math.copysign(z / inv_s, t)


@njit(**_opts)
def cel0_consts(a, lam, step):
    return math.sqrt(2.0 * lam) * a * step, 1.0 / (1.0 - a * a * step)


@njit(**_opts)
def cel0_apply(t, thr, scale):
    at = abs(t)
    v = at - thr
    if v <= 0.0:
        return 0.0
    return math.copysign(min(at, v * scale), t)


@njit(**_opts)
def mcp_consts(lam, gamma, step):
    return step * lam, gamma * lam, 1.0 / (1.0 - step / gamma)


@njit(**_opts)
def mcp_apply(t, lo, hi, scale):
    at = abs(t)
    if at <= lo:
        return 0.0
    if at <= hi:
        return math.copysign((at - lo) * scale, t)
    return t


@njit(**_opts)
def scad_consts(lam, a, step):
    # regions: |t| <= lam (1 + step) soft; <= a lam linear; identity beyond
    den = a - 1.0 - step
    return step * lam, lam * (1.0 + step), a * lam, (a - 1.0) / den, a * step * lam / den


@njit(**_opts)
def scad_apply(t, lo, mid, hi, slope, shift):
    at = abs(t)
    if at <= mid:
        v = at - lo
        return 0.0 if v <= 0.0 else math.copysign(v, t)
    if at <= hi:
        return math.copysign(slope * at - shift, t)
    return t


@njit(**_opts)
def log_apply(t, c, eps):
    at = abs(t)
    disc = (at + eps) ** 2 - 4.0 * c
    if disc < 0.0:
        return 0.0
    xp = 0.5 * ((at - eps) + math.sqrt(disc))
    if xp <= 0.0:
        return 0.0
    if 0.5 * (xp - at) ** 2 + c * math.log1p(xp / eps) >= 0.5 * at * at:
        return 0.0
    return math.copysign(xp, t)


# ----------------------------------------------------------------------------- array kernels


@register_kernel("prox_l1", "numba")
@njit(**_opts)
def prox_l1(x, thresh, out):
    for i in range(x.size):
        out[i] = l1_apply(x[i], thresh)
    return out


@register_kernel("prox_l0", "numba")
@njit(**_opts)
def prox_l0(x, thresh, out):
    for i in range(x.size):
        out[i] = l0_apply(x[i], thresh)
    return out


@register_kernel("prox_elasticnet", "numba")
@njit(**_opts)
def prox_elasticnet(x, thresh, scale, out):
    inv = 1.0 / scale
    for i in range(x.size):
        out[i] = l1_apply(x[i], thresh) * inv
    return out


@register_kernel("prox_lhalf", "numba")
@njit(**_opts)
def prox_lhalf(x, c, out):
    if c == 0.0:
        out[:] = x
        return out
    c1, thr = lhalf_consts(c)
    for i in range(x.size):
        out[i] = lhalf_apply(x[i], c1, thr)
    return out


@register_kernel("prox_ltwothirds", "numba")
@njit(**_opts)
def prox_ltwothirds(x, c, out):
    if c == 0.0:
        out[:] = x
        return out
    inv_s = 1.0 / c**0.75
    for i in range(x.size):
        out[i] = ltwothirds_apply(x[i], inv_s)
    return out


@register_kernel("prox_lq", "numba")
@njit(**_opts)
def prox_lq(x, c, q, out):
    if c == 0.0:
        out[:] = x
        return out
    inv_s = 1.0 / c ** (1.0 / (2.0 - q))
    gmin = lq_consts(q)
    for i in range(x.size):
        out[i] = lq_apply(x[i], q, inv_s, gmin)
    return out


@register_kernel("prox_cel0", "numba")
@njit(**_opts)
def prox_cel0(x, a, lam, step, out):
    n = a.size
    thr = np.empty(n)
    scale = np.empty(n)
    for j in range(n):
        thr[j], scale[j] = cel0_consts(a[j], lam, step)
    for i in range(x.size):
        j = i % n
        out[i] = cel0_apply(x[i], thr[j], scale[j])
    return out


@register_kernel("prox_mcp", "numba")
@njit(**_opts)
def prox_mcp(x, lam, gamma, step, out):
    lo, hi, scale = mcp_consts(lam, gamma, step)
    for i in range(x.size):
        out[i] = mcp_apply(x[i], lo, hi, scale)
    return out


@register_kernel("prox_scad", "numba")
@njit(**_opts)
def prox_scad(x, lam, a, step, out):
    lo, mid, hi, slope, shift = scad_consts(lam, a, step)
    for i in range(x.size):
        out[i] = scad_apply(x[i], lo, mid, hi, slope, shift)
    return out


@register_kernel("prox_log", "numba")
@njit(**_opts)
def prox_log(x, c, eps, out):
    for i in range(x.size):
        out[i] = log_apply(x[i], c, eps)
    return out


@register_kernel("prox_box", "numba")
@njit(**_opts)
def prox_box(x, lower, upper, out):
    for i in range(x.size):
        out[i] = min(max(x[i], lower), upper)
    return out


@register_kernel("prox_group_l2", "numba")
@njit(**_opts)
def prox_group_l2(x, indptr, indices, thresh, out):
    out[:] = x  # features in no group are not penalized (a no-op when out is x)
    n_groups = indptr.size - 1
    for i in range(x.shape[0]):
        for g in range(n_groups):
            nrm2 = 0.0
            for p in range(indptr[g], indptr[g + 1]):
                v = x[i, indices[p]]
                nrm2 += v * v
            nrm = math.sqrt(nrm2)
            scale = 0.0 if nrm <= thresh[g] else 1.0 - thresh[g] / nrm  # NaN propagates
            for p in range(indptr[g], indptr[g + 1]):
                out[i, indices[p]] = x[i, indices[p]] * scale
    return out


@register_kernel("prox_ksupport", "numba")
@njit(**_opts)
def prox_ksupport(x, indptr, indices, weights, k, lam, out):
    out[:] = x
    n_groups = indptr.size - 1
    u = np.empty(n_groups)
    a = np.empty(n_groups)
    theta = np.empty(n_groups)
    bps = np.empty(2 * n_groups)
    slope_change = np.empty(2 * n_groups)
    for g in range(n_groups):
        a[g] = lam * weights[g]
    for i in range(x.shape[0]):
        n_pos = 0
        has_nan = False
        for g in range(n_groups):
            s = 0.0
            for p in range(indptr[g], indptr[g + 1]):
                v = x[i, indices[p]]
                s += v * v
            u[g] = math.sqrt(s)
            if u[g] > 0:
                n_pos += 1
            elif u[g] != u[g]:  # NaN in the row: propagate instead of zeroing
                has_nan = True
        if has_nan:
            for g in range(n_groups):
                for p in range(indptr[g], indptr[g + 1]):
                    out[i, indices[p]] = np.nan
            continue
        if n_pos <= k:
            for g in range(n_groups):
                theta[g] = 1.0 if u[g] > 0 else 0.0
        else:
            # f(tau) = sum_g clip(tau*sc_g - a_g, 0, 1) is piecewise linear: sweep breakpoints.
            nb = 0
            for g in range(n_groups):
                if u[g] > 0:
                    sc = math.sqrt(a[g]) * u[g]
                    bps[nb] = a[g] / sc
                    slope_change[nb] = sc
                    nb += 1
                    bps[nb] = (1.0 + a[g]) / sc
                    slope_change[nb] = -sc
                    nb += 1
            order = np.argsort(bps[:nb])
            f = 0.0
            slope = 0.0
            prev = 0.0
            tau = bps[order[nb - 1]]
            for j in range(nb):
                b = bps[order[j]]
                f_next = f + slope * (b - prev)
                if f_next >= k and slope > 0:
                    tau = prev + (k - f) / slope
                    break
                f = f_next
                prev = b
                slope += slope_change[order[j]]
            for g in range(n_groups):
                if u[g] > 0:
                    th = tau * math.sqrt(a[g]) * u[g] - a[g]
                    theta[g] = min(max(th, 0.0), 1.0)
                else:
                    theta[g] = 0.0
        for g in range(n_groups):
            shrink = theta[g] / (theta[g] + a[g]) if theta[g] > 0 else 0.0
            for p in range(indptr[g], indptr[g + 1]):
                out[i, indices[p]] = x[i, indices[p]] * shrink
    return out


# ----------------------------------------------------------------------------- scalar dispatch
# Separable penalties expose ``_kernel_spec() -> (kind, params)``; coordinate-wise solvers
# compute per-coordinate constants once with ``prox_consts`` and apply ``prox_apply``.
from .._kinds import (  # noqa: E402  (one definition, shared with the penalties)
    KIND_BOX,
    KIND_CEL0,
    KIND_ELASTICNET,
    KIND_L0,
    KIND_L1,
    KIND_LHALF,
    KIND_LOG,
    KIND_LQ,
    KIND_LTWOTHIRDS,
    KIND_MCP,
    KIND_SCAD,
)

N_CONSTS = 5


@njit(**_opts)
def prox_consts(kind, p, step, aj, c):
    """Fill ``c`` (length N_CONSTS) with the constants of the prox of ``step * pen``.

    ``p`` holds the penalty's parameters (alpha first), ``aj`` the CEL0 column norm.
    """
    c[:] = 0.0
    if kind == KIND_L1:
        c[0] = step * p[0]
    elif kind == KIND_L0:
        c[0] = math.sqrt(2.0 * step * p[0])
    elif kind == KIND_LHALF:
        cc = step * p[0]
        c[2] = cc
        if cc > 0.0:
            c[0], c[1] = lhalf_consts(cc)
    elif kind == KIND_LTWOTHIRDS:
        cc = step * p[0]
        c[1] = cc
        c[0] = 1.0 / cc**0.75 if cc > 0.0 else 0.0
    elif kind == KIND_LQ:
        cc = step * p[0]
        q = p[1]
        c[3] = cc
        c[0] = q
        if cc > 0.0:
            c[1] = 1.0 / cc ** (1.0 / (2.0 - q))
            c[2] = lq_consts(q)
    elif kind == KIND_CEL0:
        c[0], c[1] = cel0_consts(aj, p[0], step)
    elif kind == KIND_MCP:
        c[0], c[1], c[2] = mcp_consts(p[0], p[1], step)
    elif kind == KIND_SCAD:
        c[0], c[1], c[2], c[3], c[4] = scad_consts(p[0], p[1], step)
    elif kind == KIND_LOG:
        c[0] = step * p[0]
        c[1] = p[1]
    elif kind == KIND_ELASTICNET:
        c[0] = step * p[0] * p[1]
        c[1] = 1.0 / (1.0 + step * p[0] * (1.0 - p[1]))
    elif kind == KIND_BOX:
        c[0] = p[0]
        c[1] = p[1]


@njit(**_opts)
def prox_apply(kind, t, c):
    """Scalar prox with constants from :func:`prox_consts`."""
    if kind == KIND_L1:
        return l1_apply(t, c[0])
    if kind == KIND_L0:
        return l0_apply(t, c[0])
    if kind == KIND_LHALF:
        return lhalf_apply(t, c[0], c[1]) if c[2] > 0.0 else t
    if kind == KIND_LTWOTHIRDS:
        return ltwothirds_apply(t, c[0]) if c[1] > 0.0 else t
    if kind == KIND_LQ:
        return lq_apply(t, c[0], c[1], c[2]) if c[3] > 0.0 else t
    if kind == KIND_CEL0:
        return cel0_apply(t, c[0], c[1])
    if kind == KIND_MCP:
        return mcp_apply(t, c[0], c[1], c[2])
    if kind == KIND_SCAD:
        return scad_apply(t, c[0], c[1], c[2], c[3], c[4])
    if kind == KIND_LOG:
        return log_apply(t, c[0], c[1])
    if kind == KIND_ELASTICNET:
        return l1_apply(t, c[0]) * c[1]
    return min(max(t, c[0]), c[1])  # KIND_BOX


@njit(**_opts)
def clip(v, lower, upper):
    """``v`` clipped to ``[lower, upper]`` (scalars)."""
    if v < lower:
        return lower
    if v > upper:
        return upper
    return v


@njit(**_opts)
def prox_apply_clip(kind, t, c, lower, upper):
    """Scalar prox of a penalty under the box ``[lower, upper]`` (a :class:`PenaltySpec`).

    Exact for the constraints :class:`~sparsopt.penalties.Constrained` accepts: orthant
    boxes with any even, non-decreasing penalty, any box with a convex one.
    """
    return clip(prox_apply(kind, t, c), lower, upper)


@njit(**_opts)
def _dist_to_interval(g, lo, hi):
    if g < lo:
        return lo - g
    if g > hi:
        return g - hi
    return 0.0


@njit(**_opts)
def subdiff_distance(kind, w, g, p, lower, upper):
    """Distance of ``g = -grad_j f(w)`` to the subdifferential of the penalty at ``w_j``.

    The penalty is ``kind`` with parameters ``p`` (a :class:`PenaltySpec`) under the box
    ``[lower, upper]``: at a bound the normal cone is added (``(-inf, 0]`` at
    ``lower``, ``[0, inf)`` at ``upper``). For non-convex penalties this is the
    distance to the limiting (Fréchet) subdifferential, zero exactly at the stationary
    points coordinate descent converges to (skglm's ``subdiff_distance``). Returns
    ``-1.0`` for kinds without a closed form (CEL0, generic lq): the caller then uses
    the fixed-point violation ``|w - prox(w + g / L)| L`` instead.
    """
    # interval [a, b] = subdifferential of the penalty at w (before the normal cone)
    if kind == KIND_L1:
        lam = p[0]
        if w == 0.0:
            a, b = -lam, lam
        else:
            a = b = math.copysign(lam, w)
    elif kind == KIND_ELASTICNET:
        l1 = p[0] * p[1]
        l2 = p[0] * (1.0 - p[1])
        if w == 0.0:
            a, b = -l1, l1
        else:
            a = b = math.copysign(l1, w) + l2 * w
    elif kind == KIND_MCP:
        lam, gam = p[0], p[1]
        if w == 0.0:
            a, b = -lam, lam
        elif abs(w) < gam * lam:
            a = b = math.copysign(lam, w) - w / gam
        else:
            a = b = 0.0
    elif kind == KIND_SCAD:
        lam, gam = p[0], p[1]
        aw = abs(w)
        if w == 0.0:
            a, b = -lam, lam
        elif aw <= lam:
            a = b = math.copysign(lam, w)
        elif aw <= gam * lam:
            a = b = math.copysign(gam * lam - aw, w) / (gam - 1.0)
        else:
            a = b = 0.0
    elif kind == KIND_LOG:
        lam, eps = p[0], p[1]
        a = b = lam / eps
        if w == 0.0:
            a = -b
        else:
            a = b = math.copysign(lam / (eps + abs(w)), w)
    elif kind == KIND_L0 or kind == KIND_LHALF or kind == KIND_LTWOTHIRDS:
        if w == 0.0:
            return 0.0  # the limiting subdifferential at 0 is the whole line
        if kind == KIND_L0:
            a = b = 0.0
        else:
            q = 0.5 if kind == KIND_LHALF else 2.0 / 3.0
            a = b = math.copysign(p[0] * q * abs(w) ** (q - 1.0), w)
    elif kind == KIND_BOX:
        a, b = 0.0, 0.0
    else:
        return -1.0
    if w <= lower:
        a = -math.inf
    if w >= upper:
        b = math.inf
    return _dist_to_interval(g, a, b)
