"""Reference kernels of the unfolded layers' shrinkage operators (``sparsopt.unfolding``).

Each kernel works on a C-contiguous 2-D batch ``R`` (rows are samples) with a threshold
vector ``theta`` of shape ``(n_atoms,)`` (already clamped at 0 by the caller) and writes
into preallocated outputs: the shrunk batch ``out`` (``R``'s dtype) and boolean masks.
These are whole-array expressions, the oracle of the fused Numba loops, written against
the inputs' array namespace (``array_api=True``): the same code runs on NumPy, CuPy and
any array-API library (the outputs are written in place with ``out[...] = ...``).
"""

from .._namespace import array_namespace, device
from .._registry import register_kernel


@register_kernel("unfold_soft_shrink", "numpy", array_api=True)
def unfold_soft_shrink(R, theta, out, mask):
    """``out = sign(R) max(|R| - θ, 0)``, ``mask = |R| > θ``."""
    xp = array_namespace(R, theta, out, mask)
    absR = xp.abs(R)
    keep = absR > theta
    mask[...] = keep
    # no negative zeros where the entry is cut
    out[...] = xp.where(keep, xp.sign(R) * (absR - theta), xp.zeros_like(R))
    return out, mask


@register_kernel("unfold_hard_shrink", "numpy", array_api=True)
def unfold_hard_shrink(R, tau, out, mask):
    """``out = R 1{|R| > τ}``, ``mask = |R| > τ``."""
    xp = array_namespace(R, tau, out, mask)
    keep = xp.abs(R) > tau
    mask[...] = keep
    out[...] = xp.where(keep, R, xp.zeros_like(R))
    return out, mask


@register_kernel("unfold_support_select", "numpy", array_api=True)
def unfold_support_select(R, theta, k, out, mask, bypass):
    """Per row: entries among the ``k`` largest ``|r|`` (ties included) that exceed ``θ``
    bypass the shrinkage; the others are soft thresholded. ``mask = |R| > θ``."""
    xp = array_namespace(R, theta, out, mask, bypass)
    absR = xp.abs(R)
    keep = absR > theta
    mask[...] = keep
    n = R.shape[1]
    if k > 0:
        kth = xp.sort(absR, axis=1)[:, n - k : n - k + 1]
        bp = xp.logical_and(absR >= kth, keep)
    else:
        bp = xp.zeros(R.shape, dtype=xp.bool, device=device(R))
    bypass[...] = bp
    zero = xp.zeros_like(R)
    shrunk = xp.sign(R) * xp.maximum(absR - theta, zero)
    out[...] = xp.where(bp, R, xp.where(keep, shrunk, zero))
    return out, mask, bypass


@register_kernel("unfold_adam", "numpy", array_api=True)
def unfold_adam(P, G, M, V, mult, coef):
    """One Adam update in place on 2-D ``P`` (rows: layers) with its moments ``M``, ``V``.

    ``coef`` (P's dtype, or a sequence of Python floats) holds
    ``(gscale, lr, β1, 1 - β1, β2, 1 - β2, c1, c2, eps)``:
    ``g = gscale G``; ``M = β1 M + (1 - β1) g``; ``V = β2 V + (1 - β2) g²``;
    ``P -= lr mult[row] (M / c1) / (sqrt(V / c2) + eps)`` with the bias corrections
    ``c1 = 1 - β1^t``, ``c2 = 1 - β2^t``. Written as whole-array expressions (the oracle
    of the fused Numba loop); returns ``(P, M, V)``.
    """
    xp = array_namespace(P, G, M, V, mult)
    gscale, lr, beta1, a1, beta2, a2, c1, c2, eps = (coef[i] for i in range(9))
    g = G * gscale
    M[...] = beta1 * M + a1 * g
    V[...] = beta2 * V + a2 * (g * g)
    step = (M / c1) / (xp.sqrt(V / c2) + eps)
    P[...] = P - xp.astype(lr * xp.reshape(mult, (-1, 1)) * step, P.dtype)
    return P, M, V
