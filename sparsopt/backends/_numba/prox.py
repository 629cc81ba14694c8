"""Numba proximal operators, mirroring :mod:`sparsopt.backends._numpy.prox`.

Scalar ``*_scalar`` functions hold the formulas so that later kernels (coordinate
descent, batched proximal gradient) can inline the same prox; the array kernels
loop over a flat array. All kernels are ``nogil`` so that estimators can run them
from several threads.
"""

import math

import numpy as np
from numba import njit

from .._registry import register_kernel

_opts = dict(cache=True, nogil=True, fastmath=False)


@njit(**_opts)
def _sign(t):
    return 1.0 if t > 0 else (-1.0 if t < 0 else 0.0)


@njit(**_opts)
def l1_scalar(t, thresh):
    a = abs(t) - thresh
    return _sign(t) * a if a > 0 else 0.0


@njit(**_opts)
def l0_scalar(t, thresh):
    return t if abs(t) > thresh else 0.0


@njit(**_opts)
def lhalf_scalar(t, c):
    if c == 0.0:
        return t
    at = abs(t)
    ell = 2.0 * c
    thr = (54.0 ** (1.0 / 3.0) / 4.0) * ell ** (2.0 / 3.0)
    if at <= thr:
        return 0.0
    arg = (ell / 8.0) * (at / 3.0) ** -1.5
    arg = min(max(arg, -1.0), 1.0)
    phi = math.acos(arg)
    return _sign(t) * (2.0 / 3.0) * at * (1.0 + math.cos(2.0 * math.pi / 3.0 - (2.0 / 3.0) * phi))


@njit(**_opts)
def ltwothirds_scalar(t, c):
    if c == 0.0:
        return t
    at = abs(t)
    if at == 0.0:
        return 0.0
    k = (2.0 / 3.0) * c
    arg = 3.0 * math.sqrt(3.0) * at * at / (16.0 * k**1.5)
    base = 2.0 * math.sqrt(k / 3.0)
    if arg >= 1.0:
        m = base * math.cosh(math.acosh(arg) / 3.0)
    else:
        m = base * math.cos(math.acos(arg) / 3.0)
    s = math.sqrt(2.0 * m)
    disc = 2.0 * at / s - 2.0 * m
    if disc < 0.0:
        return 0.0
    z = 0.5 * (s + math.sqrt(disc))
    cand = z * z * z
    obj = 0.5 * (cand - at) ** 2 + c * z * z
    if obj < 0.5 * at * at:
        return _sign(t) * cand
    return 0.0


@njit(**_opts)
def lq_scalar(t, c, q):
    if c == 0.0:
        return t
    at = abs(t)
    xs = (c * q * (1.0 - q)) ** (1.0 / (2.0 - q))
    gmin = xs + c * q * xs ** (q - 1.0)
    if at <= gmin:
        return 0.0
    z = at
    tol = 1e-15 * max(at, 1.0)
    for _ in range(100):
        h = z + c * q * z ** (q - 1.0) - at
        dh = 1.0 - c * q * (1.0 - q) * z ** (q - 2.0)
        step = h / dh
        z -= step
        if abs(step) <= tol:
            break
    obj = 0.5 * (z - at) ** 2 + c * z**q
    if obj < 0.5 * at * at:
        return _sign(t) * z
    return 0.0


@njit(**_opts)
def cel0_scalar(t, a, lam, step):
    at = abs(t)
    v = at - math.sqrt(2.0 * lam) * a * step
    if v <= 0.0:
        return 0.0
    v = v / (1.0 - a * a * step)
    return _sign(t) * min(at, v)


@njit(**_opts)
def mcp_scalar(t, lam, gamma, step):
    at = abs(t)
    if at <= step * lam:
        return 0.0
    if at <= gamma * lam:
        return _sign(t) * (at - step * lam) / (1.0 - step / gamma)
    return t


@njit(**_opts)
def scad_scalar(t, lam, a, step):
    at = abs(t)
    if at <= lam * (1.0 + step):
        v = at - step * lam
        return _sign(t) * v if v > 0 else 0.0
    if at <= a * lam:
        return ((a - 1.0) * t - _sign(t) * a * step * lam) / (a - 1.0 - step)
    return t


@njit(**_opts)
def log_scalar(t, c, eps):
    at = abs(t)
    disc = (at + eps) ** 2 - 4.0 * c
    if disc < 0.0:
        return 0.0
    xp = 0.5 * ((at - eps) + math.sqrt(disc))
    if xp <= 0.0:
        return 0.0
    obj = 0.5 * (xp - at) ** 2 + c * math.log1p(xp / eps)
    if obj < 0.5 * at * at:
        return _sign(t) * xp
    return 0.0


# ----------------------------------------------------------------------------- array kernels


@register_kernel("prox_l1", "numba")
@njit(**_opts)
def prox_l1(x, thresh):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = l1_scalar(x[i], thresh)
    return out


@register_kernel("prox_l0", "numba")
@njit(**_opts)
def prox_l0(x, thresh):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = l0_scalar(x[i], thresh)
    return out


@register_kernel("prox_elasticnet", "numba")
@njit(**_opts)
def prox_elasticnet(x, thresh, scale):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = l1_scalar(x[i], thresh) / scale
    return out


@register_kernel("prox_lhalf", "numba")
@njit(**_opts)
def prox_lhalf(x, c):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = lhalf_scalar(x[i], c)
    return out


@register_kernel("prox_ltwothirds", "numba")
@njit(**_opts)
def prox_ltwothirds(x, c):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = ltwothirds_scalar(x[i], c)
    return out


@register_kernel("prox_lq", "numba")
@njit(**_opts)
def prox_lq(x, c, q):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = lq_scalar(x[i], c, q)
    return out


@register_kernel("prox_cel0", "numba")
@njit(**_opts)
def prox_cel0(x, a, lam, step):
    out = np.empty_like(x)
    n = a.size
    for i in range(x.size):
        out[i] = cel0_scalar(x[i], a[i % n], lam, step)
    return out


@register_kernel("prox_mcp", "numba")
@njit(**_opts)
def prox_mcp(x, lam, gamma, step):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = mcp_scalar(x[i], lam, gamma, step)
    return out


@register_kernel("prox_scad", "numba")
@njit(**_opts)
def prox_scad(x, lam, a, step):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = scad_scalar(x[i], lam, a, step)
    return out


@register_kernel("prox_log", "numba")
@njit(**_opts)
def prox_log(x, c, eps):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = log_scalar(x[i], c, eps)
    return out


@register_kernel("prox_box", "numba")
@njit(**_opts)
def prox_box(x, lower, upper):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = min(max(x[i], lower), upper)
    return out


@register_kernel("prox_group_l2", "numba")
@njit(**_opts)
def prox_group_l2(x, indptr, indices, thresh):
    out = x.copy()
    n_groups = indptr.size - 1
    for i in range(x.shape[0]):
        for g in range(n_groups):
            nrm2 = 0.0
            for p in range(indptr[g], indptr[g + 1]):
                v = x[i, indices[p]]
                nrm2 += v * v
            nrm = math.sqrt(nrm2)
            scale = 1.0 - thresh[g] / nrm if nrm > thresh[g] else 0.0
            for p in range(indptr[g], indptr[g + 1]):
                out[i, indices[p]] = x[i, indices[p]] * scale
    return out


@register_kernel("prox_ksupport", "numba")
@njit(**_opts)
def prox_ksupport(x, indptr, indices, weights, k, lam):
    out = x.copy()
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
        for g in range(n_groups):
            s = 0.0
            for p in range(indptr[g], indptr[g + 1]):
                v = x[i, indices[p]]
                s += v * v
            u[g] = math.sqrt(s)
            if u[g] > 0:
                n_pos += 1
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
