"""scikit-learn's estimator checks over every public sparsopt estimator.

Estimators are discovered by walking the package, so a new estimator is checked
without editing this file.
"""

import functools
import importlib
import inspect
import pkgutil
import warnings

import pytest
from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import estimator_checks_generator

import sparsopt
from tests._sklearn_compat import expected_failed_checks
from tests._toy_estimator import ToyProxRegressor


def discover_estimators(package=sparsopt):
    """Public classes of ``package`` that are scikit-learn estimators with ``fit``."""
    found = {}
    for mod in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        name = mod.name
        if any(part.startswith("_") for part in name.split(".")[1:]):
            continue
        if name.endswith("__main__"):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                module = importlib.import_module(name)
        except ImportError:  # optional dependency (cupy, dask) missing
            continue
        for cname, cls in inspect.getmembers(module, inspect.isclass):
            if (issubclass(cls, BaseEstimator) and not cname.startswith("_")
                    and cls.__module__.startswith(package.__name__) and hasattr(cls, "fit")
                    and not inspect.isabstract(cls)):
                found[f"{cls.__module__}.{cname}"] = cls
    return [found[k] for k in sorted(found)]


def _default_instance(cls):
    params = cls._test_params("") if hasattr(cls, "_test_params") else {}
    return cls(**params)


def _instances():
    return [_default_instance(cls) for cls in discover_estimators()] + [ToyProxRegressor()]


def _check_name(check):
    return getattr(check, "func", check).__name__


def _torch_device_unusable(check):
    """scikit-learn's array API checks on a torch device this machine cannot use.

    scikit-learn yields them when torch imports; on a machine whose CUDA driver is too old
    for its torch build they die creating the arrays, before any sparsopt code runs (its
    own PCA fails them the same way), so they are skipped, with the reason."""
    kw = getattr(check, "keywords", {}) or {}
    devices = {kw.get("device_name")} if kw.get("array_namespace") == "torch" else set()
    for key in ("X_ns_and_device", "other_ns_and_device"):
        nd = kw.get(key)
        if nd is not None and getattr(nd, "xp", None) == "torch":
            devices.add(nd.device)
    devices -= {None, "cpu"}
    for dev in sorted(devices):
        reason = _torch_device_error(dev)
        if reason:
            return f"torch device {dev!r} unusable here: {reason}"
    return None


@functools.cache
def _array_api_dispatch_error():
    """Why scikit-learn's array API dispatch cannot run here (None when it can): it needs
    SciPy >= 1.14 and SCIPY_ARRAY_API=1 (the floors run has SciPy 1.10)."""
    import numpy as np
    import sklearn
    from sklearn.utils._array_api import get_namespace

    try:
        with sklearn.config_context(array_api_dispatch=True):
            get_namespace(np.ones(1))
    except (ImportError, RuntimeError) as exc:
        return str(exc).splitlines()[0][:100]
    return None


@functools.cache
def _torch_device_error(dev):
    try:
        import torch

        torch.zeros(1, device=dev)
    except ImportError:
        return None
    except Exception as exc:  # RuntimeError/AssertionError: no usable device
        return str(exc).splitlines()[0][:100]
    return None


def _all_checks():
    """(estimator, check) pairs; classes with ``_test_params(check_name)`` get per-check
    constructor parameters, as scikit-learn does for its own SparseCoder."""
    cases = []
    for est in _instances():
        for item in estimator_checks_generator(
                est, mark="xfail", expected_failed_checks=expected_failed_checks(est)):
            marks = ()
            if hasattr(item, "marks"):  # a pytest.param: an expected failure, marked xfail
                marks, item = item.marks, item.values
            _, check = item
            name = _check_name(check)
            reason = _torch_device_unusable(check)
            if name.startswith("check_array_api") and _array_api_dispatch_error():
                reason = f"array API dispatch unavailable: {_array_api_dispatch_error()}"
            if reason:
                marks = (*marks, pytest.mark.skip(reason=reason))
            if hasattr(type(est), "_test_params"):
                est_for_check = type(est)(**type(est)._test_params(name))
            else:
                est_for_check = est
            cases.append(pytest.param(est_for_check, check, id=f"{est!r:.60}-{name}",
                                      marks=marks))
    return cases


@pytest.mark.parametrize("estimator, check", _all_checks())
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_discovery_finds_public_estimators_only(tmp_path, monkeypatch):
    pkg = tmp_path / "fakepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "models.py").write_text(
        "from sklearn.base import BaseEstimator\n"
        "class Visible(BaseEstimator):\n    def fit(self, X, y=None):\n        return self\n"
        "class _Hidden(BaseEstimator):\n    def fit(self, X, y=None):\n        return self\n"
        "class NoFit(BaseEstimator):\n    pass\n"
    )
    (pkg / "_private.py").write_text(
        "from sklearn.base import BaseEstimator\n"
        "class Inner(BaseEstimator):\n    def fit(self, X, y=None):\n        return self\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    fakepkg = importlib.import_module("fakepkg")
    assert [c.__name__ for c in discover_estimators(fakepkg)] == ["Visible"]


def test_toy_estimator_matches_sklearn_lasso():
    import numpy as np
    from sklearn.linear_model import Lasso

    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 15))
    y = X[:, :3] @ np.array([1.0, -2.0, 0.5]) + 0.01 * rng.standard_normal(60) + 3.0
    ours = ToyProxRegressor(alpha=0.05, tol=1e-10, max_iter=20000).fit(X, y)
    ref = Lasso(alpha=0.05, tol=1e-12, max_iter=100000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)
