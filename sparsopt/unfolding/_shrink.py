"""Shrinkage operators of the unfolded layers, with the masks their backward passes need.

``theta`` broadcasts against ``R`` (a scalar, a per-coordinate vector of shape
``(n_atoms,)``). Each returns ``(out, mask)`` where ``mask`` is the a.e. derivative of the
operator with respect to its input (1 where the entry passes, 0 where it is zeroed).

The bodies are kernels (``unfold_soft_shrink``, ``unfold_hard_shrink``,
``unfold_support_select``: a NumPy reference and a fused Numba loop) over a 2-D batch with
a per-coordinate threshold vector; other shapes (a threshold per entry or per row) use the
NumPy expressions below. ``out=`` and ``mask=`` let a caller reuse buffers.

Arrays of another array-API namespace (CuPy, ``array_api_strict`` ...) go through the
same kernels' namespace-generic references (``_xp_*`` below): outputs are new arrays of
the input's namespace and device (``out=``/``mask=`` are NumPy-only and ignored there),
and a threshold given as host data is moved next to ``R``.
"""

from __future__ import annotations

import numpy as np

from ..backends import asarray_on, device, dispatch, non_numpy_namespace
from ..backends._namespace import is_host_array


def _xp_theta(xp, R, theta, clamp):
    """``theta`` as an array next to ``R`` in its dtype (clamped at 0 when asked)."""
    if isinstance(theta, (int, float, np.generic)) or is_host_array(theta):
        th = asarray_on(np.asarray(theta, dtype=np.float64), R)
    else:
        th = xp.astype(theta, R.dtype) if theta.dtype != R.dtype else theta
    return xp.clip(th, min=0.0) if clamp else th


def _xp_run(xp, op, R, th, *extra, n_masks=1):
    """Run ``op`` on ``R`` as a 2-D batch when ``th`` is a scalar or per-coordinate vector;
    ``None`` when the shapes do not fit the kernels."""
    n = R.shape[-1]
    if R.ndim == 0 or th.ndim > 1 or (th.ndim == 1 and th.shape[0] not in (1, n)):
        return None
    R2 = xp.reshape(R, (-1, n))
    th = xp.broadcast_to(xp.reshape(th, (-1,)), (n,)) if th.ndim == 1 else \
        xp.broadcast_to(th, (n,))
    dev = device(R)
    bufs = [xp.empty(R2.shape, dtype=R.dtype, device=dev)]
    bufs += [xp.empty(R2.shape, dtype=xp.bool, device=dev) for _ in range(n_masks)]
    dispatch(op, R2, th, *extra, *bufs)
    return tuple(xp.reshape(b, R.shape) for b in bufs)


def _xp_shrink(xp, op, R, th, kept):
    """``(out, mask)`` of the shrinkage ``op`` (the kernel when the shapes fit it, else
    ``where(|R| > th, kept(R), 0)`` by broadcasting)."""
    res = _xp_run(xp, op, R, th)
    if res is not None:
        return res
    mask = xp.abs(R) > th
    return xp.where(mask, kept(R), xp.zeros_like(R)), mask


def _xp_soft(xp, R, theta):
    th = _xp_theta(xp, R, theta, True)
    return _xp_shrink(xp, "unfold_soft_shrink", R, th, lambda R: R - xp.sign(R) * th)


def _xp_hard(xp, R, tau):
    # the kernel's ``|r| > tau`` holds for any tau (no clamping, so no host check of the sign)
    th = _xp_theta(xp, R, tau, False)
    return _xp_shrink(xp, "unfold_hard_shrink", R, th, lambda R: R)


def _xp_support_select(xp, R, theta, k):
    th = _xp_theta(xp, R, theta, True)
    res = _xp_run(xp, "unfold_support_select", R, th, k, n_masks=2)
    if res is not None:
        return res
    absR = xp.abs(R)
    mask = absR > th
    n = R.shape[-1]
    if k > 0:
        kth = xp.sort(absR, axis=-1)[..., n - k : n - k + 1]
        bypass = xp.logical_and(absR >= kth, mask)
    else:
        bypass = xp.zeros(R.shape, dtype=xp.bool, device=device(R))
    zero = xp.zeros_like(R)
    out = xp.where(bypass, R, xp.where(mask, R - xp.sign(R) * th, zero))
    return out, mask, bypass


def _batch(R, theta):
    """``(R2, theta_vec)`` for the kernels, or ``None`` when the shapes do not fit them."""
    R = np.asarray(R)
    if R.dtype not in (np.float32, np.float64) or R.ndim == 0:
        return None
    theta = np.asarray(theta)
    n = R.shape[-1]
    if theta.ndim > 1 or (theta.ndim == 1 and theta.shape[0] not in (1, n)):
        return None
    th = np.maximum(np.broadcast_to(theta, (n,)), 0).astype(R.dtype)
    R2 = np.ascontiguousarray(R.reshape(-1, n)) if n else R.reshape(-1, n)
    return R2, th


def _buffers(R, out, mask, n_masks=1):
    shape = R.shape
    if out is None or out.shape != shape or out.dtype != R.dtype or not out.flags.c_contiguous:
        out = np.empty(shape, dtype=R.dtype)
    if mask is None or mask.shape != shape or mask.dtype != bool or not mask.flags.c_contiguous:
        mask = np.empty(shape, dtype=bool)
    extra = [np.empty(shape, dtype=bool) for _ in range(n_masks - 1)]
    return out, mask, *extra


def soft_shrink(R, theta, *, out=None, mask=None, engine=None):
    """Soft thresholding ``sign(r) max(|r| - theta, 0)`` and its mask ``|r| > theta``."""
    xp = non_numpy_namespace(R)
    if xp is not None:
        return _xp_soft(xp, R, theta)
    fit = _batch(R, theta)
    if fit is None:
        theta = np.maximum(theta, 0)
        mask = np.abs(R) > theta
        res = np.where(mask, R - np.sign(R) * theta, 0).astype(R.dtype, copy=False)
        return res, mask
    R2, th = fit
    o, m = _buffers(R, out, mask)
    dispatch("unfold_soft_shrink", R2, th, o.reshape(R2.shape), m.reshape(R2.shape),
             engine=engine)
    return o, m


def hard_shrink(R, tau, *, out=None, mask=None, engine=None):
    """Hard thresholding ``r 1{|r| > tau}`` and its mask."""
    xp = non_numpy_namespace(R)
    if xp is not None:
        return _xp_hard(xp, R, tau)
    fit = _batch(R, tau)
    if fit is None or np.any(np.asarray(tau) < 0):
        mask = np.abs(R) > tau
        return np.where(mask, R, 0).astype(R.dtype, copy=False), mask
    R2, th = fit
    o, m = _buffers(R, out, mask)
    dispatch("unfold_hard_shrink", R2, th, o.reshape(R2.shape), m.reshape(R2.shape),
             engine=engine)
    return o, m


def support_select_shrink(R, theta, percent, *, engine=None):
    """LISTA-CPSS support selection: per row, entries in the top ``percent`` % of ``|r|``
    that also exceed ``theta`` bypass the shrinkage (identity); the others are soft
    thresholded. Returns ``(out, mask, bypass)``; the bypass set is a stop-gradient mask.
    """
    n = R.shape[-1] if hasattr(R, "shape") else np.shape(R)[-1]
    k = int(np.floor(n * percent / 100.0))
    xp = non_numpy_namespace(R)
    if xp is not None:
        return _xp_support_select(xp, R, theta, k)
    fit = _batch(R, theta)
    if fit is None:
        theta = np.maximum(theta, 0)
        absR = np.abs(R)
        if k > 0:
            kth = -np.partition(-absR, k - 1, axis=-1)[..., k - 1 : k]
            bypass = (absR >= kth) & (absR > theta)
        else:
            bypass = np.zeros_like(absR, dtype=bool)
        mask = absR > theta
        out = np.where(bypass, R, np.where(mask, R - np.sign(R) * theta, 0))
        return out.astype(R.dtype, copy=False), mask, bypass
    R2, th = fit
    o, m, bp = _buffers(R, None, None, n_masks=2)
    dispatch("unfold_support_select", R2, th, k, o.reshape(R2.shape), m.reshape(R2.shape),
             bp.reshape(R2.shape), engine=engine)
    return o, m, bp
