"""NumPy reference kernels of the unfolded layers' shrinkage operators (``sparsopt.unfolding``).

Each kernel works on a C-contiguous 2-D batch ``R`` (rows are samples) with a threshold
vector ``theta`` of shape ``(n_atoms,)`` (already clamped at 0 by the caller) and writes
into preallocated outputs: the shrunk batch ``out`` (``R``'s dtype) and boolean masks.
These are whole-array expressions, the oracle of the fused Numba loops.
"""

import numpy as np

from .._registry import register_kernel


@register_kernel("unfold_soft_shrink", "numpy")
def unfold_soft_shrink(R, theta, out, mask):
    """``out = sign(R) max(|R| - θ, 0)``, ``mask = |R| > θ``."""
    absR = np.abs(R)
    np.greater(absR, theta, out=mask)
    np.subtract(absR, theta, out=absR)
    np.maximum(absR, 0, out=absR)
    np.copysign(absR, R, out=out)
    out[~mask] = 0  # no negative zeros where the entry is cut
    return out, mask


@register_kernel("unfold_hard_shrink", "numpy")
def unfold_hard_shrink(R, tau, out, mask):
    """``out = R 1{|R| > τ}``, ``mask = |R| > τ``."""
    np.greater(np.abs(R), tau, out=mask)
    np.multiply(R, mask, out=out)
    out[~mask] = 0
    return out, mask


@register_kernel("unfold_support_select", "numpy")
def unfold_support_select(R, theta, k, out, mask, bypass):
    """Per row: entries among the ``k`` largest ``|r|`` (ties included) that exceed ``θ``
    bypass the shrinkage; the others are soft thresholded. ``mask = |R| > θ``."""
    absR = np.abs(R)
    np.greater(absR, theta, out=mask)
    if k > 0:
        kth = np.sort(absR, axis=1)[:, R.shape[1] - k][:, None]
        np.logical_and(absR >= kth, mask, out=bypass)
    else:
        bypass[...] = False
    shrunk = np.copysign(np.maximum(absR - theta, 0), R)
    out[...] = np.where(bypass, R, np.where(mask, shrunk, 0))
    return out, mask, bypass


@register_kernel("unfold_adam", "numpy")
def unfold_adam(P, G, M, V, mult, coef):
    """One Adam update in place on 2-D ``P`` (rows: layers) with its moments ``M``, ``V``.

    ``coef`` (P's dtype) holds ``(gscale, lr, β1, 1 - β1, β2, 1 - β2, c1, c2, eps)``:
    ``g = gscale G``; ``M = β1 M + (1 - β1) g``; ``V = β2 V + (1 - β2) g²``;
    ``P -= lr mult[row] (M / c1) / (sqrt(V / c2) + eps)`` with the bias corrections
    ``c1 = 1 - β1^t``, ``c2 = 1 - β2^t``. Written as whole-array expressions (the oracle
    of the fused Numba loop); returns ``(P, M, V)``.
    """
    gscale, lr, beta1, a1, beta2, a2, c1, c2, eps = coef
    g = G * gscale
    M[...] = beta1 * M + a1 * g
    V[...] = beta2 * V + a2 * np.square(g)
    step = (M / c1) / (np.sqrt(V / c2) + eps)
    P -= (lr * mult[:, None] * step).astype(P.dtype, copy=False)
    return P, M, V
