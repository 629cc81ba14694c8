"""Numba kernels of the sparse Walsh-Hadamard transform (SPRIGHT).

The conventions (bit-packed int64 frequencies, the ``(n_groups, n_bins, n_delays)`` bin
observations ``U``, ``hash_masks``, ``delays = R x [r, r ^ e_0, ..., r ^ e_{n-1}]``) are
those of ``sparsopt/backends/_numpy/spright.py``, whose functions are the references.
Parities are xor-folds (constant time); sums accumulate in float64 whatever the dtype
of ``U``.

* ``walsh_eval``: a sparse Walsh expansion at many points (the synthetic signals of
  benchmarks and tests, and ``SparseWHT.predict``), O(points x frequencies).
* ``spright_classify``: zero-ton / singleton / multiton test of a list of bins, with the
  NSO soft bit decisions and the hash-consistency check.
* ``spright_peel``: subtract decoded singletons from their bin in every group.
"""

import numpy as np
from numba import njit

from .._registry import register_kernel

_opts = dict(cache=True, nogil=True)


@njit(**_opts)
def _parity(a):
    """``popcount(a) mod 2`` of a non-negative int64, by xor-folding to 4 bits and a
    16-entry lookup packed in the constant 0x6996."""
    a ^= a >> 32
    a ^= a >> 16
    a ^= a >> 8
    a ^= a >> 4
    return (0x6996 >> (a & 0xF)) & 1


@njit(**_opts)
def _bin_of(hash_masks, c, k):
    j = 0
    for t in range(hash_masks.shape[1]):
        j |= _parity(k & hash_masks[c, t]) << t
    return j


@register_kernel("walsh_eval", "numba")
@njit(**_opts)
def walsh_eval(points, indices, values, out):
    for q in range(points.size):
        m = points[q]
        acc = 0.0
        for s in range(indices.size):
            if _parity(m & indices[s]):
                acc -= values[s]
            else:
                acc += values[s]
        out[q] = acc
    return out


@register_kernel("spright_classify", "numba")
@njit(**_opts)
def spright_classify(U, groups, bins, hash_masks, delays, n_bits, thresh, out_k, out_a,
                     out_kind):
    P = delays.size
    R = P // (n_bits + 1)
    for t in range(groups.size):
        c = groups[t]
        j = bins[t]
        u = U[c, j]
        energy = 0.0
        for p in range(P):
            energy += np.float64(u[p]) * np.float64(u[p])
        energy /= P
        out_k[t] = 0
        out_a[t] = 0.0
        if energy <= thresh:
            out_kind[t] = 0
            continue
        k = 0
        for i in range(n_bits):
            v = 0.0
            for r in range(R):
                base = r * (n_bits + 1)
                v += np.float64(u[base]) * np.float64(u[base + 1 + i])
            if v < 0:
                k |= 1 << i
        if _bin_of(hash_masks, c, k) != j:
            out_kind[t] = 2
            continue
        a = 0.0
        for p in range(P):
            if _parity(delays[p] & k):
                a -= np.float64(u[p])
            else:
                a += np.float64(u[p])
        a /= P
        resid = 0.0
        for p in range(P):
            s = -1.0 if _parity(delays[p] & k) else 1.0
            e = np.float64(u[p]) - a * s
            resid += e * e
        resid /= P
        if resid <= thresh:
            out_kind[t] = 1
            out_k[t] = k
            out_a[t] = a
        else:
            out_kind[t] = 2
    return out_kind


@register_kernel("spright_peel", "numba")
@njit(**_opts)
def spright_peel(U, hash_masks, delays, ks, amps):
    C = U.shape[0]
    P = delays.size
    for s in range(ks.size):
        k = ks[s]
        a = np.float64(amps[s])
        for c in range(C):
            j = _bin_of(hash_masks, c, k)
            for p in range(P):
                if _parity(delays[p] & k):
                    U[c, j, p] += a
                else:
                    U[c, j, p] -= a
    return U
