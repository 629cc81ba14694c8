"""LISTA / LIHT estimators (they build the models of ``sparsopt.unfolding._lista``)."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from sparsopt.unfolding import LIHT, LISTA, nmse_db


def _data(n=200, m=15, k=30, dtype=np.float64):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((m, k)) / np.sqrt(m)
    X = rng.standard_normal((n, k)) * (rng.random((n, k)) < 0.1)
    return A.astype(dtype), (X @ A.T).astype(dtype), X.astype(dtype)


@pytest.mark.parametrize("variant", ["untied", "tied", "cp", "cpss", "tilista", "alista"])
def test_lista_variants_fit_and_transform(variant):
    A, Y, X = _data()
    with threadpool_limits(1):
        est = LISTA(A, variant=variant, n_layers=3, alpha=0.01, max_iter=20,
                    random_state=0).fit(Y, X)
        codes = est.transform(Y)
        assert codes.shape == X.shape and np.all(np.isfinite(codes))
        assert est.layer_outputs(Y).shape == (3,) + X.shape
        assert nmse_db(codes, X) < 0


def test_liht_fit_and_float32():
    A, Y, X = _data(dtype=np.float32)
    with threadpool_limits(1):
        est = LIHT(A, n_layers=3, alpha=0.01, max_iter=20, random_state=0).fit(Y, X)
        assert est.transform(Y).dtype == np.float32
