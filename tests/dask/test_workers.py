"""Workers ready to compute: thread caps (sparsopt, Numba, BLAS), the worker plugin, and
estimators and penalties that pickle cleanly (issue 22 item 4)."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("distributed", reason="sparsopt.dask needs dask and distributed")
cloudpickle = pytest.importorskip("cloudpickle")

import joblib  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

import sparsopt.penalties as P  # noqa: E402
from sparsopt.dask import SparsoptWorkerPlugin, worker_thread_info  # noqa: E402
from sparsopt.utils.parallel import (  # noqa: E402
    effective_n_jobs,
    get_thread_limit,
    joblib_n_jobs,
    set_thread_limit,
    sync_numba_threads,
)
from tests.test_common import _default_instance, discover_estimators  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as c:
        yield c


# --- the thread cap, in this process -------------------------------------------------

def test_thread_limit_caps_n_jobs_and_numba():
    import numba

    assert get_thread_limit() is None
    try:
        set_thread_limit(1)
        assert effective_n_jobs(-1) == 1 and effective_n_jobs(4) == 1
        sync_numba_threads()
        assert numba.get_num_threads() == 1
    finally:
        set_thread_limit(None)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    assert effective_n_jobs(3) == 3
    with pytest.raises(ValueError, match="n_threads"):
        set_thread_limit(0)
    with pytest.raises(ValueError, match="n_jobs"):
        effective_n_jobs(0)


def test_n_jobs_none_follows_joblib_config():
    assert effective_n_jobs(None) == 1
    with joblib.parallel_config(n_jobs=2):
        assert effective_n_jobs(None) == 2
        assert joblib_n_jobs(None) is None  # joblib.Parallel reads the config itself
    with joblib.parallel_config(backend="threading", n_jobs=-1):
        assert effective_n_jobs(None) >= 1


def test_plugin_validates():
    with pytest.raises(ValueError, match="threads"):
        SparsoptWorkerPlugin(threads=0)
    with pytest.raises(ValueError, match="warmup"):
        SparsoptWorkerPlugin(warmup=("float16",))


def test_import_sparsopt_without_dask():
    code = (
        "import sys, importlib, pkgutil\n"
        "sys.modules['dask'] = None; sys.modules['distributed'] = None\n"
        "import sparsopt\n"
        "for m in pkgutil.iter_modules(sparsopt.__path__):\n"
        "    if m.name != 'dask' and not m.name.startswith('_'):\n"
        "        importlib.import_module('sparsopt.' + m.name)\n"
        "assert not any(k.startswith('dask') for k in sys.modules if sys.modules[k])\n"
        "try:\n"
        "    import sparsopt.dask\n"
        "except ImportError as e:\n"
        "    assert 'pip install \"sparsopt[dask]\"' in str(e), e\n"
        "else:\n"
        "    raise SystemExit('no ImportError')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr


# --- pickling --------------------------------------------------------------------------

def _tiny_fit(est):
    """Fit ``est`` on tiny data (supervised or not); return the data used, or None."""
    rng = np.random.default_rng(0)
    X = np.abs(rng.normal(size=(24, 8)))
    tags = est.__sklearn_tags__()
    if tags.estimator_type == "classifier":
        y = np.arange(24) % 2
    elif tags.estimator_type == "regressor":
        y = X @ rng.normal(size=8)
        if tags.target_tags.required and type(est).__name__ == "KroneckerSBL":
            return None
    else:
        y = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if type(est).__name__ == "SinkhornTransport":
                est.fit(Xs=X, Xt=X + 1.0)
            elif y is None and tags.target_tags.required:
                est.fit(X, np.arange(24) % 2)
            else:
                est.fit(X, y)
        except Exception:  # needs structured input (graphs, tensors...): pickle unfitted
            return None
    return X


def _output(est, X):
    for method in ("predict", "transform"):
        if hasattr(est, method):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return np.asarray(getattr(est, method)(X))
            except Exception:
                continue
    return None


@pytest.mark.parametrize("cls", discover_estimators(), ids=lambda c: c.__name__)
def test_estimator_cloudpickle_round_trip(cls):
    est = _default_instance(cls)
    if "max_iter" in est.get_params():
        est.set_params(max_iter=5)
    X = _tiny_fit(est)
    est2 = cloudpickle.loads(cloudpickle.dumps(est))
    assert type(est2) is cls and est2.get_params().keys() == est.get_params().keys()
    if X is not None:
        a, b = _output(est, X), _output(est2, X)
        if a is not None:
            np.testing.assert_array_equal(a, b)


def _penalties():
    """One instance of every public penalty class that builds from plain numbers."""
    import inspect

    out = []
    for _name, cls in inspect.getmembers(P, inspect.isclass):
        if not issubclass(cls, P.Penalty) or inspect.isabstract(cls) or cls is P.Penalty:
            continue
        for args in ((), (0.5,), (0.5, 0.5), (2, 0.5), (-1.0, 1.0)):
            try:
                out.append(cls(*args))
                break
            except Exception:
                continue
    return out


def test_penalties_cloudpickle_round_trip():
    x = np.linspace(-2, 2, 6)
    made = 0
    for pen in _penalties():
        pen2 = cloudpickle.loads(cloudpickle.dumps(pen))
        assert type(pen2) is type(pen)
        try:
            expected = pen.prox(x, 0.7)
        except Exception:  # a penalty without an elementwise prox on this x
            continue
        np.testing.assert_array_equal(expected, pen2.prox(x, 0.7))
        made += 1
    assert made >= 8


# --- the plugin, on a LocalCluster -----------------------------------------------------

def test_task_without_plugin_uses_one_thread(client):
    info = client.submit(worker_thread_info, pure=False).result()
    assert info["sparsopt_limit"] == 1 and info["n_jobs_-1"] == 1 and info["numba"] == 1


def test_plugin_sets_thread_counts(client):
    client.register_plugin(SparsoptWorkerPlugin(warmup=("float64",), threads=1))
    per_worker = client.run(worker_thread_info)
    assert len(per_worker) == 2
    for info in per_worker.values():
        assert info["plugin"]["threads"] == 1 and info["plugin"]["nthreads"] == 1
        assert info["plugin"]["warmup_s"] > 0
        assert info["sparsopt_limit"] == 1 and info["n_jobs_-1"] == 1
        assert info["numba"] == 1
        assert info["blas"] in (None, 1)
    task = client.submit(worker_thread_info, pure=False).result()
    assert task["n_jobs_-1"] == 1 and task["numba"] == 1


def test_fitted_estimator_travels_to_a_worker(client):
    from sparsopt.linear_model import Lasso

    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 10))
    y = X[:, :3].sum(axis=1)
    est = Lasso(alpha=0.05).fit(X, y)
    remote = client.submit(lambda e, Z: e.predict(Z), est, X).result()
    np.testing.assert_array_equal(remote, est.predict(X))
