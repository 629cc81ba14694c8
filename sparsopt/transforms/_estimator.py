"""``SparseWHT``: a scikit-learn regressor over binary inputs with a sparse Walsh spectrum."""

from __future__ import annotations

import math
import warnings
from itertools import combinations
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _num_features, check_is_fitted

from ..utils.estimator import SparsoptEstimatorMixin
from ._spright import _check_params, _decode, _make_plan
from ._walsh import MAX_BITS, pack_bits, unpack_bits, walsh_expansion, walsh_features

#: the regression path refuses a feature matrix plus OMP's Gram matrix larger than this
#: (a max_degree of 5 on 62 bits asks for 7.1e6 features: 53 GiB for 1000 float64
#: samples; max_degree=3 on 62 bits, 39 774 features, a 12.6 GB Gram matrix)
_MAX_FEATURE_BYTES = 2**31
#: the features are built a chunk of frequencies at a time, with int64 temporaries of
#: about this many bytes each (walsh_features makes three)
_CHUNK_BYTES = 2**24


def _looks_like_design(uniq, n):
    """Whether the sorted distinct bit-packed points ``uniq`` look like some SPRIGHT design:
    every delay set holds a point and its ``n`` one-bit flips, so about ``1 / (n + 1)`` of
    the points have all ``n`` neighbours in the set, which points spread over a space at
    most a quarter full almost never have (a fraction ``<= 4 ** -n`` of them)."""
    if n < 4 or uniq.size * 4 > 2**n:
        return False
    sample = uniq[::max(1, uniq.size // 4096)]
    flips = sample[:, None] ^ (np.int64(1) << np.arange(n, dtype=np.int64))[None, :]
    pos = np.minimum(np.searchsorted(uniq, flips), uniq.size - 1)
    full = np.count_nonzero((uniq[pos] == flips).all(axis=1))
    return full >= 0.5 * sample.size / (n + 1)


def _low_degree_frequencies(n_bits, max_degree):
    """Bit-packed frequencies with at most ``max_degree`` ones, by degree then value."""
    out = [0]
    for d in range(1, min(max_degree, n_bits) + 1):
        out.extend(sum(1 << i for i in c) for c in combinations(range(n_bits), d))
    return np.array(out, dtype=np.int64)


class SparseWHT(SparsoptEstimatorMixin, RegressorMixin, BaseEstimator):
    """Learn a pseudo-Boolean function with a sparse Walsh-Hadamard spectrum.

    The model is ``f(x) = sum_k coef_[k] (-1) ** <x, k>`` over the frequencies
    ``indices_`` (bit-packed: bit ``i`` is input ``i``), for inputs ``x`` in
    ``{0, 1}^n_bits``. Two ways to fit it:

    * **Peeling (fast, few queries).** :meth:`query_points` returns the structured points
      that :func:`~sparsopt.transforms.spright` needs (they depend on ``n_bits``, the
      SPRIGHT parameters and ``random_state``); evaluate the function there and call
      ``fit(X, y)`` with exactly those points (in any order, duplicates allowed: their
      targets are averaged). The spectrum is then recovered by hashing and peeling, with
      ``O(K n)`` queries and time instead of the ``2^n`` of a dense transform. Points that
      are nearly but not exactly those (a few missing or extra, where the design is at
      most half of the ``2^n`` points), or that look like the points of another design
      (other ``n_bits``, SPRIGHT parameters or ``random_state``: most of them come with
      all their one-bit flips), get a ``UserWarning`` before the fallback below.
    * **Sparse regression (the slower path).** On any other points, ``fit`` regresses
      ``y`` on the Walsh features of degree at most ``max_degree`` (all frequencies with
      at most ``max_degree`` ones, the constant included) by orthogonal matching pursuit
      (:func:`sparsopt.solvers.omp`) with at most ``sparsity`` terms. It costs
      ``O(n_samples n^max_degree)`` memory and OMP's Gram matrix of the features,
      ``O(n^(2 max_degree))`` (both together above 2 GiB are refused with a
      ``ValueError``), and finds only low-degree terms.

    Inputs are read as bits: an entry is 1 when it is greater than 0.5 (0/1 and boolean
    data are read exactly, ``{-1, +1}`` data maps +1 to 1), so any real data is accepted.

    Parameters
    ----------
    n_bits : int, default=None
        Number of binary inputs (at most 62); needed by :meth:`query_points`, otherwise
        taken from ``X`` (and checked against it when given).
    sparsity : int, default=10
        Expected number of non-zero Walsh coefficients (the ``K`` of SPRIGHT; the number of
        OMP steps on the regression path).
    n_hash_bits : int, default=None
        ``b`` of SPRIGHT (``2^b`` bins per group); default ``ceil(log2(sparsity)) + 1``,
        at most ``n_bits`` (and ``n_bits // n_groups`` with ``hash="disjoint"``).
    n_groups : int, default=3
        Hashing groups of SPRIGHT.
    hash : {"random", "disjoint"}, default="random"
        Hashing matrices of SPRIGHT.
    delays : {"identity", "nso"}, default="identity"
        Delays of SPRIGHT: ``"nso"`` (with ``n_offsets``) for noisy targets.
    n_offsets : int, default=None
        Random offsets of the NSO delays (default 3).
    noise : float, default=None
        Noise variance of one target for the peeling thresholds; ``None`` estimates it.
    max_iter : int, default=50
        Maximum number of peeling rounds.
    max_degree : int, default=2
        Highest degree of the Walsh features on the regression path.
    random_state : int, default=0
        Seeds the SPRIGHT design; :meth:`query_points` and :meth:`fit` must see the same
        value for ``fit`` to recognise the points (an int, so that the design is
        reproducible).
    engine : {"auto", "numpy", "numba"}, default=None
        Kernel backend.

    Attributes
    ----------
    indices_ : ndarray of shape (n_terms,), dtype int64
        Bit-packed frequencies of the fitted expansion, sorted.
    coef_ : ndarray of shape (n_terms,)
        Their coefficients (the constant term, frequency 0, included when present).
    intercept_ : float
        The coefficient of frequency 0 (also in ``coef_``; 0.0 when absent). ``predict``
        uses ``coef_`` only.
    n_bits_ : int
        Number of binary inputs seen in ``fit``.
    fit_path_ : {"peeling", "regression"}
        Which path ``fit`` took.
    resolved_ : bool
        Whether peeling resolved every bin (False on the regression path).
    n_iter_ : int
        Peeling rounds, or OMP steps.
    converged_ : bool
        Peeling: same as ``resolved_``; regression: True.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen in ``fit``, when ``X`` has string column names.

    See Also
    --------
    sparsopt.transforms.spright : The peeling decoder as a function.

    References
    ----------
    .. [1] X. Li, J. K. Bradley, S. Pawar and K. Ramchandran, "The SPRIGHT algorithm for
       robust sparse Hadamard transforms", arXiv:1508.06336 (2015).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.datasets import make_sparse_walsh
    >>> from sparsopt.transforms import SparseWHT
    >>> query, k, v = make_sparse_walsh(16, 8, random_state=0)
    >>> est = SparseWHT(n_bits=16, sparsity=8, random_state=0)
    >>> X = est.query_points()
    >>> X.shape[0] < 2**16 // 10
    True
    >>> est.fit(X, query(X)).fit_path_
    'peeling'
    >>> bool(np.array_equal(est.indices_, k)), bool(np.allclose(est.coef_, v))
    (True, True)
    >>> X_new = np.random.default_rng(0).integers(0, 2, size=(5, 16))
    >>> bool(np.allclose(est.predict(X_new), query(X_new)))
    True
    """

    _parameter_constraints = {
        "n_bits": [Interval(Integral, 1, MAX_BITS, closed="both"), None],
        "sparsity": [Interval(Integral, 1, None, closed="left")],
        "n_hash_bits": [Interval(Integral, 1, 30, closed="both"), None],
        "n_groups": [Interval(Integral, 1, None, closed="left")],
        "hash": [StrOptions({"random", "disjoint"})],
        "delays": [StrOptions({"identity", "nso"})],
        "n_offsets": [Interval(Integral, 1, None, closed="left"), None],
        "noise": [Interval(Real, 0, None, closed="left"), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "max_degree": [Interval(Integral, 0, None, closed="left")],
        "random_state": [Interval(Integral, 0, 2**32 - 1, closed="both")],
        "engine": [StrOptions({"auto", "numpy", "numba"}), None],
    }

    def __init__(self, n_bits=None, sparsity=10, *, n_hash_bits=None, n_groups=3,
                 hash="random", delays="identity", n_offsets=None, noise=None, max_iter=50,
                 max_degree=2, random_state=0, engine=None):
        self.n_bits = n_bits
        self.sparsity = sparsity
        self.n_hash_bits = n_hash_bits
        self.n_groups = n_groups
        self.hash = hash
        self.delays = delays
        self.n_offsets = n_offsets
        self.noise = noise
        self.max_iter = max_iter
        self.max_degree = max_degree
        self.random_state = random_state
        self.engine = engine

    def _params(self, n_bits):
        """The checked SPRIGHT parameters for ``n_bits`` inputs:
        ``(sparsity, n_hash_bits, n_groups, n_offsets)``."""
        return _check_params(n_bits, self.sparsity, self.n_hash_bits, self.n_groups,
                             self.hash, self.delays, self.n_offsets, self.noise,
                             owner="SparseWHT")[1:]

    def _plan(self, n_bits, b, C, R):
        return _make_plan(n_bits, b, C, self.hash, self.delays, R,
                          check_random_state(int(self.random_state)), owner="SparseWHT")

    def query_points(self):
        """The distinct points at which SPRIGHT queries the function, in sorted order.

        Returns
        -------
        X : ndarray of shape (n_queries, n_bits), dtype int8
            0/1 points; ``n_queries <= n_groups * n_delays * 2 ** n_hash_bits``, with
            ``n_delays = n_offsets * (n_bits + 1)``.
        """
        self._validate_params()
        if self.n_bits is None:
            raise ValueError("SparseWHT.query_points: set n_bits (the number of binary "
                             "inputs) first.")
        _, b, C, R = self._params(self.n_bits)
        plan = self._plan(self.n_bits, b, C, R)
        return unpack_bits(np.unique(plan.points()), self.n_bits)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the sparse Walsh expansion.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bits)
            Binary inputs (entries > 0.5 read as 1). Exactly the points of
            :meth:`query_points` (as a set) select the peeling path.
        y : array-like of shape (n_samples,)
            Function values.

        Returns
        -------
        self : SparseWHT
        """
        try:  # the width first: a refused fit leaves a fitted estimator as it was
            self._check_width(_num_features(X))
        except TypeError:  # no width (a 1-D X...): validate_data says what is wrong
            pass
        X, y = self._validate_input(X, y)
        n = X.shape[1]
        dtype = X.dtype
        packed = pack_bits(X > 0.5)
        y = y.astype(dtype, copy=False)
        self.n_bits_ = n
        uniq, inverse = np.unique(packed, return_inverse=True)
        sparsity, b, C, R = self._params(n)
        plan = design = None
        # a design has between 2**b (one group) and C (n + 1) R 2**b distinct points: only
        # then is it built and compared (a large sparsity on small data builds nothing)
        if 0.9 * 2**b <= uniq.size <= 1.1 * C * (n + 1) * R * 2**b:
            try:
                plan = self._plan(n, b, C, R)
            except ValueError:  # disjoint hashing on too few bits: X is not its design
                plan = None
        if plan is not None:
            pts = plan.points()
            design = np.unique(pts)
        if design is not None and design.size == uniq.size \
                and np.array_equal(design, uniq):
            counts = np.bincount(inverse.ravel())
            y_mean = (np.bincount(inverse.ravel(), y) / counts).astype(dtype)
            samples = y_mean[np.searchsorted(design, pts)]
            res = _decode(plan, samples, sparsity=sparsity, noise=self.noise,
                          max_iter=self.max_iter, callback=None, verbose=None,
                          engine=self.engine, n_queries=design.size, hash=self.hash,
                          delays=self.delays, stacklevel=4)
            self.indices_ = res.indices
            self.coef_ = np.asarray(res.values, dtype=dtype)
            self.fit_path_ = "peeling"
            self.resolved_ = bool(res.resolved)
            self._store_result(res, objective=False)
        else:
            shared = 0 if design is None else int(np.count_nonzero(np.isin(uniq, design)))
            near = (design is not None and shared >= 0.9 * design.size
                    and uniq.size - shared <= 0.1 * design.size
                    and 2 * design.size <= 2**n)  # not a chance overlap in a small space
            if near:
                warnings.warn(
                    f"SparseWHT: X holds {shared} of the {design.size} query points of this "
                    f"design plus {uniq.size - shared} other points; peeling needs exactly "
                    "the points of query_points() (same n_bits, SPRIGHT parameters and "
                    "random_state). Falling back to sparse regression.", UserWarning,
                    stacklevel=3)
            elif _looks_like_design(uniq, n):
                warnings.warn(
                    "SparseWHT: X looks like the query points of a SPRIGHT design (most "
                    "points come with all their one-bit flips), but not of this one"
                    + ("" if design is None else
                       f" (it holds {shared} of its {design.size} points)")
                    + ". Peeling needs exactly the points of query_points() with the "
                    "same n_bits, SPRIGHT parameters (sparsity, n_hash_bits, n_groups, "
                    "hash, delays, n_offsets) and random_state as the fit. Falling back to "
                    "sparse regression.", UserWarning, stacklevel=3)
            self._fit_regression(packed, y, n, dtype)
        hit = np.flatnonzero(self.indices_ == 0)
        self.intercept_ = float(self.coef_[hit[0]]) if hit.size else 0.0
        return self

    def _check_width(self, n):
        if n > MAX_BITS:
            raise ValueError(f"SparseWHT: X has {n} features; at most {MAX_BITS} binary inputs "
                             "are supported (points are bit-packed into int64).")
        if self.n_bits is not None and n != self.n_bits:
            raise ValueError(f"SparseWHT: X has {n} features but n_bits={self.n_bits}.")

    def _fit_regression(self, packed, y, n, dtype):
        from ..solvers import omp

        n_samples = packed.size
        n_feat = sum(math.comb(n, d) for d in range(min(self.max_degree, n) + 1))
        feat_bytes = n_feat * n_samples * dtype.itemsize
        gram_bytes = n_feat * n_feat * dtype.itemsize
        if feat_bytes + gram_bytes > _MAX_FEATURE_BYTES:
            raise ValueError(
                f"SparseWHT: the regression path (X is not the design of query_points()) "
                f"would build {n_feat} Walsh features of degree <= max_degree="
                f"{self.max_degree} for {n_samples} samples ({feat_bytes / 2**30:.1f} GiB) "
                f"and OMP's Gram matrix of them ({gram_bytes / 2**30:.1f} GiB); lower "
                "max_degree, or fit on the points of query_points() (the peeling path).")
        freqs = _low_degree_frequencies(n, self.max_degree)
        scale = np.sqrt(n_samples)
        # (n_feat, n_samples), scaled, built a chunk of frequencies at a time: the int64
        # temporaries of walsh_features stay below _CHUNK_BYTES
        atoms = np.empty((n_feat, n_samples), dtype=dtype)
        step = max(1, _CHUNK_BYTES // (8 * n_samples))
        for s in range(0, n_feat, step):
            chunk = walsh_features(packed, freqs[s:s + step], dtype=dtype).T
            np.divide(chunk, dtype.type(scale), out=atoms[s:s + step])
        n_terms = min(self.sparsity, freqs.size, n_samples)
        res = omp(y[None, :], atoms, n_nonzero_coefs=n_terms,
                  engine=self.engine)
        code = np.asarray(res.x[0]) / scale
        nz = np.flatnonzero(code)
        order = np.argsort(freqs[nz])
        self.indices_ = freqs[nz][order]
        self.coef_ = code[nz][order].astype(dtype)
        self.fit_path_ = "regression"
        self.resolved_ = False
        self._store_result(res, objective=False)

    def predict(self, X):
        """Evaluate the sparse Walsh expansion.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bits)
            Binary inputs (entries > 0.5 read as 1).

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        packed = pack_bits(X > 0.5)
        return walsh_expansion(packed, self.indices_, self.coef_.astype(X.dtype),
                               engine=self.engine)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # inputs are read as bits (> 0.5), so continuous benchmark data scores poorly
        tags.regressor_tags.poor_score = True
        return tags
