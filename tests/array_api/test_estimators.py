"""Every estimator, under scikit-learn's ``array_api_dispatch``, on non-NumPy arrays.

Estimators that declare the ``array_api_support`` tag keep the input's namespace (their own
tests in ``tests/array_api/test_<family>.py`` and scikit-learn's ``check_array_api_input`` in
``tests/test_common.py`` check that). Every other estimator must refuse such input at once with
a ``TypeError`` that names the estimator and the namespace (raised by
``SparsoptEstimatorMixin._validate_input``), not fail later inside NumPy-only code.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests._array_api import array_api_dispatch, namespace, to_xp
from tests.test_common import _default_instance, discover_estimators

ESTIMATORS = discover_estimators()


def _supports(cls):
    return _default_instance(cls).__sklearn_tags__().array_api_support


@pytest.mark.parametrize("cls", [c for c in ESTIMATORS if not _supports(c)],
                         ids=lambda c: c.__name__)
def test_unsupported_estimator_refuses_clearly(cls):
    xp, dev = namespace("array_api_strict")
    rng = np.random.default_rng(0)
    X = to_xp(rng.standard_normal((16, 8)), xp, dev)
    y = to_xp((np.arange(16) % 2).astype(np.float64), xp, dev)
    est = _default_instance(cls)
    with array_api_dispatch():
        with pytest.raises(TypeError, match=f"{cls.__name__} does not support array_api_strict"):
            if est.__sklearn_tags__().target_tags.required:
                est.fit(X, y)
            else:
                est.fit(X)


def test_supported_estimators_are_listed():
    """The estimators that declare support (kept in the user guide's table)."""
    supported = sorted(c.__name__ for c in ESTIMATORS if _supports(c))
    print("array API estimators:", supported)


def test_dataframes_under_dispatch_stay_host_data():
    """pandas input under array_api_dispatch is host data, as for scikit-learn's own
    estimators: no namespace error."""
    pd = pytest.importorskip("pandas")
    from sparsopt.linear_model import Lasso

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.standard_normal((20, 3)), columns=list("abc"))
    y = rng.standard_normal(20)
    with array_api_dispatch():
        est = Lasso(alpha=0.01).fit(X, y)
    assert isinstance(est.coef_, np.ndarray) and list(est.feature_names_in_) == list("abc")
