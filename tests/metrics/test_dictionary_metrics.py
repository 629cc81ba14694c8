"""Dictionary recovery metrics: the ||C D^T||_4^4 error and atom matching."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sparsopt.metrics import atom_matching_error, atom_recovery_rate, dictionary_recovery_error


def _orthogonal(n, seed):
    Q, R = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    return Q * np.where(np.diag(R) < 0, -1.0, 1.0)


def _signed_permutation(n, seed):
    rng = np.random.default_rng(seed + 1)
    return np.eye(n)[rng.permutation(n)] * rng.choice([-1.0, 1.0], size=(n, 1))


dims = st.integers(1, 9)
seeds = st.integers(0, 2**31 - 1)


# ------------------------------------------------------------------ dictionary_recovery_error

@settings(max_examples=40, deadline=None)
@given(n=dims, seed=seeds)
def test_recovery_error_is_zero_for_signed_permutations(n, seed):
    D = _orthogonal(n, seed)
    P = _signed_permutation(n, seed)
    assert dictionary_recovery_error(P @ D, D) < 1e-12
    assert dictionary_recovery_error(D, P @ D) < 1e-12


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 9), seed=seeds)
def test_recovery_error_invariant_to_signed_permutations_and_symmetric(n, seed):
    D = _orthogonal(n, seed)
    C = _orthogonal(n, seed + 12345)
    P, Q = _signed_permutation(n, seed), _signed_permutation(n, seed + 7)
    e = dictionary_recovery_error(C, D)
    assert 0.0 <= e <= 1.0
    assert dictionary_recovery_error(P @ C, D) == pytest.approx(e, abs=1e-12)
    assert dictionary_recovery_error(C, Q @ D) == pytest.approx(e, abs=1e-12)
    assert dictionary_recovery_error(D, C) == pytest.approx(e, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(phi=st.floats(-np.pi, np.pi))
def test_recovery_error_of_a_plane_rotation(phi):
    """C = R(phi), D = I: err = 1 - (cos^4 + sin^4) = sin(2 phi)^2 / 2."""
    c, s = np.cos(phi), np.sin(phi)
    R = np.array([[c, -s], [s, c]])
    assert dictionary_recovery_error(R, np.eye(2)) == pytest.approx(
        np.sin(2 * phi) ** 2 / 2, abs=1e-12)


def test_recovery_error_of_random_guess_matches_expectation():
    n = 20
    errs = [dictionary_recovery_error(_orthogonal(n, s), _orthogonal(n, s + 1000))
            for s in range(50)]
    assert np.mean(errs) == pytest.approx(1 - 3 / (n + 2), abs=0.01)


def test_recovery_error_sklearn_orientation_and_paper_formula():
    """Paper: err(A) = | ||A D0||_4^4 / N - 1 | with D0's atoms as columns."""
    D0 = _orthogonal(5, 3)  # atoms as columns (paper)
    A = _orthogonal(5, 4)   # demixing matrix, rows are atoms
    paper = abs(np.sum((A @ D0) ** 4) / 5 - 1)
    assert dictionary_recovery_error(A, D0.T) == pytest.approx(paper, abs=1e-14)


def test_recovery_error_fewer_learned_atoms():
    D = _orthogonal(6, 0)
    assert dictionary_recovery_error(-D[[4, 1]], D) < 1e-12
    mixed = (D[0] + D[1]) / np.sqrt(2)
    assert dictionary_recovery_error(mixed[None], D) == pytest.approx(0.5)


def test_recovery_error_float32_input():
    D = _orthogonal(6, 0)
    e = dictionary_recovery_error(D.astype(np.float32), D.astype(np.float32))
    assert isinstance(e, float) and e < 1e-6


@pytest.mark.parametrize("C, T, match", [
    (np.eye(3), np.eye(4), "features"),
    (np.eye(4), np.eye(4)[:2], "only 2"),
    (np.ones((5, 4)) / 2, np.eye(4), "at most n_features"),
    (2 * np.eye(3), np.eye(3), "orthonormal"),
    (np.eye(3), np.ones((3, 3)), "true_components must be orthonormal"),
    (np.ones(3), np.eye(3), "dimension"),
])
def test_recovery_error_clear_errors(C, T, match):
    with pytest.raises(ValueError, match=match):
        dictionary_recovery_error(C, T)


def test_recovery_error_nan_and_atol():
    C = np.eye(3)
    C[0, 0] = np.nan
    with pytest.raises(ValueError, match="components contains NaN"):
        dictionary_recovery_error(C, np.eye(3))
    with pytest.raises(ValueError, match="true_components contains NaN"):
        dictionary_recovery_error(np.eye(3), C)
    slightly = np.eye(3) * (1 + 1e-3)
    with pytest.raises(ValueError, match="orthonormal"):
        dictionary_recovery_error(slightly, np.eye(3))
    assert dictionary_recovery_error(slightly, np.eye(3), atol=1e-2) == pytest.approx(
        (1 + 1e-3) ** 4 - 1)
    with pytest.raises(ValueError, match="atol"):
        dictionary_recovery_error(np.eye(3), np.eye(3), atol=-1.0)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 6), seed=seeds, scale=st.floats(1.01, 10))
def test_recovery_error_rejects_non_orthonormal(n, seed, scale):
    D = _orthogonal(n, seed)
    with pytest.raises(ValueError, match="orthonormal"):
        dictionary_recovery_error(scale * D, D)


# ------------------------------------------------------------------ atom matching

def test_atom_matching_known_values():
    true = np.eye(2)
    assert atom_matching_error(np.array([[0.0, -2.0], [1.0, 0.0], [1.0, 1.0]]), true) == 0.0
    assert atom_matching_error(np.array([[1.0, 1.0]]), true) == pytest.approx(
        1 - 1 / np.sqrt(2))
    assert atom_recovery_rate(np.array([[1.0, 1.0]]), true) == 0.0
    assert atom_recovery_rate(np.array([[1.0, 1.0]]), true, threshold=0.7) == 1.0
    assert atom_recovery_rate(np.array([[0.0, 3.0], [-1.0, 0.05]]), np.eye(3)[:2, :2]) == 1.0


@settings(max_examples=40, deadline=None)
@given(n_features=st.integers(2, 8), n_true=st.integers(1, 12), n_extra=st.integers(0, 5),
       seed=seeds)
def test_atom_metrics_invariances_overcomplete(n_features, n_true, n_extra, seed):
    rng = np.random.default_rng(seed)
    true = rng.standard_normal((n_true, n_features))
    # learned = the true atoms, rescaled, sign-flipped, shuffled, plus random extra atoms
    learned = true * rng.choice([-1.0, 1.0], (n_true, 1)) * rng.uniform(0.1, 10, (n_true, 1))
    learned = np.vstack([learned, rng.standard_normal((n_extra, n_features))])
    learned = learned[rng.permutation(len(learned))]
    assert atom_matching_error(learned, true) < 1e-12
    assert atom_recovery_rate(learned, true) == 1.0
    # a random dictionary: values in [0, 1], adding atoms never hurts
    other = rng.standard_normal((n_true, n_features))
    e = atom_matching_error(other, true)
    r = atom_recovery_rate(other, true, threshold=0.9)
    assert 0.0 <= e <= 1.0 and 0.0 <= r <= 1.0
    more = np.vstack([other, rng.standard_normal((3, n_features))])
    assert atom_matching_error(more, true) <= e + 1e-15
    assert atom_recovery_rate(more, true, threshold=0.9) >= r


@settings(max_examples=30, deadline=None)
@given(seed=seeds, t1=st.floats(0.01, 1.0), t2=st.floats(0.01, 1.0))
def test_recovery_rate_monotone_in_threshold(seed, t1, t2):
    rng = np.random.default_rng(seed)
    learned, true = rng.standard_normal((6, 3)), rng.standard_normal((5, 3))
    lo, hi = min(t1, t2), max(t1, t2)
    assert atom_recovery_rate(learned, true, threshold=lo) >= atom_recovery_rate(
        learned, true, threshold=hi)


def test_atom_metrics_zero_atoms_and_consistency_with_orthogonal_metric():
    D = _orthogonal(4, 0)
    learned = np.vstack([np.zeros((1, 4)), D[1:]])  # a zero learned atom matches nothing
    assert atom_recovery_rate(learned, D) == 0.75
    assert atom_matching_error(learned, D) == pytest.approx(
        0.25 * (1 - np.abs(D[0] @ D[1:].T).max()))
    with pytest.raises(ValueError, match="all-zero atom"):
        atom_matching_error(D, learned)
    P = _signed_permutation(4, 0)
    assert atom_matching_error(P @ D, D) < 1e-12 and dictionary_recovery_error(P @ D, D) < 1e-12


@pytest.mark.parametrize("func", [atom_matching_error, atom_recovery_rate])
def test_atom_metrics_clear_errors(func):
    with pytest.raises(ValueError, match="components has 3 features"):
        func(np.eye(3), np.eye(4))
    bad = np.eye(3)
    bad[1, 1] = np.inf
    with pytest.raises(ValueError, match="true_components contains NaN or infinity"):
        func(np.eye(3), bad)
    with pytest.raises(ValueError, match="dimension"):
        func(np.ones(3), np.eye(3))
    with pytest.raises(TypeError, match="numeric"):
        func(np.array([["a", "b"]]), np.eye(2))


@pytest.mark.parametrize("threshold, exc", [(0.0, ValueError), (1.5, ValueError),
                                            (-1, ValueError), ("high", TypeError)])
def test_recovery_rate_threshold_validation(threshold, exc):
    with pytest.raises(exc, match="threshold"):
        atom_recovery_rate(np.eye(2), np.eye(2), threshold=threshold)
