"""SPRIGHT (``sparsopt.transforms.spright``): recovery, the spec's reproductions R4-a/b/c,
the query protocol and bad input."""

import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sparsopt.datasets import make_sparse_walsh
from sparsopt.exceptions import ConvergenceWarning
from sparsopt.transforms import (
    SprightResult,
    fwht,
    pack_bits,
    spright,
    unpack_bits,
    walsh_expansion,
    walsh_features,
)


def _nmse(res, k, v):
    est = dict(zip(res.indices.tolist(), res.values.tolist()))
    true = dict(zip(k.tolist(), v.tolist()))
    keys = set(est) | set(true)
    err = sum((est.get(q, 0.0) - true.get(q, 0.0)) ** 2 for q in keys)
    return err / sum(a * a for a in true.values())


# ------------------------------------------------------------------ recovery


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_noiseless_recovery_matches_the_dense_transform(engine):
    # a dense function on 10 bits whose spectrum (by the dense fwht) is 12-sparse
    rng = np.random.default_rng(0)
    n, K = 10, 12
    X = np.zeros(2**n)
    X[rng.choice(2**n, K, replace=False)] = rng.choice([-2.0, -1.0, 0.5, 3.0], K)
    x = fwht(X)  # x[m] = sum_k X[k] (-1)^<m,k>
    res = spright(lambda P: x[pack_bits(P)], n, K, random_state=1, engine=engine)
    assert isinstance(res, SprightResult)
    assert res.resolved and res.converged and res.stopped_by == "tol"
    np.testing.assert_array_equal(res.indices, np.flatnonzero(X))
    np.testing.assert_allclose(res.values, X[res.indices], atol=1e-12)
    assert res.x is res.values and res.n_rounds == res.n_iter
    assert res.n_queries < 2**n


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype):
    query, k, v = make_sparse_walsh(16, 20, dtype=dtype, random_state=0)
    res = spright(query, 16, 20, random_state=0)
    assert res.values.dtype == dtype
    np.testing.assert_array_equal(res.indices, k)
    np.testing.assert_allclose(res.values, v, rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_float32_keeps_small_terms_next_to_a_large_one(engine):
    # terms 1/2000 of the constant: the float32 samples hold them exactly, and the
    # rounding floor of the zero-ton test (relative to the samples' magnitude, a few
    # b eps) must not hide them (a floor of 1e4 eps of the largest bin did, resolved=True)
    k = np.array([0, 5, 300, 1025])
    v = np.array([1000.0, 1.0, -1.0, 0.5])
    res = spright(lambda X: walsh_expansion(X, k, v).astype(np.float32), 12, 4,
                  random_state=0, engine=engine)
    assert res.resolved and res.values.dtype == np.float32
    np.testing.assert_array_equal(res.indices, k)
    np.testing.assert_allclose(res.values, v, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("dtype, scale", [(np.float32, 1e22), (np.float32, 1e-30),
                                          (np.float64, 1e155), (np.float64, 1e-160),
                                          (np.float64, 1e300)])
def test_amplitudes_far_from_one(dtype, scale):
    # the samples are scaled by a power of two before the energies are squared: the same
    # spectrum (times scale) whatever the magnitude, not an empty one marked resolved
    query, k, v = make_sparse_walsh(8, 3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = spright(lambda X: (query(X) * scale).astype(dtype), 8, 3, random_state=0)
        ref = spright(lambda X: query(X).astype(dtype), 8, 3, random_state=0)
    assert res.resolved and res.values.dtype == dtype
    np.testing.assert_array_equal(res.indices, k)
    np.testing.assert_allclose(res.values, ref.values * dtype(scale), rtol=1e-5)
    # the threshold is an energy (a square) in the units of the queries: it under- or
    # overflows float64 at the extremes, where the decoding itself ran on scaled samples
    assert res.info["threshold"] >= 0 and not np.isnan(res.info["threshold"])


def test_given_noise_is_in_the_units_of_the_queries():
    # noise is the variance of one query, whatever power of two the samples are scaled by
    query, k, v = make_sparse_walsh(10, 8, random_state=0)
    base = spright(query, 10, 8, noise=1e-6, random_state=0)
    big = spright(lambda X: 2.0**40 * query(X), 10, 8, noise=1e-6 * 2.0**80,
                  random_state=0)
    assert base.resolved and big.resolved
    np.testing.assert_array_equal(big.indices, base.indices)
    np.testing.assert_allclose(big.values, 2.0**40 * base.values, rtol=1e-12)
    assert big.info["noise_var"] == pytest.approx(1e-6 * 2.0**80)
    assert big.info["threshold"] == pytest.approx(base.info["threshold"] * 2.0**80)


def test_disjoint_hashing_when_blocks_fit():
    query, k, v = make_sparse_walsh(24, 40, random_state=2)
    res = spright(query, 24, 40, hash="disjoint", random_state=2)
    assert res.info["hash"] == "disjoint" and res.info["n_hash_bits"] * 3 <= 24
    np.testing.assert_array_equal(res.indices, k)


def test_uniform_magnitudes_and_given_noise():
    query, k, v = make_sparse_walsh(18, 30, magnitude=(0.5, 2.0), snr_db=15.0,
                                    random_state=4)
    res = spright(query, 18, 30, delays="nso", noise=query.noise_var, random_state=4)
    np.testing.assert_array_equal(res.indices, k)
    assert res.info["noise_var"] == query.noise_var
    assert _nmse(res, k, v) < 0.01


def test_queries_are_distinct_and_counted():
    query, _, _ = make_sparse_walsh(14, 10, random_state=0)
    seen = []

    def counting(P):
        seen.append(P.copy())
        return query(P)

    res = spright(counting, 14, 10, random_state=0)
    assert len(seen) == 1  # one batched call
    P = seen[0]
    assert P.dtype == np.int8 and P.shape == (res.n_queries, 14)
    assert np.unique(pack_bits(P)).size == res.n_queries
    # identity delays share the point 0 (l = 0, d = 0) between the groups
    assert res.n_queries < res.info["n_samples"]


def test_result_pickles_and_reports_its_design():
    query, _, _ = make_sparse_walsh(12, 8, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = spright(query, 12, 8, random_state=1)
    assert res.resolved
    back = pickle.loads(pickle.dumps(res))
    np.testing.assert_array_equal(back.indices, res.indices)
    assert back.resolved == res.resolved and back.n_queries == res.n_queries
    info = res.info
    assert info["n_bins"] == 2 ** info["n_hash_bits"] == 16  # ceil(log2 8) + 1 = 4
    assert info["n_delays"] == 13 and info["n_groups"] == 3
    assert info["load"] == 8 / 16
    assert all("n_found" in h for h in res.history)


def test_stalled_peeling_warns_and_is_not_resolved():
    query, k, _ = make_sparse_walsh(12, 200, random_state=0)
    with pytest.warns(ConvergenceWarning, match="stalled.*n_hash_bits"):
        res = spright(query, 12, 200, n_hash_bits=4, random_state=0)
    assert not res.resolved and not res.converged
    assert res.stopped_by == "stalled" and res.stop_crit > 0


def test_max_iter_reached_warns():
    query, _, _ = make_sparse_walsh(10, 24, random_state=0)
    with pytest.warns(ConvergenceWarning, match="max_iter = 1") as rec:
        res = spright(query, 10, 24, n_hash_bits=4, max_iter=1, random_state=0)
    # every bin must be resolved (tol = 0): the advice is max_iter, not "or tol"
    assert "Increase max_iter;" in str(rec[0].message)
    assert res.stopped_by == "max_iter" and res.n_rounds == 1 and not res.resolved


def test_engines_agree():
    query, _, _ = make_sparse_walsh(16, 30, snr_db=10.0, random_state=3)
    rs = [spright(query, 16, 30, delays="nso", noise=query.noise_var, random_state=3,
                  engine=e) for e in ("numpy", "numba")]
    # the same design (same random_state); the noise differs between the two calls
    assert rs[0].n_queries == rs[1].n_queries


# ------------------------------------------------------------------ reproductions


def test_r4a_noiseless_exact_recovery_with_the_spec_budget():
    """R4-a: N = 2^20, K = 100, b = 7, C = 3, identity delays: >= 9/10 exact recoveries
    using at most 8064 samples (< 1% of N)."""
    ok = 0
    for seed in range(10):
        query, k, v = make_sparse_walsh(20, 100, random_state=seed)
        res = spright(query, 20, 100, n_hash_bits=7, random_state=seed)
        assert res.info["n_samples"] == 3 * 21 * 128 == 8064
        assert res.n_queries <= 8064 and query.n_queries == res.n_queries
        ok += np.array_equal(res.indices, k) and np.allclose(res.values, v)
    assert ok >= 9, ok


@pytest.mark.parametrize("snr_db, lo, hi", [(-5.0, 0, 2), (5.0, 9, 10), (10.0, 9, 10)])
def test_r4b_nso_success_rate_across_the_phase_transition(snr_db, lo, hi):
    """R4-b: NSO delays with R = 3 (P = 63), N = 2^20, K = 100, b = 7: exact support
    recovery >= 9/10 at SNR >= +5 dB, <= 2/10 at -5 dB (SNR per query, the spec's
    definition); NMSE small above the transition."""
    ok, nmse = 0, []
    for seed in range(10):
        query, k, v = make_sparse_walsh(20, 100, snr_db=snr_db, random_state=seed)
        assert np.isclose(query.noise_var, np.sum(v**2) / 10 ** (snr_db / 10))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = spright(query, 20, 100, n_hash_bits=7, delays="nso", n_offsets=3,
                          random_state=seed)
        assert res.info["n_samples"] == 3 * 63 * 128
        ok += np.array_equal(res.indices, k)
        nmse.append(_nmse(res, k, v))
    assert lo <= ok <= hi, ok
    if snr_db >= 5:
        assert np.median(nmse) < 0.01, nmse


@pytest.mark.parametrize("delays, R", [("identity", 1), ("nso", 2), ("nso", 3)])
def test_r4c_sample_count_is_c_r_n_plus_1_b(delays, R):
    """R4-c: the samples grow as C R (n + 1) B, linearly in n at fixed K (small n here)."""
    K, b, C = 20, 6, 3
    counts = []
    for n in (12, 14, 16, 18):
        query, k, _ = make_sparse_walsh(n, K, random_state=n)
        kw = {} if delays == "identity" else {"n_offsets": R}
        res = spright(query, n, K, n_hash_bits=b, n_groups=C, delays=delays,
                      random_state=n, **kw)
        assert res.info["n_samples"] == C * R * (n + 1) * 2**b
        assert res.info["n_delays"] == R * (n + 1)
        assert res.n_queries <= res.info["n_samples"]
        np.testing.assert_array_equal(res.indices, k)
        counts.append(res.info["n_samples"])
    assert np.all(np.diff(counts) == C * R * 2 * 2**b)  # +2 bits: +2 C R B samples


# ------------------------------------------------------------------ helpers


def test_pack_unpack_and_walsh_helpers():
    rng = np.random.default_rng(0)
    P = rng.integers(0, 2, size=(30, 9))
    packed = pack_bits(P)
    np.testing.assert_array_equal(unpack_bits(packed, 9), P)
    idx = np.array([0, 3, 256, 511])
    F = walsh_features(P, idx)
    np.testing.assert_array_equal(F, walsh_features(packed, idx))
    ref = (-1.0) ** ((P[:, None, :] * unpack_bits(idx, 9)[None].astype(int)).sum(-1))
    np.testing.assert_array_equal(F, ref)
    vals = np.array([1.0, -2.0, 0.5, 3.0])
    for engine in ("numpy", "numba"):
        np.testing.assert_allclose(walsh_expansion(P, idx, vals, engine=engine), F @ vals)
    with pytest.raises(ValueError, match="only 0 and 1"):
        pack_bits([[0, 2]])
    with pytest.raises(ValueError, match="n_bits"):
        pack_bits(np.zeros((2, 63)))
    with pytest.raises(ValueError, match="values must have the shape"):
        walsh_expansion(P, idx, vals[:2])
    # points outside [0, 2**n_bits), fractions and 2-D input are refused, not wrapped
    for bad, err in (([-1], ValueError), ([16], ValueError), ([1.7], TypeError),
                     ([[1, 2]], TypeError)):
        with pytest.raises(err, match="unpack_bits: packed"):
            unpack_bits(bad, 4)
    assert unpack_bits([], 4).shape == (0, 4)
    with pytest.raises(TypeError, match="walsh_expansion: values must be real"):
        walsh_expansion(P, idx, vals + 1j)
    with pytest.raises(TypeError, match="walsh_features: dtype must be"):
        walsh_features(P, idx, dtype=int)
    assert walsh_features(P, idx, dtype=np.float32).dtype == np.float32


def test_make_sparse_walsh_noise_definition():
    query, k, v = make_sparse_walsh(10, 5, snr_db=0.0, random_state=0)
    assert np.isclose(query.noise_var, np.sum(v**2))
    P = np.zeros((20000, 10), dtype=np.int8)
    f = query(P)
    assert abs(np.var(f) / query.noise_var - 1) < 0.05
    assert abs(np.mean(f) - v.sum()) < 0.1
    with pytest.raises(ValueError, match="sparsity"):
        make_sparse_walsh(3, 9)


# ------------------------------------------------------------------ bad input


def _q(n):
    return make_sparse_walsh(n, 3, random_state=0)[0]


def test_bad_input_messages():
    q = _q(10)
    with pytest.raises(ValueError, match="n_bits must be between 1 and 62"):
        spright(q, 63, 3)
    with pytest.raises(ValueError, match="sparsity must be >= 1"):
        spright(q, 10, 0)
    with pytest.raises(TypeError, match="sparsity must be an integer"):
        spright(q, 10, 2.5)
    # a float is a TypeError for every integer parameter, a bad range a ValueError
    for kw in ({"n_groups": 2.0}, {"n_hash_bits": 2.0}, {"n_hash_bits": True},
               {"n_offsets": 2.0, "delays": "nso"}):
        name = next(iter(kw))
        with pytest.raises(TypeError, match=f"spright: {name} must be an integer, got"):
            spright(q, 10, 3, **kw)
    with pytest.raises(ValueError, match="n_groups must be >= 1, got 0"):
        spright(q, 10, 3, n_groups=0)
    with pytest.raises(ValueError, match="n_offsets must be >= 1, got 0"):
        spright(q, 10, 3, n_offsets=0, delays="nso")
    with pytest.raises(ValueError, match="n_groups \\* n_hash_bits <= n_bits.*smaller n_hash"):
        spright(q, 10, 3, hash="disjoint", n_hash_bits=4)
    with pytest.raises(ValueError, match="at most n_groups = 2 groups \\(n_hash_bits is alr"):
        spright(lambda X: np.zeros(len(X)), 2, 1, hash="disjoint")
    with pytest.raises(ValueError, match="hash must be"):
        spright(q, 10, 3, hash="bogus")
    with pytest.raises(ValueError, match="delays must be"):
        spright(q, 10, 3, delays="bogus")
    with pytest.raises(ValueError, match="n_offsets applies to delays='nso'"):
        spright(q, 10, 3, n_offsets=2)
    with pytest.raises(ValueError, match="noise must be"):
        spright(q, 10, 3, noise=-1.0)
    with pytest.raises(ValueError, match="n_hash_bits"):
        spright(q, 10, 3, n_hash_bits=11)
    with pytest.raises(TypeError, match="query must be callable"):
        spright(np.zeros(4), 10, 3)
    with pytest.raises(ValueError, match="random_state must be"):
        spright(q, 10, 3, random_state="a")
    with pytest.raises(ValueError, match="engine must be one of \\('auto', 'numpy'"):
        spright(q, 10, 3, engine="bogus")
    # the default n_hash_bits has the cap of an explicit one (not a 2**32-bin request)
    with pytest.raises(ValueError, match="n_hash_bits = 32 .*at most 2\\*\\*30"):
        spright(q, 40, 2**31)


@pytest.mark.parametrize("bad, match", [
    (lambda P: np.zeros(P.shape[0] + 1), "shape \\(n_queries,\\)"),
    (lambda P: np.zeros((P.shape[0], 1)), "shape \\(n_queries,\\)"),
    (lambda P: np.full(P.shape[0], np.nan), "non-finite"),
    (lambda P: np.r_[np.inf, np.zeros(P.shape[0] - 1)], "non-finite"),
    (lambda P: np.zeros(P.shape[0], dtype=complex), "real numbers"),
])
def test_query_returning_garbage_is_refused(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        spright(bad, 10, 3)


@settings(max_examples=25, deadline=None)
@given(n_bits=st.one_of(st.integers(-5, 0), st.integers(63, 200)),
       sparsity=st.integers(-5, 0))
def test_out_of_range_sizes_are_refused(n_bits, sparsity):
    q = _q(10)
    with pytest.raises(ValueError, match="n_bits"):
        spright(q, n_bits, 3)
    with pytest.raises(ValueError, match="sparsity"):
        spright(q, 10, sparsity)


def test_a_spectrum_far_denser_than_sparsity_is_not_resolved_silently():
    # 40-500 terms hashed into 32 bins: peeling stalls (ConvergenceWarning) or, when the
    # terms look like noise, every bin "resolves" with no term (the UserWarning); never
    # silently
    n_resolved = 0
    for K in (40, 100, 500):
        for seed in range(4):
            query, k, v = make_sparse_walsh(16, K, random_state=seed)
            with warnings.catch_warnings(record=True) as rec:
                warnings.simplefilter("always")
                res = spright(query, 16, 10, random_state=seed)
            kinds = {w.category for w in rec}
            if res.resolved:
                n_resolved += 1
                assert kinds == {UserWarning}, (K, seed)
                assert res.indices.size < 10 / 4
                assert "denser than sparsity = 10" in str(rec[0].message)
            else:
                assert ConvergenceWarning in kinds, (K, seed)
    assert n_resolved >= 1  # the noise-like case does occur here
    # a sparse spectrum at 0 dB (NSO) is recovered without that warning
    query, k, v = make_sparse_walsh(16, 10, snr_db=0.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = spright(query, 16, 10, delays="nso", random_state=0)
    np.testing.assert_array_equal(res.indices, k)
    # a zero function is resolved, empty, quietly
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert spright(lambda X: np.zeros(len(X)), 12, 4).indices.size == 0
