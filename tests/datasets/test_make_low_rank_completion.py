"""make_low_rank_completion: shapes, sampling rate, values, outputs, validation."""

import numpy as np
import pytest
import scipy.sparse as sp

from sparsopt.datasets import make_low_rank_completion
from sparsopt.datasets._completion_problem import _sample_positions


def test_sparse_output_values_are_entries_of_u_vt():
    X, U, V = make_low_rank_completion(60, 50, 3, density=0.3, random_state=0)
    assert sp.issparse(X) and X.shape == (60, 50)
    r, c = X.nonzero()
    np.testing.assert_allclose(X.toarray()[r, c], np.einsum("ij,ij->i", U[r], V[c]))
    assert 0.25 < X.nnz / 3000 < 0.35


def test_dense_output_has_nan_at_missing_and_noise():
    X, U, V = make_low_rank_completion(40, 30, 2, density=0.5, noise=0.5, output="dense",
                                       dtype=np.float32, random_state=1)
    assert X.dtype == np.float32 and U.dtype == np.float32
    obs = ~np.isnan(X)
    resid = X[obs] - (U @ V.T)[obs]
    assert 0.3 < resid.std() < 0.7


def test_large_sampler_is_distinct_sorted_and_at_the_rate():
    rng = np.random.default_rng(0)
    pos = _sample_positions(50_000_000, 0.001, rng)
    assert np.all(np.diff(pos) > 0) and pos.max() < 50_000_000
    assert abs(pos.size - 50_000) < 1_500


def test_seeded_and_validated():
    a = make_low_rank_completion(20, 10, 2, density=0.5, random_state=3)[0]
    b = make_low_rank_completion(20, 10, 2, density=0.5, random_state=3)[0]
    assert (a != b).nnz == 0
    with pytest.raises(ValueError, match="density"):
        make_low_rank_completion(5, 5, 1, density=0.0)
    with pytest.raises(ValueError, match="output"):
        make_low_rank_completion(5, 5, 1, output="coo")
    with pytest.raises(ValueError, match="rank"):
        make_low_rank_completion(5, 5, 0)
