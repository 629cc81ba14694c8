"""Shrinkage operators of the unfolded layers, with the masks their backward passes need.

``theta`` broadcasts against ``R`` (a scalar, a per-coordinate vector of shape
``(n_atoms,)``). Each returns ``(out, mask)`` where ``mask`` is the a.e. derivative of the
operator with respect to its input (1 where the entry passes, 0 where it is zeroed).

The bodies are kernels (``unfold_soft_shrink``, ``unfold_hard_shrink``,
``unfold_support_select``: a NumPy reference and a fused Numba loop) over a 2-D batch with
a per-coordinate threshold vector; other shapes (a threshold per entry or per row) use the
NumPy expressions below. ``out=`` and ``mask=`` let a caller reuse buffers.
"""

from __future__ import annotations

import numpy as np

from ..backends import dispatch


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
    n = np.shape(R)[-1]
    k = int(np.floor(n * percent / 100.0))
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
