"""SPRIGHT: a robust sparse Walsh-Hadamard transform from few queries.

The algorithm (Li, Bradley, Pawar and Ramchandran, 2015) in three parts:

* a **plan** (:class:`_Plan`): ``n_groups`` hashing matrices ``M_c`` (``n x b``, full column
  rank over F_2) and ``P`` delays ``d_p``; the query points are ``M_c l ^ d_p`` for every
  ``l`` in ``F_2^b``;
* the **front end**: the ``C P`` subsampled signals, each transformed by a ``B = 2^b``
  point FWHT scaled by ``1/B``, give the bin observations
  ``U[c, j, p] = sum_{k : M_c^T k = j} X[k] (-1)^<d_p, k> + noise``;
* the **peeling decoder**: bins are classified as zero-ton, singleton or multiton; every
  singleton found is subtracted from its bin in every group, which may turn multitons into
  singletons, and so on until no bin changes.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from .._core.loop import LoopMonitor
from .._core.result import SolverResult
from ..backends import kernel_for
from ..exceptions import ConvergenceWarning
from ..utils.validation import check_int
from ._fwht import fwht
from ._walsh import check_n_bits, host_only, parity, unpack_bits


@dataclass(frozen=True, kw_only=True)
class SprightResult(SolverResult):
    """The sparse Walsh-Hadamard spectrum recovered by :func:`spright`.

    A :class:`~sparsopt.solvers.SolverResult` whose iterate ``x`` is :attr:`values`, with the
    fields below.

    Attributes
    ----------
    indices : ndarray of shape (n_found,), dtype int64
        The recovered frequencies, bit-packed (bit ``i`` is coordinate ``i``), sorted.
    values : ndarray of shape (n_found,)
        Their Walsh-Hadamard coefficients ``X[k]`` (in the convention
        ``x[m] = sum_k X[k] (-1) ** popcount(m & k)``).
    x : ndarray of shape (n_found,)
        The same array as ``values``.
    n_queries : int
        Distinct points at which ``query`` was evaluated (duplicated points of the design
        are queried once).
    resolved : bool
        Whether every bin of every group ended a zero-ton (the same as ``converged``).
    n_rounds : int
        Peeling rounds run (the same as ``n_iter``).
    stop_crit : float
        Number of bins that are not zero-tons after the last round.
    history : tuple of dict
        One record per round: ``iteration``, ``stop_crit`` (unresolved bins),
        ``n_found`` (frequencies decoded so far), ``n_new`` (decoded in this round).
    info : mapping
        ``n_bits``, ``sparsity``, ``n_groups``, ``n_hash_bits`` (``b``), ``n_bins``
        (``B``), ``n_delays`` (``P``), ``n_samples`` (``C P B``, duplicates counted),
        ``load`` (``sparsity / B``), ``noise_var`` (per-query noise variance, given or
        estimated), ``threshold`` (the zero-ton threshold on ``||U[c, j]||^2 / P``),
        ``hash``, ``delays``, ``n_offsets``, ``stopped_by`` (``"tol"``: resolved,
        ``"stalled"``: no new singleton while bins remain, ``"max_iter"``,
        ``"callback"``).

    Examples
    --------
    >>> from sparsopt.datasets import make_sparse_walsh
    >>> from sparsopt.transforms import spright
    >>> query, k, v = make_sparse_walsh(12, 5, random_state=0)
    >>> res = spright(query, 12, 5, random_state=0)
    >>> bool(res.resolved), bool((res.indices == k).all())
    (True, True)
    """

    indices: Any = None
    values: Any = None
    n_queries: int = None
    resolved: bool = None
    n_rounds: int = None

    def __post_init__(self):
        super().__post_init__()
        if self.values is None:
            object.__setattr__(self, "values", self.x)
        if self.resolved is None:
            object.__setattr__(self, "resolved", bool(self.converged))
        if self.n_rounds is None:
            object.__setattr__(self, "n_rounds", int(self.n_iter))

    def _fields(self):
        fields = super()._fields()
        fields.update(indices=self.indices, values=self.values, n_queries=self.n_queries,
                      resolved=self.resolved, n_rounds=self.n_rounds)
        return fields


def _f2_rank(cols):
    """Rank over F_2 of the vectors given as bit masks."""
    rows = [int(c) for c in cols]
    rank = 0
    for bit in range(63):
        piv = next((i for i in range(rank, len(rows)) if rows[i] >> bit & 1), None)
        if piv is None:
            continue
        rows[rank], rows[piv] = rows[piv], rows[rank]
        for i in range(len(rows)):
            if i != rank and rows[i] >> bit & 1:
                rows[i] ^= rows[rank]
        rank += 1
    return rank


def _random_bits(rng, n_bits, size):
    """``size`` uniform random n-bit masks as int64."""
    hi = rng.randint(0, 2 ** min(n_bits, 31), size=size).astype(np.int64)
    if n_bits <= 31:
        return hi
    lo = rng.randint(0, 2 ** (n_bits - 31), size=size).astype(np.int64)
    return (hi << (n_bits - 31)) | lo


@dataclass(frozen=True)
class _Plan:
    """The query design of one SPRIGHT run (hashing matrices and delays)."""

    n_bits: int
    hash_masks: np.ndarray  # (C, b) int64: the columns of M_c
    delays: np.ndarray  # (P,) int64
    n_offsets: int

    @property
    def n_groups(self):
        return self.hash_masks.shape[0]

    @property
    def n_hash_bits(self):
        return self.hash_masks.shape[1]

    def points(self):
        """Bit-packed query points of shape ``(C, P, B)``: ``M_c l ^ d_p``."""
        C, b = self.hash_masks.shape
        span = np.zeros((C, 2**b), dtype=np.int64)
        for t in range(b):  # the span of the columns, in the order of l's bits
            span[:, 2**t:2**(t + 1)] = span[:, :2**t] ^ self.hash_masks[:, t:t + 1]
        return span[:, None, :] ^ self.delays[None, :, None]


def _make_plan(n_bits, n_hash_bits, n_groups, hash, delays, n_offsets, rng,
               owner="spright"):
    if hash == "disjoint":
        if n_groups * n_hash_bits > n_bits:
            raise ValueError(
                f"{owner}: hash='disjoint' needs n_groups * n_hash_bits <= n_bits, got "
                f"{n_groups} * {n_hash_bits} > {n_bits}: some bins would never be hit and "
                "peeling would fail silently. Use hash='random' or "
                + ("a smaller n_hash_bits." if n_hash_bits > 1 else
                   f"at most n_groups = {n_bits} groups (n_hash_bits is already 1)."))
        masks = np.array([[1 << (c * n_hash_bits + t) for t in range(n_hash_bits)]
                          for c in range(n_groups)], dtype=np.int64)
    else:
        masks = np.empty((n_groups, n_hash_bits), dtype=np.int64)
        for c in range(n_groups):
            while True:
                cols = _random_bits(rng, n_bits, n_hash_bits)
                if _f2_rank(cols) == n_hash_bits:
                    break
            masks[c] = cols
    if delays == "identity":
        offsets = np.zeros(1, dtype=np.int64)
    else:
        offsets = _random_bits(rng, n_bits, n_offsets)
    unit = np.concatenate([[0], 1 << np.arange(n_bits, dtype=np.int64)])
    dl = (offsets[:, None] ^ unit[None, :]).ravel()
    return _Plan(n_bits=n_bits, hash_masks=masks, delays=np.ascontiguousarray(dl),
                 n_offsets=int(offsets.size))


def _check_params(n_bits, sparsity, n_hash_bits, n_groups, hash, delays, n_offsets, noise,
                  owner="spright"):
    n_bits = check_n_bits(n_bits, owner)
    sparsity = check_int(sparsity, "sparsity", owner, lower=1)
    n_groups = check_int(n_groups, "n_groups", owner, lower=1)
    if n_hash_bits is None:
        n_hash_bits = min(n_bits, max(1, math.ceil(math.log2(sparsity)) + 1))
        if hash == "disjoint":
            n_hash_bits = max(1, min(n_hash_bits, n_bits // n_groups))
        if n_hash_bits > 30:  # the cap of an explicit n_hash_bits
            raise ValueError(
                f"{owner}: sparsity = {sparsity} asks for n_hash_bits = {n_hash_bits} "
                f"(2**{n_hash_bits} bins per group, at most 2**30): use a sparsity of at most "
                f"2**29, or the dense fwht for a spectrum this dense.")
    elif not 1 <= check_int(n_hash_bits, "n_hash_bits", owner) <= min(n_bits, 30):
        raise ValueError(f"{owner}: n_hash_bits must be an integer in [1, min(n_bits, 30)] "
                         f"= [1, {min(n_bits, 30)}], got {n_hash_bits!r}.")
    if hash not in ("random", "disjoint"):
        raise ValueError(f"{owner}: hash must be 'random' or 'disjoint', got {hash!r}.")
    if delays not in ("identity", "nso"):
        raise ValueError(f"{owner}: delays must be 'identity' or 'nso', got {delays!r}.")
    if delays == "identity":
        if n_offsets not in (None, 1):
            raise ValueError(f"{owner}: n_offsets applies to delays='nso' (identity delays "
                             f"use one offset), got n_offsets={n_offsets!r}.")
        n_offsets = 1
    else:
        n_offsets = 3 if n_offsets is None else n_offsets
        n_offsets = check_int(n_offsets, "n_offsets", owner, lower=1)
    if noise is not None:
        if isinstance(noise, bool) or not isinstance(noise, (int, float, np.number)) \
                or not np.isfinite(noise) or noise < 0:
            raise ValueError(f"{owner}: noise must be None (estimated) or a finite "
                             f"variance >= 0, got {noise!r}.")
    return n_bits, int(sparsity), int(n_hash_bits), int(n_groups), int(n_offsets)


def _call_query(query, pts, n_bits):
    """Evaluate the user's ``query`` at bit-packed points, with clear errors."""
    if not callable(query):
        raise TypeError(f"spright: query must be callable, got {type(query).__name__}.")
    vals = query(unpack_bits(pts, n_bits))
    host_only("spright (the values returned by query)", vals)
    vals = np.asarray(vals)
    if vals.shape != (pts.size,):
        raise ValueError(
            f"spright: query must return an array of shape (n_queries,) = ({pts.size},) "
            f"for an input of shape ({pts.size}, {n_bits}); got shape {vals.shape}.")
    if vals.dtype.kind not in "biuf":
        raise TypeError(f"spright: query must return real numbers, got dtype {vals.dtype}.")
    dtype = np.float32 if vals.dtype == np.float32 else np.float64
    vals = vals.astype(dtype, copy=False)
    if not np.all(np.isfinite(vals)):
        bad = int(np.count_nonzero(~np.isfinite(vals)))
        raise ValueError(f"spright: query returned {bad} non-finite value(s) (NaN or inf); "
                         "SPRIGHT needs finite samples.")
    return vals


def _front_end(samples):
    """``U[c, j, p]``: the 1/B-scaled FWHT of each subsampled signal, shape (C, B, P)."""
    C, P, B = samples.shape
    U = fwht(samples.reshape(C * P, B)).reshape(C, P, B)
    U *= U.dtype.type(1.0 / B)
    return np.ascontiguousarray(U.transpose(0, 2, 1))


#: ``spright`` warns when every bin resolved with fewer than ``sparsity / 4`` terms (none
#: for ``sparsity < 4``) and an estimated per-query noise variance of at least this
#: fraction of the queries' mean square. Measured: exact recoveries at 0 dB and above at
#: most 0.69 (n = 10-18, K = 1-60, NSO delays), at -2 dB up to 0.79 (K = 1-2: the samples
#: are mostly noise, but the term is found, so no warning); spectra 4-50 times denser
#: than ``sparsity``, or -5 dB noise, 0.65-0.94 with no term found
NOISE_WARN_RATIO = 0.7


def _noise_threshold(energy, P, sparsity, noise, n_bins, dtype):
    """Per-query noise variance (given or estimated) and the zero-ton threshold.

    The bin noise is ``sigma^2 / B`` per delay, so the energy ``||U[c, j]||^2 / P`` of a
    zero-ton is ``sigma^2 / B * chi2_P / P``. The threshold is the ``1 - 0.01 / (C B)``
    quantile of that (at most one false detection in a hundred runs over all bins, and
    at least the spec's ``(1 + gamma) sigma^2 / B`` with ``gamma = 0.5``), floored at the
    rounding level of the samples: ``(8 (b + 2) eps)^2`` times their mean square (the
    total energy of a group's bins, Parseval). The rounding error of a bin of the
    ``1/B``-scaled ``b``-stage transform, and of a peel, is a few ``b eps`` times the
    samples' magnitude; a floor relative to the largest bin alone (``1e4 eps``, before)
    hid every float32 term below 0.1 % of the largest.
    """
    from scipy.stats import chi2

    C = energy.shape[0]
    if noise is None:
        # zero-tons are a fraction ~exp(-K/B) of the bins: the energy at half that
        # fraction estimates their median
        e = np.sort(energy.ravel())
        m = max(1, math.ceil(0.5 * math.exp(-sparsity / n_bins) * e.size))
        bin_var = float(e[m - 1]) / (chi2.median(P) / P)
        noise_var = bin_var * n_bins
    else:
        noise_var = float(noise)
        bin_var = noise_var / n_bins
    factor = max(1.5, chi2.ppf(1.0 - 0.01 / (C * n_bins), P) / P)
    rel = 8.0 * (math.log2(n_bins) + 2) * float(np.finfo(dtype).eps)
    floor = rel * rel * float(energy.sum(axis=1).max()) if energy.size else 0.0
    return noise_var, max(factor * bin_var, floor, np.finfo(np.float64).tiny)


def _unscaled(energy, e):
    """An energy of the scaled samples in the units of the queries (``energy * 2**e``);
    inf beyond the float64 range (squares of amplitudes above ~1e154)."""
    try:
        return math.ldexp(energy, e)
    except OverflowError:
        return math.inf


def spright(query, n_bits, sparsity, *, n_hash_bits=None, n_groups=3, hash="random",
            delays="identity", n_offsets=None, noise=None, max_iter=50, callback=None,
            verbose=None, random_state=None, engine=None):
    r"""Sparse Walsh-Hadamard transform of a black-box function by hashing and peeling.

    Recovers a ``K``-sparse spectrum ``X`` of a function on ``{0, 1}^n`` from
    ``C P 2^b`` queries, with

    .. math::
        x[m] = \sum_{k \in \mathbb{F}_2^n} X[k] (-1)^{\langle m, k\rangle} + w[m],
        \qquad N = 2^n,

    (without noise, ``x`` is the unnormalised :func:`~sparsopt.transforms.fwht` of ``X``
    and ``X = ifwht(x)``). Each of the
    ``C = n_groups`` groups hashes the ``N`` frequencies into ``B = 2^b`` bins through a
    matrix ``M_c`` of full column rank over F_2 (bin of ``k``: ``M_c^T k``). The function
    is queried at ``M_c l ^ d_p`` for every ``l`` in ``F_2^b`` and every delay ``d_p``; a
    ``B``-point FWHT scaled by ``1/B`` of each subsampled signal gives, in bin ``j``,
    ``U_c[j, p] = sum_{k in bin} X[k] (-1)^<d_p, k> + noise``. A bin holding one frequency
    (a *singleton*) reveals ``k`` bit by bit through the signs across delays; its
    hash is checked (``M_c^T k = j``), its amplitude is the projection on the sign
    pattern, and the residual must be at noise level. The *peeling decoder* subtracts each
    singleton from its bin in every group, turning multitons into singletons, round after
    round, until every bin is empty (resolved) or no new singleton appears (stalled).

    Delays: ``"identity"`` uses ``P = n + 1`` delays ``[0, e_0, ..., e_{n-1}]`` (noiseless
    functions: ``U_i / U_0 = (-1)^{k_i}``); ``"nso"`` (near sample-optimal, for noisy
    functions) uses ``R = n_offsets`` random offsets ``r``, each followed by its ``n``
    unit shifts, so ``P = R (n + 1)``, and decides bit ``i`` by the sign of
    ``sum_r U_{r,0} U_{r,i}``.

    Thresholds: a bin whose energy ``||U_c[j]||^2 / P`` is at most ``t`` is a zero-ton, and
    a singleton needs a residual energy at most ``t``, where ``t`` is the
    ``1 - 0.01 / (C B)`` quantile of the zero-ton energy ``sigma^2 / B chi2_P / P`` (at
    least ``1.5 sigma^2 / B``, as the ``gamma = 0.5`` rule of the reference codes), and at
    least a rounding floor ``(8 (b + 2) eps)^2`` times the mean square of the samples
    (``eps`` of their dtype; the samples are first scaled by a power of two, exactly, so
    that no amplitude overflows or underflows). With ``noise=None`` the
    bin noise is estimated from the lowest bin energies (the median of the expected
    ``exp(-K/B)`` fraction of zero-tons); a noiseless function gets the rounding floor.

    Peeling does not stop when ``sparsity`` frequencies are found (unlike the ``-k`` option
    of the C++ reference engine): ``sparsity`` sets the default number of bins and the
    noise estimate, and the run ends when every bin is a zero-ton.

    Parameters
    ----------
    query : callable
        ``query(X)`` with ``X`` an int8 0/1 array (signed, so that ``1 - 2 * X`` does not
        wrap) of shape ``(n_queries, n_bits)`` returns
        the function's values, an array of shape ``(n_queries,)`` of finite real numbers
        (float32 results keep the computation in float32). It is called once, on distinct
        points.
    n_bits : int
        Number of binary inputs ``n`` (at most 62: frequencies are bit-packed in int64).
    sparsity : int
        Expected number ``K`` of non-zero coefficients (>= 1).
    n_hash_bits : int, default=None
        ``b``, so that each group has ``B = 2^b`` bins; default
        ``ceil(log2(sparsity)) + 1`` (``B`` about ``2 K``), capped at ``n_bits`` (and at
        ``n_bits // n_groups`` for disjoint hashing). Peeling stalls when ``K / B``
        exceeds about 2.4 with 3 groups.
    n_groups : int, default=3
        ``C``, the number of hashing groups.
    hash : {"random", "disjoint"}, default="random"
        ``"random"``: random full-rank ``M_c``; ``"disjoint"``: group ``c`` reads bits
        ``[c b, (c + 1) b)`` of ``k`` (needs ``C b <= n``).
    delays : {"identity", "nso"}, default="identity"
        Delay design (above): ``"identity"`` for noiseless functions, ``"nso"`` for noisy
        ones.
    n_offsets : int, default=None
        ``R`` for ``delays="nso"`` (default 3); ``P = R (n + 1)``.
    noise : float, default=None
        Variance ``sigma^2`` of the noise of one query; ``None`` estimates it from the
        bins, ``0`` declares the function noiseless.
    max_iter : int, default=50
        Hard cap on peeling rounds.
    callback : callable ``callback(SolverState) -> bool``, default=None
        Called after each round (``state.x``: the values decoded so far,
        ``state.stop_crit``: the bins still unresolved); True stops the run.
    verbose : int, default=None
        One line per round when > 0; ``None`` reads :func:`sparsopt.get_config`.
    random_state : int, RandomState instance or None, default=None
        Draws the hashing matrices and the NSO offsets.
    engine : {"auto", "numpy", "numba"}, default=None
        Backend of the classification and peeling kernels.

    Returns
    -------
    result : SprightResult
        ``indices`` (sorted bit-packed int64 frequencies), ``values``, ``n_queries``,
        ``resolved``, ``n_rounds`` and ``info`` (see :class:`SprightResult`).

    Raises
    ------
    ValueError
        For ``n_bits`` outside ``[1, 62]``, ``sparsity < 1``, ``n_groups``,
        ``n_hash_bits`` or ``n_offsets`` out of range (``n_offsets`` given with identity
        delays), an unknown ``hash``, ``delays`` or ``engine``, a negative or non-finite
        ``noise``, a bad ``random_state``, disjoint hashing with ``C b > n``, or a
        ``query`` that returns the wrong shape or non-finite values.
    TypeError
        For a non-integer ``n_bits``, ``sparsity``, ``n_groups``, ``n_hash_bits`` or
        ``n_offsets``, a ``query`` that is not callable, or one that returns values that
        are not real numbers.

    Warns
    -----
    ConvergenceWarning
        When some bins remain unresolved (peeling stalled or ``max_iter`` rounds ran):
        increase ``n_hash_bits`` (``K / B`` is in ``info["load"]``) or, with noise, use
        ``delays="nso"`` with more ``n_offsets``.
    UserWarning
        When every bin resolved with fewer than ``sparsity / 4`` terms (none, for a
        ``sparsity`` below 4) and the estimated noise variance (``noise=None``) is at
        least 70 % of the queries' mean square: the samples look like noise, either
        because the function is mostly noise or because its spectrum is much denser than
        ``sparsity`` (raise ``sparsity`` or ``n_hash_bits``, or pass ``noise``).

    See Also
    --------
    sparsopt.transforms.SparseWHT : The estimator built on this function.
    sparsopt.transforms.fwht : The dense transform (``O(N log N)`` for all ``N`` values).

    References
    ----------
    .. [1] X. Li, J. K. Bradley, S. Pawar and K. Ramchandran, "The SPRIGHT algorithm for
       robust sparse Hadamard transforms", arXiv:1508.06336 (2015); short version
       "Robustifying the sparse Walsh-Hadamard transform without increasing the sample
       complexity of O(K log N)", ISIT 2014.
    .. [2] R. Scheibler, S. Haghighatshoar and M. Vetterli, "A fast Hadamard transform for
       signals with sublinear sparsity in the transform domain", IEEE Trans. Inf. Theory
       61(4), 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.transforms import spright
    >>> def f(X):  # 3 + 2 (-1)^(x0 + x2) - (-1)^x5 on 10 bits
    ...     s = lambda *i: 1 - 2 * (X[:, list(i)].sum(axis=1) % 2)
    ...     return 3.0 + 2.0 * s(0, 2) - 1.0 * s(5)
    >>> res = spright(f, 10, 3, random_state=0)
    >>> res.indices, res.values
    (array([ 0,  5, 32]), array([ 3.,  2., -1.]))
    >>> res.n_queries < 2**10
    True
    """
    n_bits, sparsity, b, C, R = _check_params(n_bits, sparsity, n_hash_bits, n_groups, hash,
                                              delays, n_offsets, noise)
    try:
        rng = check_random_state(random_state)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"spright: random_state must be None, an int in [0, 2**32) or a "
                         f"numpy.random.RandomState, got {random_state!r} ({exc})") from exc
    plan = _make_plan(n_bits, b, C, hash, delays, R, rng)
    pts = plan.points()
    uniq, inverse = np.unique(pts.ravel(), return_inverse=True)
    vals = _call_query(query, uniq, n_bits)
    samples = vals[inverse.ravel()].reshape(pts.shape)
    return _decode(plan, samples, sparsity=sparsity, noise=noise, max_iter=max_iter,
                   callback=callback, verbose=verbose, engine=engine, n_queries=uniq.size,
                   hash=hash, delays=delays)


def _decode(plan, samples, *, sparsity, noise, max_iter, callback, verbose, engine,
            n_queries, hash, delays, stacklevel=3):
    """Front end and peeling decoder on precomputed samples of shape ``(C, P, B)``;
    ``stacklevel`` of its warnings (3: the caller of :func:`spright`)."""
    C, P, B = samples.shape
    n = plan.n_bits
    # the samples times a power of two (exact) that puts the largest in [0.5, 1): the
    # energies (squares) neither overflow nor underflow, whatever the amplitudes (float64
    # above ~1e154 overflowed, float32 thresholds above ~1e22); undone on the results
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    shift = -math.frexp(peak)[1] if peak > 0 else 0
    if shift:
        samples = np.ldexp(samples, shift)
        if noise is not None:
            noise = math.ldexp(float(noise), 2 * shift)
    U = _front_end(samples)
    dtype = U.dtype
    energy = np.einsum("cjp,cjp->cj", U, U, dtype=np.float64) / P
    noise_var, thresh = _noise_threshold(energy, P, sparsity, noise, B, dtype)
    classify = kernel_for("spright_classify", U, engine=engine)
    peel = kernel_for("spright_peel", U, engine=engine)
    masks, dl = plan.hash_masks, plan.delays
    info = dict(n_bits=n, sparsity=sparsity, n_groups=C, n_hash_bits=plan.n_hash_bits,
                n_bins=B, n_delays=P, n_samples=C * P * B, load=sparsity / B,
                noise_var=_unscaled(noise_var, -2 * shift),
                threshold=_unscaled(thresh, -2 * shift), hash=hash, delays=delays,
                n_offsets=plan.n_offsets)
    hint = (f"the load K/B = {sparsity / B:.2f} may be too high (increase n_hash_bits) or the "
            "noise too strong (use delays='nso' with more n_offsets)")
    mon = LoopMonitor("spright", max_iter=max_iter, tol=0, callback=callback,
                      verbose=verbose, criterion="unresolved bins", hint=hint,
                      keep_finite=False)
    found_k = np.zeros(0, dtype=np.int64)
    found_a = np.zeros(0, dtype=dtype)
    changed = np.ones((C, B), dtype=bool)
    stalled = False
    for it in range(1, mon.max_iter + 1):
        n_new = 0
        for c in range(C):  # groups in turn: a group sees the peels of the ones before
            bins = np.ascontiguousarray(np.flatnonzero(changed[c]), dtype=np.int64)
            if not bins.size:
                continue
            m = bins.size
            groups = np.full(m, c, dtype=np.int64)
            out_k = np.zeros(m, dtype=np.int64)
            out_a = np.zeros(m, dtype=np.float64)
            kind = np.zeros(m, dtype=np.int8)
            classify(U, groups, bins, masks, dl, n, thresh, out_k, out_a, kind)
            changed[c, bins] = False
            single = kind == 1
            # a frequency decoded in two bins of one group (a wrong estimate): average
            ks, inv = np.unique(out_k[single], return_inverse=True)
            if not ks.size:
                continue
            amps = np.bincount(inv.ravel(), out_a[single]) / np.bincount(inv.ravel())
            ks, amps = ks[~np.isin(ks, found_k)], amps[~np.isin(ks, found_k)]
            jb = np.zeros((C, ks.size), dtype=np.int64)
            for t in range(plan.n_hash_bits):
                jb |= parity(ks[None, :] & masks[:, t:t + 1]) << t
            # a frequency present in the signal lies in a non-empty bin of every group; a
            # wrong estimate (e.g. the XOR of three frequencies sharing a bin, which passes
            # the hash check) usually lands in an empty one
            ub = U[np.arange(C)[:, None], jb]
            ok = (np.einsum("cmp,cmp->cm", ub, ub, dtype=np.float64) / P > thresh).all(axis=0)
            ks, amps, jb = (np.ascontiguousarray(ks[ok]), np.ascontiguousarray(amps[ok]),
                            jb[:, ok])
            if not ks.size:
                continue
            peel(U, masks, dl, ks, amps)
            changed[np.arange(C)[:, None], jb] = True
            found_k = np.concatenate([found_k, ks])
            found_a = np.concatenate([found_a, amps.astype(dtype)])
            n_new += ks.size
        energy = np.einsum("cjp,cjp->cj", U, U, dtype=np.float64) / P
        unresolved = int(np.count_nonzero(energy > thresh))
        if mon.check(it, np.ldexp(found_a, -shift) if shift else found_a, unresolved,
                     finite=True, n_found=int(found_k.size), n_new=n_new):
            break
        if n_new == 0:
            stalled = True
            mon.stopped_by = "stalled"
            break
    order = np.argsort(found_k, kind="stable")
    indices, values = found_k[order], found_a[order]
    if shift:
        values = np.ldexp(values, -shift)
    if stalled:
        warnings.warn(
            f"spright did not resolve every bin: peeling stalled after {mon.n_iter} rounds "
            f"with {int(mon.stop_crit)} of {C * B} bins above the zero-ton threshold; "
            f"{hint}.", ConvergenceWarning, stacklevel=stacklevel)
    elif mon.stopped_by == "max_iter":  # every bin must resolve: no tol to loosen
        warnings.warn(
            f"spright did not converge: {int(mon.stop_crit)} of {C * B} bins still above "
            f"the zero-ton threshold after max_iter = {mon.max_iter} peeling rounds. "
            f"Increase max_iter; {hint}.", ConvergenceWarning, stacklevel=stacklevel)
    elif mon.converged and noise is None and samples.size:
        # every bin resolved, but the estimated noise explains most of the samples' energy:
        # a spectrum far denser than `sparsity` hashed into B bins looks like noise too
        # (noiseless K = 500 with sparsity = 10 came back resolved, with no term)
        mean_sq = float(np.mean(np.square(samples, dtype=np.float64)))
        ratio = noise_var / mean_sq if mean_sq > 0 else 0.0
        if ratio >= NOISE_WARN_RATIO and indices.size < max(1.0, sparsity / 4):
            warnings.warn(
                f"spright resolved every bin, but the estimated noise variance is "
                f"{ratio:.0%} of the queries' mean square and only {indices.size} term(s) "
                f"were found: the samples look like noise. Either the function is mostly noise "
                f"at this budget, or its spectrum is much denser than sparsity = "
                f"{sparsity} (a dense spectrum hashed into {B} bins looks like noise): "
                "raise sparsity (or n_hash_bits), or pass noise= if the noise variance is "
                "known.", UserWarning, stacklevel=stacklevel)
    return mon.result(values, result_cls=SprightResult, warn=False, stacklevel=stacklevel,
                      indices=indices, values=values, n_queries=int(n_queries),
                      resolved=bool(mon.converged), n_rounds=int(mon.n_iter), **info)
