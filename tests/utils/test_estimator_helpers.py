import numpy as np
import pytest
from sklearn.base import clone

from sparsopt.penalties import L1, MCP
from tests._toy_estimator import ToyProxRegressor


def test_make_penalty_from_name_and_object_never_mutates():
    est = ToyProxRegressor(penalty="mcp", alpha=0.3)
    pen = est._make_penalty()
    assert isinstance(pen, MCP) and pen.alpha == 0.3
    obj = L1(0.2)
    est = ToyProxRegressor(penalty=obj)
    got = est._make_penalty()
    assert got == obj and got is not obj


def test_float32_in_float32_out():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 5)).astype(np.float32)
    y = X @ np.arange(5, dtype=np.float32)
    est = ToyProxRegressor(alpha=0.01).fit(X, y)
    assert est.coef_.dtype == np.float32 and est.predict(X).dtype == np.float32
    assert est.n_iter_ >= 1 and isinstance(est.converged_, bool)
    assert est.objective_history_.ndim == 1


def test_bad_parameters_name_the_parameter():
    X, y = np.ones((4, 2)), np.ones(4)
    with pytest.raises(ValueError, match="penalty"):
        ToyProxRegressor(penalty="l7").fit(X, y)
    with pytest.raises(ValueError, match="alpha"):
        ToyProxRegressor(alpha=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        ToyProxRegressor().fit(np.full((4, 2), np.nan), y)


def test_clone_keeps_penalty_object():
    est = ToyProxRegressor(penalty=MCP(0.1, gamma=4.0))
    c = clone(est)
    assert c.penalty == est.penalty and c.penalty is not est.penalty
