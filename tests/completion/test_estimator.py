"""MatrixCompletion (the imputer) and select_rank."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sparsopt.completion import MatrixCompletion, RankSelection, select_rank
from sparsopt.datasets import make_low_rank_completion


def _dense(m=150, n=40, k=3, density=0.5, noise=0.0, seed=0, dtype=np.float64):
    X, U, V = make_low_rank_completion(m, n, k, density=density, noise=noise,
                                       output="dense", dtype=dtype, random_state=seed)
    return X, U @ V.T


def test_fit_transform_fills_only_nan_and_recovers():
    X, M = _dense()
    imp = MatrixCompletion(rank=3, random_state=0)
    Xf = imp.fit_transform(X)
    obs = ~np.isnan(X)
    np.testing.assert_array_equal(Xf[obs], X[obs])
    assert np.abs(Xf - M).max() < 1e-4  # tol=1e-6 on the observed residual
    assert imp.U_.shape == (150, 3) and imp.V_.shape == (40, 3)
    assert imp.converged_ and imp.n_iter_ >= 1
    assert imp.objective_history_.size == imp.n_iter_
    # transform of the training rows re-solves them on V_: same completion
    np.testing.assert_allclose(imp.transform(X), Xf, atol=1e-5)


def test_transform_new_rows_and_all_missing_rows():
    X, M = _dense(200, 30, 2, density=0.6)
    imp = MatrixCompletion(rank=2, random_state=0).fit(X[:150])
    new = X[150:].copy()
    new[0] = np.nan  # a row with nothing observed: filled by the (zero) mean
    out = imp.transform(new)
    assert not np.isnan(out).any()
    np.testing.assert_allclose(out[1:], M[151:], atol=1e-5)
    np.testing.assert_array_equal(out[0], 0.0)
    centred = MatrixCompletion(rank=3, center=True, random_state=0).fit(X[:150] + 5.0)
    np.testing.assert_allclose(centred.transform(new + 5.0)[0], centred.mean_)


def test_float32_preserved():
    X, M = _dense(dtype=np.float32)
    imp = MatrixCompletion(rank=3, random_state=0)
    out = imp.fit_transform(X)
    assert out.dtype == np.float32 and imp.U_.dtype == np.float32
    assert imp.transform(X).dtype == np.float32
    assert np.abs(out - M).max() < 1e-2


def test_score_is_negative_rmse_three_ways():
    X, M = _dense(noise=0.0)
    imp = MatrixCompletion(rank=3, random_state=0).fit(X)
    s_true = imp.score(X, M)  # y = the true matrix: NaN entries of X compared
    assert -1e-5 < s_true <= 0
    mask = np.zeros(X.shape, dtype=bool)
    mask[::3, ::2] = True
    s_mask = imp.score(M, mask=mask)
    assert -1e-4 < s_mask <= 0
    s_rand = imp.score(X)
    assert -1e-3 < s_rand <= 0
    bad = MatrixCompletion(rank=1, random_state=0).fit(X)
    assert bad.score(X, M) < s_true  # higher is better
    with pytest.raises(ValueError, match="mask must be a boolean array"):
        imp.score(X, mask=np.ones((2, 2), bool))
    with pytest.raises(ValueError, match="no held-out entry"):
        imp.score(M, mask=np.zeros(X.shape, bool))


def test_in_a_pipeline_and_a_grid_search():
    X, M = _dense(300, 20, 2, density=0.7, noise=0.01, seed=1)
    y = M[:, 0] - 2 * M[:, 1]
    X[:, :2] = M[:, :2]  # targets from fully observed features
    pipe = make_pipeline(MatrixCompletion(rank=2, random_state=0), Ridge(alpha=1e-6))
    pipe.fit(X[:200], y[:200])
    assert pipe.score(X[200:], y[200:]) > 0.99
    search = GridSearchCV(MatrixCompletion(random_state=0), {"rank": [1, 2, 4]}, cv=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X)
    assert search.best_params_["rank"] == 2


def test_bad_rank_and_missing_rows_are_clear_errors():
    X, _ = _dense(20, 6, 2)
    with pytest.raises(ValueError, match="rank=6 must be smaller"):
        MatrixCompletion(rank=6).fit(X)
    with pytest.raises(ValueError, match="rank"):
        MatrixCompletion(rank=-1).fit(X)
    bad = X.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match=r"MatrixCompletion: X has rows without any observed "
                                         r"\(non-NaN\) entry \(rows 3\)"):
        MatrixCompletion(rank=2).fit(bad)
    bad = X.copy()
    bad[:, 1] = np.nan
    with pytest.raises(ValueError, match="X has columns without any observed"):
        MatrixCompletion(rank=2).fit(bad)
    bad = X.copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity|inf"):
        MatrixCompletion(rank=2).fit(bad)
    with pytest.raises(ValueError, match="no observed entries"):
        MatrixCompletion(rank=1).fit(np.full((4, 3), np.nan))


def test_clone_and_params_untouched():
    X, _ = _dense()
    imp = MatrixCompletion(rank=3, random_state=0)
    before = imp.get_params()
    imp.fit(X)
    assert imp.get_params() == before
    assert clone(imp).get_params() == before


def test_select_rank_finds_the_true_rank():
    X, _, _ = make_low_rank_completion(150, 120, 3, density=0.3, noise=0.1,
                                       random_state=0)
    sel = select_rank(X, [1, 2, 3, 5, 8], cv=3, random_state=0)
    assert isinstance(sel, RankSelection)
    assert sel.best_rank == 3
    assert sel.rmse.shape == (5, 3) and np.all(np.isfinite(sel.rmse))
    assert sel.mean_rmse[2] < 0.2  # about the noise level
    with pytest.raises(ValueError, match="rank"):
        select_rank(X, [200])
    with pytest.raises(ValueError, match="cv"):
        select_rank(X, [2], cv=1)
