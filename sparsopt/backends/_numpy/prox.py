"""NumPy reference proximal operators.

Every function takes a C-contiguous 1-D array ``x`` (2-D ``(n_rows, n)`` for the
group ops), scalars, and an output array ``out`` of the same shape and dtype
(which may be ``x`` itself); it fills ``out`` and returns it. Conventions:
``prox(t) = argmin_x 1/2 (x - t)^2 + c * pen(x)`` where the scalar arguments are
already multiplied by the step (``c = step * alpha``), except where noted.
Formulas: ``shared/specs/sparse_coding.md`` (sections 1b and 5) and the
docstrings of :mod:`sparsopt.penalties`.
"""

import numpy as np

from .._registry import register_kernel


def _out(out, values, x=None):
    """Write ``values`` into ``out``; NaN entries of ``x`` stay NaN (never masked to 0)."""
    if x is not None:
        values = np.where(np.isnan(x), np.nan, values)
    out[...] = values
    return out


@register_kernel("prox_l1", "numpy")
def prox_l1(x, thresh, out):
    """Soft thresholding ``sign(x) max(|x| - thresh, 0)`` (computed in float64)."""
    t = np.abs(x).astype(np.float64)
    return _out(out, np.sign(x) * np.maximum(t - thresh, 0.0))


@register_kernel("prox_l0", "numpy")
def prox_l0(x, thresh, out):
    """Hard thresholding: keep entries with ``|x| > thresh``."""
    return _out(out, np.where(np.abs(x).astype(np.float64) > thresh, x, 0.0), x)


@register_kernel("prox_elasticnet", "numpy")
def prox_elasticnet(x, thresh, scale, out):
    """``soft(x, thresh) / scale``."""
    t = np.abs(x).astype(np.float64)
    return _out(out, np.sign(x) * np.maximum(t - thresh, 0.0) / scale)


@register_kernel("prox_lhalf", "numpy")
def prox_lhalf(x, c, out):
    """Prox of ``c * sum |x|^(1/2)`` (half thresholding, Xu et al. 2012)."""
    if c == 0:
        return _out(out, x)
    t = np.abs(x).astype(np.float64)
    ell = 2.0 * c  # argmin (x - t)^2 + ell sqrt|x|
    thr = (54.0 ** (1.0 / 3.0) / 4.0) * ell ** (2.0 / 3.0)
    res = np.zeros_like(t)
    m = t > thr
    tm = t[m]
    phi = np.arccos(np.clip((ell / 8.0) * (tm / 3.0) ** -1.5, -1.0, 1.0))
    res[m] = (2.0 / 3.0) * tm * (1.0 + np.cos(2.0 * np.pi / 3.0 - (2.0 / 3.0) * phi))
    return _out(out, np.sign(x) * res)


_BIG = 1e150  # |t| / s beyond this the shrinkage is below rounding: return t


@register_kernel("prox_ltwothirds", "numpy")
def prox_ltwothirds(x, c, out):
    """Prox of ``c * sum |x|^(2/3)`` in closed form (quartic via Ferrari).

    Computed at ``c = 1`` through the scaling law ``prox_c(t) = s prox_1(t / s)``
    with ``s = c^(3/4)``; exactly 0 below ``|t| / s < 2 (2/3)^(3/4)``.
    """
    if c == 0:
        return _out(out, x)
    s = c**0.75
    t = np.abs(x).astype(np.float64) / s
    k = 2.0 / 3.0
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        arg = 3.0 * np.sqrt(3.0) * t * t / (16.0 * k**1.5)
        base = 2.0 * np.sqrt(k / 3.0)
        m = np.where(
            arg >= 1.0,
            base * np.cosh(np.arccosh(np.maximum(arg, 1.0)) / 3.0),
            base * np.cos(np.arccos(np.minimum(arg, 1.0)) / 3.0),
        )
        r = np.sqrt(2.0 * m)
        disc = 2.0 * t / r - 2.0 * m
        z = 0.5 * (r + np.sqrt(np.maximum(disc, 0.0)))
        cand = z**3
        keep = (disc >= 0) & (t >= 2.0 * k**0.75)
        keep &= 0.5 * (cand - t) ** 2 + z * z < 0.5 * t * t
        res = np.where(keep, np.sign(x) * cand * s, 0.0)
    return _out(out, np.where(t > _BIG, x, res), x)


@register_kernel("prox_lq", "numpy")
def prox_lq(x, c, q, out):
    """Prox of ``c * sum |x|^q`` for ``0 < q < 1`` (Newton on the stationarity equation).

    Computed at ``c = 1`` through ``prox_c(t) = s prox_1(t / s)``, ``s = c^(1/(2-q))``.
    """
    if c == 0:
        return _out(out, x)
    s = c ** (1.0 / (2.0 - q))
    t = np.abs(x).astype(np.float64) / s
    xs = (q * (1.0 - q)) ** (1.0 / (2.0 - q))
    gmin = xs + q * xs ** (q - 1.0)
    act = (t > gmin) & (t <= _BIG)
    z = np.where(act, t, 1.0)
    for _ in range(100):
        h = z + q * z ** (q - 1.0) - t
        dh = 1.0 - q * (1.0 - q) * z ** (q - 2.0)
        step = np.where(act, h / dh, 0.0)
        z = z - step
        if np.all(np.abs(step) <= 1e-15 * np.maximum(t, 1.0)):
            break
    with np.errstate(over="ignore", invalid="ignore"):  # t > _BIG entries are replaced below
        keep = act & (0.5 * (z - t) ** 2 + np.abs(z) ** q < 0.5 * t * t)
        res = np.where(keep, np.sign(x) * z * s, 0.0)
    return _out(out, np.where(t > _BIG, x, res), x)


@register_kernel("prox_cel0", "numpy")
def prox_cel0(x, a, lam, step, out):
    """CEL0 prox with per-column norms ``a`` (length 1 or ``x.size // n_rows``).

    ``lam`` is the penalty weight (alpha) and ``step`` the step; requires
    ``a^2 step < 1`` (checked by the caller).
    """
    a = np.asarray(a, dtype=np.float64)
    xv = x.reshape(-1, a.size) if a.size > 1 else x.reshape(-1, 1)
    t = np.abs(xv).astype(np.float64)
    thr = np.sqrt(2.0 * lam) * a * step
    v = np.maximum(t - thr, 0.0) / (1.0 - a * a * step)
    res = np.sign(xv) * np.minimum(t, v)
    return _out(out, res.reshape(x.shape), x)


@register_kernel("prox_mcp", "numpy")
def prox_mcp(x, lam, gamma, step, out):
    """MCP prox (firm thresholding); requires ``gamma > step``."""
    t = np.abs(x).astype(np.float64)
    mid = np.sign(x) * (t - step * lam) / (1.0 - step / gamma)
    res = np.where(t <= step * lam, 0.0, np.where(t <= gamma * lam, mid, x))
    return _out(out, res, x)


@register_kernel("prox_scad", "numpy")
def prox_scad(x, lam, a, step, out):
    """SCAD prox; requires ``a > 1 + step``."""
    t = np.abs(x).astype(np.float64)
    s = np.sign(x)
    low = s * np.maximum(t - step * lam, 0.0)
    mid = s * ((a - 1.0) * t - a * step * lam) / (a - 1.0 - step)
    res = np.where(t <= lam * (1.0 + step), low, np.where(t <= a * lam, mid, x))
    return _out(out, res, x)


@register_kernel("prox_log", "numpy")
def prox_log(x, c, eps, out):
    """Prox of ``c * sum log(1 + |x| / eps)``: best of 0 and the larger stationary point."""
    t = np.abs(x).astype(np.float64)
    disc = (t + eps) ** 2 - 4.0 * c
    with np.errstate(invalid="ignore"):
        xp = 0.5 * ((t - eps) + np.sqrt(np.maximum(disc, 0.0)))
    ok = (disc >= 0) & (xp > 0)
    xp = np.where(ok, xp, 0.0)
    obj = 0.5 * (xp - t) ** 2 + c * np.log1p(xp / eps)
    keep = ok & (obj < 0.5 * t * t)
    return _out(out, np.where(keep, np.sign(x) * xp, 0.0), x)


@register_kernel("prox_box", "numpy")
def prox_box(x, lower, upper, out):
    """Projection onto ``[lower, upper]``."""
    return _out(out, np.clip(x, lower, upper))


@register_kernel("prox_group_l2", "numpy")
def prox_group_l2(x, indptr, indices, thresh, out):
    """Block soft thresholding, row by row, of the groups ``indices[indptr[g]:indptr[g+1]]``.

    ``thresh[g]`` is the threshold of group ``g``; features in no group are unchanged.
    """
    x = x.copy()  # out may alias x
    out[...] = x
    for g in range(len(indptr) - 1):
        idx = indices[indptr[g] : indptr[g + 1]]
        block = x[:, idx].astype(np.float64)
        nrm = np.sqrt(np.sum(block * block, axis=1))
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(nrm <= thresh[g], 0.0, 1.0 - thresh[g] / nrm)  # NaN propagates
        out[:, idx] = (block * scale[:, None]).astype(x.dtype)
    return out


@register_kernel("prox_ksupport", "numpy")
def prox_ksupport(x, indptr, indices, weights, k, lam, out):
    """Prox of ``lam * 1/2 ||(sqrt(w_g) ||x_g||)_g||_{k-sp}^2`` (group k-support / WGSEF).

    Uses the variational form: ``x_g = theta_g / (theta_g + lam w_g) v_g`` with
    ``theta_g = clip(tau sqrt(lam w_g) ||v_g|| - lam w_g, 0, 1)`` and ``tau`` the
    root of ``sum_g theta_g = k`` (found exactly on the sorted breakpoints).
    """
    n_groups = len(indptr) - 1
    x = x.copy()  # out may alias x
    out[...] = x
    a = lam * np.asarray(weights, dtype=np.float64)
    for i in range(x.shape[0]):
        u = np.array(
            [np.linalg.norm(x[i, indices[indptr[g] : indptr[g + 1]]].astype(np.float64))
             for g in range(n_groups)]
        )
        pos = u > 0
        if np.isnan(u).any():  # propagate NaN instead of treating the group as zero
            for g in range(n_groups):
                out[i, indices[indptr[g] : indptr[g + 1]]] = np.nan
            continue
        if pos.sum() <= k:
            theta = pos.astype(np.float64)
        else:
            sc = np.sqrt(a) * u
            starts = np.where(pos, a / np.where(pos, sc, 1.0), np.inf)
            ends = np.where(pos, (1.0 + a) / np.where(pos, sc, 1.0), np.inf)

            def f(tau, sc=sc, a=a, pos=pos):
                return np.sum(np.where(pos, np.clip(tau * sc - a, 0.0, 1.0), 0.0))

            bps = np.sort(np.concatenate([starts[pos], ends[pos]]))
            vals = np.array([f(b) for b in bps])
            j = int(np.searchsorted(vals, k))  # first breakpoint with f >= k
            lo = bps[j - 1] if j > 0 else 0.0
            flo = vals[j - 1] if j > 0 else 0.0
            hi, fhi = bps[j], vals[j]
            tau = hi if fhi == flo else lo + (k - flo) * (hi - lo) / (fhi - flo)
            theta = np.where(pos, np.clip(tau * sc - a, 0.0, 1.0), 0.0)
        for g in range(n_groups):
            idx = indices[indptr[g] : indptr[g + 1]]
            shrink = theta[g] / (theta[g] + a[g]) if theta[g] > 0 else 0.0
            out[i, idx] = (x[i, idx] * shrink).astype(x.dtype)
    return out


def prox_scalar(kind, p, step, aj, t):
    """Reference scalar prox of ``step * pen`` at ``t`` for a penalty ``(kind, p)``."""
    from .. import _kinds

    x = np.array([t], dtype=np.float64)
    o = np.empty_like(x)
    if kind == _kinds.KIND_L1:
        prox_l1(x, step * p[0], o)
    elif kind == _kinds.KIND_L0:
        prox_l0(x, np.sqrt(2.0 * step * p[0]), o)
    elif kind == _kinds.KIND_LHALF:
        prox_lhalf(x, step * p[0], o)
    elif kind == _kinds.KIND_LTWOTHIRDS:
        prox_ltwothirds(x, step * p[0], o)
    elif kind == _kinds.KIND_LQ:
        prox_lq(x, step * p[0], p[1], o)
    elif kind == _kinds.KIND_CEL0:
        prox_cel0(x, np.array([aj]), p[0], step, o)
    elif kind == _kinds.KIND_MCP:
        prox_mcp(x, p[0], p[1], step, o)
    elif kind == _kinds.KIND_SCAD:
        prox_scad(x, p[0], p[1], step, o)
    elif kind == _kinds.KIND_LOG:
        prox_log(x, step * p[0], p[1], o)
    elif kind == _kinds.KIND_ELASTICNET:
        prox_elasticnet(x, step * p[0] * p[1], 1.0 + step * p[0] * (1.0 - p[1]), o)
    elif kind == _kinds.KIND_BOX:
        prox_box(x, p[0], p[1], o)
    else:
        raise ValueError(f"unknown penalty kind {kind}")
    return float(o[0])


def subdiff_distance(kind, w, g, p, lower, upper):
    """Reference of the Numba scalar ``subdiff_distance`` on arrays ``w`` and ``g``.

    Distance of ``g = -grad f(w)`` to the subdifferential of the penalty ``kind`` (with
    parameters ``p``) plus the normal cone of ``[lower, upper]``; ``-1`` where the kind
    has no closed form (CEL0, generic lq).
    """
    from .. import _kinds as K

    w = np.asarray(w, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    s, aw, zero = np.sign(w), np.abs(w), w == 0
    if kind in (K.KIND_CEL0, K.KIND_LQ):
        return np.full(w.shape, -1.0)
    lam = p[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == K.KIND_L1:
            val, lo0 = s * lam, lam
        elif kind == K.KIND_ELASTICNET:
            val, lo0 = s * lam * p[1] + lam * (1 - p[1]) * w, lam * p[1]
        elif kind == K.KIND_MCP:
            val, lo0 = np.where(aw < p[1] * lam, s * lam - w / p[1], 0.0), lam
        elif kind == K.KIND_SCAD:
            val = np.where(aw <= lam, s * lam,
                           np.where(aw <= p[1] * lam, s * (p[1] * lam - aw) / (p[1] - 1), 0.0))
            lo0 = lam
        elif kind == K.KIND_LOG:
            val, lo0 = s * lam / (p[1] + aw), lam / p[1]
        elif kind == K.KIND_L0:
            val, lo0 = np.zeros_like(w), np.inf
        elif kind in (K.KIND_LHALF, K.KIND_LTWOTHIRDS):
            q = 0.5 if kind == K.KIND_LHALF else 2.0 / 3.0
            val, lo0 = np.where(zero, 0.0, s * lam * q * aw ** (q - 1)), np.inf
        else:  # KIND_BOX
            val, lo0 = np.zeros_like(w), 0.0
    a = np.where(zero, -lo0, val)
    b = np.where(zero, lo0, val)
    a = np.where(w <= lower, -np.inf, a)
    b = np.where(w >= upper, np.inf, b)
    return np.maximum(a - g, 0.0) + np.maximum(g - b, 0.0)
