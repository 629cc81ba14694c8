"""``make_kronecker_problem``: the KroSBL paper's synthetic Kronecker-structured set-up."""

from __future__ import annotations

from functools import reduce

import numpy as np
import pytest

from sparsopt.datasets import make_kronecker_problem
from sparsopt.linalg import kron_apply


def test_default_shapes_and_support():
    factors, y, x = make_kronecker_problem(random_state=0)
    assert [f.shape for f in factors] == [(8, 15), (12, 15), (15, 15)]
    assert y.shape == (1440,) and x.shape == (3375,)
    assert np.count_nonzero(x) == 3**3
    assert all(f.dtype == np.float64 for f in factors) and y.dtype == x.dtype == np.float64


@pytest.mark.parametrize("ms, ns, k", [((4, 5), (6, 7), 2), ((3, 4, 5), (5, 6, 7), 3),
                                       ((6,), (10,), 4), ((2, 3, 2, 3), (4, 4, 4, 4), 2)])
def test_nnz_is_k_to_the_power_of_the_number_of_factors(ms, ns, k):
    factors, y, x = make_kronecker_problem(ms, ns, k, random_state=1)
    assert [f.shape for f in factors] == list(zip(ms, ns))
    assert y.shape == (int(np.prod(ms)),) and x.shape == (int(np.prod(ns)),)
    assert np.count_nonzero(x) == k ** len(ns)
    # Kronecker support: the C-order tensor of x is rank one with k non-zeros per mode
    T = x.reshape(ns)
    for i in range(len(ns)):
        other = tuple(j for j in range(len(ns)) if j != i)
        assert np.count_nonzero(np.any(T != 0, axis=other)) == k
        if len(ns) > 1:
            unfolding = np.moveaxis(T, i, 0).reshape(ns[i], -1)
            assert np.linalg.matrix_rank(unfolding) == 1


def test_noiseless_measurements_are_exact():
    factors, y, x, s2 = make_kronecker_problem((3, 4), (5, 6), 2, snr=None, random_state=2,
                                               return_noise_variance=True)
    assert s2 == 0.0
    np.testing.assert_allclose(y, reduce(np.kron, factors) @ x, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("snr", [5.0, 20.0, 30.0])
@pytest.mark.parametrize("is_complex", [False, True])
def test_snr_is_realised(snr, is_complex):
    factors, y, x, s2 = make_kronecker_problem(snr=snr, complex=is_complex, random_state=3,
                                               return_noise_variance=True)
    y0 = kron_apply(factors, x)
    M = y.shape[0]
    # sigma^2 = (||A x||^2 / M) / 10^(snr/10), exactly as documented
    assert s2 == pytest.approx(np.sum(np.abs(y0) ** 2) / M / 10 ** (snr / 10), rel=1e-12)
    noise = y - y0
    realised = 10 * np.log10(np.sum(np.abs(y0) ** 2) / np.sum(np.abs(noise) ** 2))
    assert realised == pytest.approx(snr, abs=0.5)
    assert np.mean(np.abs(noise) ** 2) == pytest.approx(s2, rel=0.15)
    if is_complex:
        # circularly-symmetric: real and imaginary parts carry half the power each
        assert np.mean(noise.real**2) == pytest.approx(s2 / 2, rel=0.2)
        assert np.mean(noise.imag**2) == pytest.approx(s2 / 2, rel=0.2)


def test_complex_problem():
    factors, y, x = make_kronecker_problem((3, 4), (5, 6), 2, complex=True, random_state=4)
    assert all(np.iscomplexobj(f) for f in factors)
    assert np.iscomplexobj(y) and np.iscomplexobj(x)
    assert np.count_nonzero(x) == 4
    assert np.all(np.abs(x[x != 0].imag) > 0)
    # unit-variance complex entries: E|a|^2 = 1
    F = make_kronecker_problem((200,), (200,), 2, complex=True, random_state=5)[0][0]
    assert np.mean(np.abs(F) ** 2) == pytest.approx(1.0, rel=0.05)


def test_snapshots_share_the_support():
    factors, Y, X, s2 = make_kronecker_problem((3, 4, 5), (5, 6, 7), 2, n_snapshots=4,
                                               random_state=6, return_noise_variance=True)
    assert Y.shape == (60, 4) and X.shape == (210, 4)
    support = X != 0
    assert np.all(support == support[:, :1]) and support[:, 0].sum() == 8
    assert not np.allclose(X[:, 0], X[:, 1])  # different values per snapshot
    assert s2 > 0
    # n_snapshots=1 is 2-D, None is 1-D
    assert make_kronecker_problem((3,), (5,), 2, n_snapshots=1, random_state=0)[1].shape == (3, 1)


def test_reproducible_with_random_state():
    a = make_kronecker_problem((3, 4), (5, 6), 2, random_state=7)
    b = make_kronecker_problem((3, 4), (5, 6), 2, random_state=np.random.RandomState(7))
    c = make_kronecker_problem((3, 4), (5, 6), 2, random_state=8)
    for u, v in zip(a[0] + list(a[1:]), b[0] + list(b[1:])):
        np.testing.assert_array_equal(u, v)
    assert not np.allclose(a[1], c[1])


def test_errors():
    with pytest.raises(ValueError, match="same \\(non-zero\\) length"):
        make_kronecker_problem((3, 4), (5, 6, 7))
    with pytest.raises(ValueError, match="same \\(non-zero\\) length"):
        make_kronecker_problem((), ())
    with pytest.raises(ValueError, match="n_nonzero = 6 exceeds the smallest factor size 5"):
        make_kronecker_problem((3, 4), (5, 6), 6)
    with pytest.raises(ValueError, match="n_nonzero must be >= 1"):
        make_kronecker_problem((3, 4), (5, 6), 0)
    with pytest.raises(TypeError, match="measurements must be an integer"):
        make_kronecker_problem((3.5, 4), (5, 6), 2)
    with pytest.raises(ValueError, match="unknowns must be >= 1"):
        make_kronecker_problem((3, 4), (0, 6), 2)
    with pytest.raises(ValueError, match="n_snapshots must be >= 1"):
        make_kronecker_problem((3, 4), (5, 6), 2, n_snapshots=0)
    with pytest.raises(ValueError, match="snr must be finite"):
        make_kronecker_problem((3, 4), (5, 6), 2, snr=np.inf)
