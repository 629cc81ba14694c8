"""Shrinkage operators of the unfolded layers, with the masks their backward passes need.

``theta`` broadcasts against ``R`` (a scalar, a per-coordinate vector of shape
``(n_atoms,)``). Each returns ``(out, mask)`` where ``mask`` is the a.e. derivative of the
operator with respect to its input (1 where the entry passes, 0 where it is zeroed).
"""

from __future__ import annotations

import numpy as np


def soft_shrink(R, theta):
    """Soft thresholding ``sign(r) max(|r| - theta, 0)`` and its mask ``|r| > theta``."""
    theta = np.maximum(theta, 0)
    mask = np.abs(R) > theta
    out = np.where(mask, R - np.sign(R) * theta, 0).astype(R.dtype, copy=False)
    return out, mask


def hard_shrink(R, tau):
    """Hard thresholding ``r 1{|r| > tau}`` and its mask."""
    mask = np.abs(R) > tau
    return np.where(mask, R, 0).astype(R.dtype, copy=False), mask


def support_select_shrink(R, theta, percent):
    """LISTA-CPSS support selection: per row, entries in the top ``percent`` % of ``|r|``
    that also exceed ``theta`` bypass the shrinkage (identity); the others are soft
    thresholded. Returns ``(out, mask, bypass)``; the bypass set is a stop-gradient mask.
    """
    theta = np.maximum(theta, 0)
    absR = np.abs(R)
    n = R.shape[-1]
    k = int(np.floor(n * percent / 100.0))
    if k > 0:
        kth = -np.partition(-absR, k - 1, axis=-1)[..., k - 1 : k]
        bypass = (absR >= kth) & (absR > theta)
    else:
        bypass = np.zeros_like(absR, dtype=bool)
    mask = absR > theta
    out = np.where(bypass, R, np.where(mask, R - np.sign(R) * theta, 0)).astype(R.dtype, copy=False)
    return out, mask, bypass
