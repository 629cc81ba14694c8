"""Many fits in parallel through joblib's Dask backend (issue 22 item 3): the CV folds of
LassoCV/ElasticNetCV, GridSearchCV over a sparsopt estimator, SinkhornTransport on many
domains; plain joblib / scikit-learn code, equal to the sequential results."""

import os

import numpy as np
import pytest

pytest.importorskip("distributed", reason="joblib's Dask backend needs distributed")

import joblib  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from sparsopt.linear_model import ElasticNetCV, Lasso, LassoCV  # noqa: E402
from sparsopt.ot import SinkhornTransport  # noqa: E402
from sparsopt.utils.parallel import cluster_backend_active, joblib_n_jobs  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as c:
        yield c


def _data(n=60, p=15, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    w = np.zeros(p)
    w[:4] = [2.0, -1.5, 1.0, 0.5]
    return X, X @ w + 0.1 * rng.normal(size=n)


def _tasks_run(client):
    """Number of tasks the workers have finished (a work count, not a time)."""
    log = client.run(lambda dask_worker: len(dask_worker.state.log))
    return sum(log.values())


def test_backend_detection(client):
    assert not cluster_backend_active()
    with joblib.parallel_config(backend="dask"):
        assert cluster_backend_active()
        assert joblib_n_jobs(-1) == -1  # counts cluster workers: passed through


@pytest.mark.parametrize("Est, kw", [(LassoCV, {}), (ElasticNetCV, {"l1_ratio": [0.5, 1.0]})])
def test_cv_folds_on_dask_equal_sequential(client, Est, kw):
    X, y = _data()
    ref = Est(cv=3, n_alphas=8, **kw).fit(X, y)
    before = _tasks_run(client)
    with joblib.parallel_config(backend="dask"):
        est = Est(cv=3, n_alphas=8, **kw).fit(X, y)
    assert _tasks_run(client) > before  # the folds ran on the workers
    np.testing.assert_allclose(est.mse_path_, ref.mse_path_, rtol=1e-12)
    assert est.alpha_ == ref.alpha_
    assert getattr(est, "l1_ratio_", None) == getattr(ref, "l1_ratio_", None)
    np.testing.assert_array_equal(est.coef_, ref.coef_)


def test_cv_folds_threads_equal_sequential():
    X, y = _data(seed=1)
    ref = LassoCV(cv=3, n_alphas=8).fit(X, y)
    est = LassoCV(cv=3, n_alphas=8, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(est.mse_path_, ref.mse_path_)
    with joblib.parallel_config(n_jobs=2):  # n_jobs=None follows joblib, as scikit-learn
        est = LassoCV(cv=3, n_alphas=8).fit(X, y)
    np.testing.assert_array_equal(est.mse_path_, ref.mse_path_)


def test_grid_search_on_dask_equal_sequential(client):
    X, y = _data(seed=2)
    grid = {"alpha": [0.01, 0.05, 0.1, 0.3]}
    ref = GridSearchCV(Lasso(), grid, cv=3).fit(X, y)
    before = _tasks_run(client)
    with joblib.parallel_config(backend="dask"):
        gs = GridSearchCV(Lasso(), grid, cv=3, n_jobs=-1).fit(X, y)
    assert _tasks_run(client) > before
    np.testing.assert_allclose(gs.cv_results_["mean_test_score"],
                               ref.cv_results_["mean_test_score"], rtol=1e-12)
    assert gs.best_params_ == ref.best_params_
    np.testing.assert_array_equal(gs.best_estimator_.coef_, ref.best_estimator_.coef_)


def _fit_domain(Xs, Xt):
    return SinkhornTransport(reg_e=0.5, norm="max").fit(Xs=Xs, Xt=Xt)


def test_sinkhorn_many_domains_on_dask_equal_sequential(client):
    rng = np.random.default_rng(3)
    domains = [(rng.normal(size=(30, 2)), rng.normal(size=(25, 2)) + k) for k in range(6)]
    ref = [_fit_domain(Xs, Xt) for Xs, Xt in domains]
    with joblib.parallel_config(backend="dask"):
        fitted = joblib.Parallel(n_jobs=-1)(joblib.delayed(_fit_domain)(Xs, Xt)
                                            for Xs, Xt in domains)
    for a, b, (Xs, _) in zip(fitted, ref, domains):
        np.testing.assert_allclose(a.coupling_, b.coupling_, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(a.transform(Xs), b.transform(Xs), rtol=1e-12)


def test_fit_inside_a_dask_task_uses_one_thread(client):
    """sparsopt's own threading respects the worker's budget: n_jobs=-1 -> 1 thread."""
    def fit_and_report():
        from sparsopt.utils.parallel import effective_n_jobs

        X, y = _data(seed=4)
        est = LassoCV(cv=3, n_alphas=5, n_jobs=-1).fit(X, y)
        return effective_n_jobs(-1), est.alpha_

    n, alpha = client.submit(fit_and_report, pure=False).result()
    X, y = _data(seed=4)
    assert n == 1
    assert alpha == LassoCV(cv=3, n_alphas=5).fit(X, y).alpha_


def _fit_or_die(Xs, Xt, marker):
    """Kill this worker process the first time any task runs (the marker file says so)."""
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return _fit_domain(Xs, Xt)
    os.close(fd)
    os._exit(1)


def test_worker_killed_mid_fits_is_retried(client, tmp_path):
    """A worker dies while the joblib tasks run: Dask reruns its task, the results are right."""
    rng = np.random.default_rng(5)
    domains = [(rng.normal(size=(20, 2)), rng.normal(size=(20, 2)) + k) for k in range(4)]
    marker = str(tmp_path / "killed")
    with joblib.parallel_config(backend="dask"):
        fitted = joblib.Parallel(n_jobs=-1)(joblib.delayed(_fit_or_die)(Xs, Xt, marker)
                                            for Xs, Xt in domains)
    assert os.path.exists(marker)  # a worker did die
    for a, (Xs, Xt) in zip(fitted, domains):
        np.testing.assert_allclose(a.coupling_, _fit_domain(Xs, Xt).coupling_, rtol=1e-12,
                                   atol=1e-300)
    client.wait_for_workers(2, timeout=60)
