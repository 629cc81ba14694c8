"""NumPy reference proximal operators, written against the array namespace.

Every function takes a C-contiguous 1-D array ``x`` (2-D ``(n_rows, n)`` for the
group ops), scalars, and an output array ``out`` of the same shape and dtype
(which may be ``x`` itself); it fills ``out`` and returns it. Conventions:
``prox(t) = argmin_x 1/2 (x - t)^2 + c * pen(x)`` where the scalar arguments are
already multiplied by the step (``c = step * alpha``), except where noted.
Formulas: ``shared/specs/sparse_coding.md`` (sections 1b and 5) and the
docstrings of :mod:`sparsopt.penalties`.

All the ops are registered with ``array_api=True``: they use only functions of the
array API standard on ``xp = array_namespace(x, ...)``, so the same code is the
oracle of the Numba kernels on NumPy arrays and the kernel of CuPy (or any other
array-API) arrays, on their device. Array parameters (``a`` of CEL0, the group
structure and thresholds) are arrays of the same namespace as ``x`` (the penalties
bring them there once); computations run in float64, as the Numba kernels do, and
the result is cast to ``out``'s dtype.
"""

import math

import numpy as np

from .._namespace import array_namespace, device, errstate, is_numpy_namespace
from .._registry import register_kernel


def _f64(xp, a):
    return xp.astype(a, xp.float64)


def _out(xp, out, values, x=None):
    """Write ``values`` into ``out``; NaN entries of ``x`` stay NaN (never masked to 0)."""
    if x is not None:
        values = xp.where(xp.isnan(x), xp.nan, values)
    out[...] = xp.astype(values, out.dtype)
    return out


def _param(xp, p, like, dtype):
    """A kernel parameter (array of the namespace, NumPy array or scalar) as an ``xp`` array."""
    if is_numpy_namespace(xp):
        return np.asarray(p, dtype=dtype)
    if hasattr(p, "shape") and not isinstance(p, (np.ndarray, np.generic)):
        return xp.astype(p, dtype)
    return xp.asarray(np.asarray(p), dtype=dtype, device=device(like))


@register_kernel("prox_l1", "numpy", array_api=True)
def prox_l1(x, thresh, out):
    """Soft thresholding ``sign(x) max(|x| - thresh, 0)`` (computed in float64)."""
    xp = array_namespace(x, out)
    t = _f64(xp, xp.abs(x))
    return _out(xp, out, xp.sign(x) * xp.maximum(t - float(thresh), 0.0))


@register_kernel("prox_l0", "numpy", array_api=True)
def prox_l0(x, thresh, out):
    """Hard thresholding: keep entries with ``|x| > thresh``."""
    xp = array_namespace(x, out)
    t = _f64(xp, xp.abs(x))
    return _out(xp, out, xp.where(t > float(thresh), x, 0.0), x)


@register_kernel("prox_elasticnet", "numpy", array_api=True)
def prox_elasticnet(x, thresh, scale, out):
    """``soft(x, thresh) / scale``."""
    xp = array_namespace(x, out)
    t = _f64(xp, xp.abs(x))
    return _out(xp, out, xp.sign(x) * xp.maximum(t - float(thresh), 0.0) / float(scale))


@register_kernel("prox_lhalf", "numpy", array_api=True)
def prox_lhalf(x, c, out):
    """Prox of ``c * sum |x|^(1/2)`` (half thresholding, Xu et al. 2012)."""
    xp = array_namespace(x, out)
    c = float(c)
    if c == 0:
        return _out(xp, out, x)
    t = _f64(xp, xp.abs(x))
    ell = 2.0 * c  # argmin (x - t)^2 + ell sqrt|x|
    thr = (54.0 ** (1.0 / 3.0) / 4.0) * ell ** (2.0 / 3.0)
    m = t > thr
    tm = xp.where(m, t, 1.0)  # entries below the threshold are 0: any safe value
    phi = xp.acos(xp.clip((ell / 8.0) * (tm / 3.0) ** -1.5, -1.0, 1.0))
    res = xp.where(m, (2.0 / 3.0) * tm * (1.0 + xp.cos(2.0 * math.pi / 3.0 - (2.0 / 3.0) * phi)),
                   0.0)
    return _out(xp, out, xp.sign(x) * res)


_BIG = 1e150  # |t| / s beyond this the shrinkage is below rounding: return t


@register_kernel("prox_ltwothirds", "numpy", array_api=True)
def prox_ltwothirds(x, c, out):
    """Prox of ``c * sum |x|^(2/3)`` in closed form (quartic via Ferrari).

    Computed at ``c = 1`` through the scaling law ``prox_c(t) = s prox_1(t / s)``
    with ``s = c^(3/4)``; exactly 0 below ``|t| / s < 2 (2/3)^(3/4)``.
    """
    xp = array_namespace(x, out)
    c = float(c)
    if c == 0:
        return _out(xp, out, x)
    s = c**0.75
    t = _f64(xp, xp.abs(x)) / s
    k = 2.0 / 3.0
    with errstate(xp, invalid="ignore", divide="ignore", over="ignore"):
        arg = 3.0 * math.sqrt(3.0) * t * t / (16.0 * k**1.5)
        base = 2.0 * math.sqrt(k / 3.0)
        m = xp.where(
            arg >= 1.0,
            base * xp.cosh(xp.acosh(xp.maximum(arg, 1.0)) / 3.0),
            base * xp.cos(xp.acos(xp.minimum(arg, 1.0)) / 3.0),
        )
        r = xp.sqrt(2.0 * m)
        disc = 2.0 * t / r - 2.0 * m
        z = 0.5 * (r + xp.sqrt(xp.maximum(disc, 0.0)))
        cand = z**3
        keep = (disc >= 0) & (t >= 2.0 * k**0.75)
        keep = keep & (0.5 * (cand - t) ** 2 + z * z < 0.5 * t * t)
        res = xp.where(keep, xp.sign(x) * cand * s, 0.0)
    return _out(xp, out, xp.where(t > _BIG, x, res), x)


@register_kernel("prox_lq", "numpy", array_api=True)
def prox_lq(x, c, q, out):
    """Prox of ``c * sum |x|^q`` for ``0 < q < 1`` (Newton on the stationarity equation).

    Computed at ``c = 1`` through ``prox_c(t) = s prox_1(t / s)``, ``s = c^(1/(2-q))``.
    The Newton loop stops when every step is below rounding: tested at every iteration
    on NumPy, every 8th on other namespaces (a host ``bool`` is a device synchronization;
    Newton converges in a few steps, the extra ones change nothing but rounding).
    """
    xp = array_namespace(x, out)
    every = 1 if is_numpy_namespace(xp) else 8
    c, q = float(c), float(q)
    if c == 0:
        return _out(xp, out, x)
    s = c ** (1.0 / (2.0 - q))
    t = _f64(xp, xp.abs(x)) / s
    xs = (q * (1.0 - q)) ** (1.0 / (2.0 - q))
    gmin = xs + q * xs ** (q - 1.0)
    act = (t > gmin) & (t <= _BIG)
    z = xp.where(act, t, 1.0)
    tol = 1e-15 * xp.maximum(t, 1.0)
    for it in range(100):
        h = z + q * z ** (q - 1.0) - t
        dh = 1.0 - q * (1.0 - q) * z ** (q - 2.0)
        step = xp.where(act, h / dh, 0.0)
        z = z - step
        if (it + 1) % every == 0 and bool(xp.all(xp.abs(step) <= tol)):
            break
    with errstate(xp, over="ignore", invalid="ignore"):  # t > _BIG entries are replaced below
        keep = act & (0.5 * (z - t) ** 2 + xp.abs(z) ** q < 0.5 * t * t)
        res = xp.where(keep, xp.sign(x) * z * s, 0.0)
    return _out(xp, out, xp.where(t > _BIG, x, res), x)


@register_kernel("prox_cel0", "numpy", array_api=True)
def prox_cel0(x, a, lam, step, out):
    """CEL0 prox with per-column norms ``a`` (length 1 or ``x.size // n_rows``).

    ``lam`` is the penalty weight (alpha) and ``step`` the step; requires
    ``a^2 step < 1`` (checked by the caller).
    """
    xp = array_namespace(x, out, a)
    a = xp.reshape(_param(xp, a, x, xp.float64), (-1,))
    lam, step = float(lam), float(step)
    na = a.shape[0]
    xv = xp.reshape(x, (-1, na) if na > 1 else (-1, 1))
    t = _f64(xp, xp.abs(xv))
    thr = math.sqrt(2.0 * lam) * a * step
    v = xp.maximum(t - thr, 0.0) / (1.0 - a * a * step)
    res = xp.sign(xv) * xp.minimum(t, v)
    return _out(xp, out, xp.reshape(res, x.shape), x)


@register_kernel("prox_mcp", "numpy", array_api=True)
def prox_mcp(x, lam, gamma, step, out):
    """MCP prox (firm thresholding); requires ``gamma > step``."""
    xp = array_namespace(x, out)
    lam, gamma, step = float(lam), float(gamma), float(step)
    t = _f64(xp, xp.abs(x))
    mid = xp.sign(x) * (t - step * lam) / (1.0 - step / gamma)
    res = xp.where(t <= step * lam, 0.0, xp.where(t <= gamma * lam, mid, _f64(xp, x)))
    return _out(xp, out, res, x)


@register_kernel("prox_scad", "numpy", array_api=True)
def prox_scad(x, lam, a, step, out):
    """SCAD prox; requires ``a > 1 + step``."""
    xp = array_namespace(x, out)
    lam, a, step = float(lam), float(a), float(step)
    t = _f64(xp, xp.abs(x))
    s = _f64(xp, xp.sign(x))
    low = s * xp.maximum(t - step * lam, 0.0)
    mid = s * ((a - 1.0) * t - a * step * lam) / (a - 1.0 - step)
    res = xp.where(t <= lam * (1.0 + step), low, xp.where(t <= a * lam, mid, _f64(xp, x)))
    return _out(xp, out, res, x)


@register_kernel("prox_log", "numpy", array_api=True)
def prox_log(x, c, eps, out):
    """Prox of ``c * sum log(1 + |x| / eps)``: best of 0 and the larger stationary point."""
    xp = array_namespace(x, out)
    c, eps = float(c), float(eps)
    t = _f64(xp, xp.abs(x))
    disc = (t + eps) ** 2 - 4.0 * c
    with errstate(xp, invalid="ignore"):
        z = 0.5 * ((t - eps) + xp.sqrt(xp.maximum(disc, 0.0)))
    ok = (disc >= 0) & (z > 0)
    z = xp.where(ok, z, 0.0)
    obj = 0.5 * (z - t) ** 2 + c * xp.log1p(z / eps)
    keep = ok & (obj < 0.5 * t * t)
    return _out(xp, out, xp.where(keep, xp.sign(x) * z, 0.0), x)


@register_kernel("prox_box", "numpy", array_api=True)
def prox_box(x, lower, upper, out):
    """Projection onto ``[lower, upper]``."""
    xp = array_namespace(x, out)
    return _out(xp, out, xp.clip(x, float(lower), float(upper)), x)


def _group_layout(xp, indptr, indices, n, size=None):
    """Padded group layout and the feature-to-group map, computed in the namespace.

    Returns ``feat`` (``(n_groups * size,)`` feature index of slot ``(g, j)``),
    ``valid`` (``(n_groups, size)`` whether the slot is a feature of group ``g``),
    ``member`` (``(n,)`` whether feature ``j`` is in a group) and ``gof``
    (``(n,)`` its group, 0 for features in no group). ``size`` is the largest group
    size: computed here when ``None`` (one host integer, a device synchronization).
    """
    dev = device(indices)
    n_groups = indptr.shape[0] - 1
    n_idx = indices.shape[0]
    sizes = indptr[1:] - indptr[:-1]
    size = int(xp.max(sizes)) if size is None else int(size)
    slot = xp.arange(size, dtype=indptr.dtype, device=dev)
    valid = slot[None, :] < sizes[:, None]
    flat = xp.where(valid, indptr[:-1][:, None] + slot[None, :], 0)
    feat = xp.take(indices, xp.reshape(flat, (-1,)))
    # group of each position of ``indices``, then of each feature (groups are disjoint)
    pos = xp.arange(n_idx, dtype=indptr.dtype, device=dev)
    gid = xp.searchsorted(indptr[1:], pos, side="right")
    order = xp.argsort(indices, stable=True)
    sorted_idx = xp.take(indices, order)
    cols = xp.arange(n, dtype=indices.dtype, device=dev)
    loc = xp.clip(xp.searchsorted(sorted_idx, cols), 0, n_idx - 1)
    member = xp.take(sorted_idx, loc) == cols
    gof = xp.where(member, xp.take(gid, xp.take(order, loc)), 0)
    return feat, valid, member, gof, n_groups, size


def _group_sqnorms(xp, x64, feat, valid, n_groups, size):
    """Squared norms ``(n_rows, n_groups)`` of the groups of each row of ``x64``."""
    blocks = xp.reshape(xp.take(x64, feat, axis=1), (x64.shape[0], n_groups, size))
    return xp.sum(xp.where(valid[None, :, :], blocks * blocks, 0.0), axis=2)


@register_kernel("prox_group_l2", "numpy", array_api=True)
def prox_group_l2(x, indptr, indices, thresh, out, *, max_group_size=None, layout=None):
    """Block soft thresholding, row by row, of the groups ``indices[indptr[g]:indptr[g+1]]``.

    ``thresh[g]`` is the threshold of group ``g``; features in no group are unchanged.
    Groups are disjoint. Vectorized over rows and groups: the groups are gathered into
    a padded ``(n_rows, n_groups, largest group)`` block. ``max_group_size`` (optional)
    spares reading it from ``indptr``, a device synchronization on a GPU; ``layout``
    (optional, the penalties pass it, built once per device) is the output of
    :func:`_group_layout` for these groups, which is then not rebuilt.
    """
    xp = array_namespace(x, out, indptr, indices, thresh)
    indptr = _param(xp, indptr, x, xp.int64)
    indices = _param(xp, indices, x, xp.int64)
    thresh = _param(xp, thresh, x, xp.float64)
    if indices.shape[0] == 0 or x.shape[0] == 0:
        return _out(xp, out, x)
    if layout is None:
        layout = _group_layout(xp, indptr, indices, x.shape[1], max_group_size)
    feat, valid, member, gof, n_groups, size = layout
    x64 = _f64(xp, x)
    nrm = xp.sqrt(_group_sqnorms(xp, x64, feat, valid, n_groups, size))
    with errstate(xp, divide="ignore", invalid="ignore"):
        scale = xp.where(nrm <= thresh, 0.0, 1.0 - thresh / nrm)  # NaN propagates
    return _out(xp, out, xp.where(member, x64 * xp.take(scale, gof, axis=1), x64))


@register_kernel("prox_ksupport", "numpy", array_api=True)
def prox_ksupport(x, indptr, indices, weights, k, lam, out, *, max_group_size=None,
                  layout=None):
    """Prox of ``lam * 1/2 ||(sqrt(w_g) ||x_g||)_g||_{k-sp}^2`` (group k-support / WGSEF).

    Uses the variational form: ``x_g = theta_g / (theta_g + lam w_g) v_g`` with
    ``theta_g = clip(tau sqrt(lam w_g) ||v_g|| - lam w_g, 0, 1)`` and ``tau`` the
    root of ``sum_g theta_g = k``. That sum is piecewise linear in ``tau`` with
    breakpoints where a group starts (``theta_g > 0``) or saturates (``theta_g = 1``):
    all rows at once, the breakpoints are sorted, the sum is accumulated along them
    (slopes times gaps) and ``tau`` interpolated in the first segment reaching ``k``.
    ``max_group_size`` and ``layout`` as in :func:`prox_group_l2`.
    """
    xp = array_namespace(x, out, indptr, indices, weights)
    indptr = _param(xp, indptr, x, xp.int64)
    indices = _param(xp, indices, x, xp.int64)
    k, lam = int(k), float(lam)
    a = lam * _param(xp, weights, x, xp.float64)
    if indices.shape[0] == 0 or x.shape[0] == 0:
        return _out(xp, out, x)
    if layout is None:
        layout = _group_layout(xp, indptr, indices, x.shape[1], max_group_size)
    feat, valid, member, gof, n_groups, size = layout
    x64 = _f64(xp, x)
    u = xp.sqrt(_group_sqnorms(xp, x64, feat, valid, n_groups, size))  # (rows, G)
    pos = u > 0
    npos = xp.sum(xp.astype(pos, xp.int64), axis=1)
    sc = xp.sqrt(a) * u
    scs = xp.where(pos, sc, 1.0)
    inf = math.inf
    bps = xp.concat([xp.where(pos, a / scs, inf), xp.where(pos, (1.0 + a) / scs, inf)], axis=1)
    slopes = xp.concat([xp.where(pos, sc, 0.0), xp.where(pos, -sc, 0.0)], axis=1)
    order = xp.argsort(bps, axis=1, stable=True)
    bps = xp.take_along_axis(bps, order, axis=1)
    slopes = xp.cumulative_sum(xp.take_along_axis(slopes, order, axis=1), axis=1)
    slopes = xp.maximum(slopes, 0.0)  # >= 0 up to rounding: keeps the sum nondecreasing
    finite = xp.isfinite(bps)
    fb = xp.where(finite, bps, 0.0)
    gaps = xp.where(finite[:, 1:], fb[:, 1:] - fb[:, :-1], 0.0) * slopes[:, :-1]
    vals = xp.cumulative_sum(gaps, axis=1, include_initial=True)  # sum_g theta_g at bps
    vals = xp.where(finite, vals, inf)
    j = xp.sum(xp.astype(vals < k, xp.int64), axis=1)  # first breakpoint with f >= k
    j = xp.clip(j, 1, 2 * n_groups - 1)[:, None]
    lo = xp.take_along_axis(bps, j - 1, axis=1)[:, 0]
    flo = xp.take_along_axis(vals, j - 1, axis=1)[:, 0]
    hi = xp.take_along_axis(bps, j, axis=1)[:, 0]
    fhi = xp.take_along_axis(vals, j, axis=1)[:, 0]
    flat = fhi == flo
    with errstate(xp, invalid="ignore", divide="ignore"):  # rows with npos <= k: unused
        tau = xp.where(flat, hi, lo + (k - flo) * (hi - lo) / xp.where(flat, 1.0, fhi - flo))
        theta = xp.where(pos, xp.clip(tau[:, None] * sc - a, 0.0, 1.0), 0.0)
    theta = xp.where((npos <= k)[:, None], xp.astype(pos, xp.float64), theta)
    shrink = xp.where(theta > 0, theta / (theta + a), 0.0)
    res = xp.where(member, x64 * xp.take(shrink, gof, axis=1), x64)
    nan_row = xp.any(xp.isnan(u), axis=1)[:, None]  # propagate NaN to the grouped features
    return _out(xp, out, xp.where(nan_row & member, xp.nan, res))


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
