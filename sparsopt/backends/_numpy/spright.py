"""NumPy reference kernels of the sparse Walsh-Hadamard transform (SPRIGHT).

Conventions shared with ``_numba/spright.py``:

* frequencies ``k`` and points ``m`` of ``F_2^n`` are bit-packed int64 (bit ``i`` is
  coordinate ``i``; ``n <= 62``);
* ``U`` of shape ``(n_groups, n_bins, n_delays)`` holds the bin observations: ``U[c, j, p]``
  is the ``1/B``-scaled Walsh-Hadamard transform of the subsampled signal
  ``x[M_c l ^ d_p]`` at bin ``j``;
* ``hash_masks`` of shape ``(n_groups, b)``: column ``t`` of the hashing matrix ``M_c``
  as an n-bit mask, so that bit ``t`` of the bin of ``k`` in group ``c`` is
  ``popcount(k & hash_masks[c, t]) mod 2``;
* ``delays`` of shape ``(n_delays,)`` with ``n_delays = R (n + 1)``: each offset ``r``
  followed by its ``n`` unit shifts ``r ^ (1 << i)``.

The references compute parities by unpacking bits into a 0/1 matrix (the Numba kernels
xor-fold), and vectorise over bins and frequencies.

* ``walsh_eval(points, indices, values, out)``: ``out[q] = sum_k values[k] *
  (-1) ** popcount(points[q] & indices[k])`` (a sparse Walsh expansion at points).
* ``spright_classify(U, groups, bins, hash_masks, delays, n_bits, thresh, out_k, out_a,
  out_kind)``: classifies the bins ``(groups[t], bins[t])`` as zero-ton (kind 0),
  singleton (1, with its frequency ``out_k[t]`` and amplitude ``out_a[t]``) or multiton (2).
* ``spright_peel(U, hash_masks, delays, ks, amps)``: subtracts ``amps[s] * s_k`` from the
  bin of ``ks[s]`` in every group (in place).
"""

import numpy as np

from .._registry import register_kernel

_SHIFTS = np.arange(63, dtype=np.int64)


def _bits(a):
    """0/1 int8 matrix of the 63 low bits of the int64 array ``a`` (shape ``a.shape + (63,)``)."""
    return ((np.asarray(a, dtype=np.int64)[..., None] >> _SHIFTS) & 1).astype(np.int8)


def _parity(a):
    """``popcount(a) mod 2`` by summing the unpacked bits."""
    return (_bits(a).sum(axis=-1, dtype=np.int64) & 1)


def _signs(delays, ks):
    """``(-1) ** popcount(delays[p] & ks[s])`` as float64 of shape ``(len(ks), len(delays))``."""
    return 1.0 - 2.0 * _parity(np.asarray(ks)[:, None] & delays[None, :])


def _bins_of(hash_masks, ks):
    """Bin of every ``ks[s]`` in every group: int64 of shape ``(n_groups, len(ks))``."""
    b = hash_masks.shape[1]
    par = _parity(np.asarray(ks)[None, :, None] & hash_masks[:, None, :])  # (C, m, b)
    return (par << np.arange(b, dtype=np.int64)).sum(axis=-1)


@register_kernel("walsh_eval", "numpy")
def walsh_eval(points, indices, values, out):
    blk = max(1, 2**20 // max(1, indices.size))
    for s in range(0, points.size, blk):
        sg = 1.0 - 2.0 * _parity(points[s:s + blk, None] & indices[None, :])
        out[s:s + blk] = sg @ values.astype(np.float64)
    return out


@register_kernel("spright_classify", "numpy")
def spright_classify(U, groups, bins, hash_masks, delays, n_bits, thresh, out_k, out_a,
                     out_kind):
    P = delays.size
    R = P // (n_bits + 1)
    u = U[groups, bins].astype(np.float64)  # (m, P)
    energy = (u * u).sum(axis=1) / P
    # soft bit decisions: sum over offsets r of U_{r,0} U_{r,i}
    ur = u.reshape(-1, R, n_bits + 1)
    v = np.einsum("mr,mri->mi", ur[:, :, 0], ur[:, :, 1:])
    k = ((v < 0).astype(np.int64) << np.arange(n_bits, dtype=np.int64)).sum(axis=1)
    hashed = _bins_of(hash_masks, k)[groups, np.arange(k.size)]
    sg = _signs(delays, k)
    a = (sg * u).sum(axis=1) / P
    resid = ((u - a[:, None] * sg) ** 2).sum(axis=1) / P
    single = (energy > thresh) & (hashed == bins) & (resid <= thresh)
    out_kind[:] = np.where(energy <= thresh, 0, np.where(single, 1, 2))
    out_k[:] = np.where(single, k, 0)
    out_a[:] = np.where(single, a, 0.0)
    return out_kind


@register_kernel("spright_peel", "numpy")
def spright_peel(U, hash_masks, delays, ks, amps):
    C = U.shape[0]
    jb = _bins_of(hash_masks, ks)  # (C, m)
    contrib = amps.astype(np.float64)[:, None] * _signs(delays, ks)  # (m, P)
    for c in range(C):
        acc = np.zeros(U.shape[1:], dtype=np.float64)
        np.add.at(acc, jb[c], contrib)
        U[c] -= acc.astype(U.dtype)
    return U
