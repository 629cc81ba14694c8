"""Regression: ``als_sketch_solve`` conformance on a row whose sketch merges columns.

The row is well posed (``cond(A^T A + lam I)`` ~ 8, ``F`` of full rank) but its CountSketch
``S A`` (``s = k + 1 = 6`` buckets, 7 entries) has rank < k, so the preconditioner ``R``
is held up only by its damping floor and ``R^-T (A^T A + lam I) R^-1`` has a condition
number ~1.5e6. Floating-point CG then needs a few more than ``k`` steps: at ``n_iter = 6``
both backends are ~5e-2 off the ridge solution and ~7e-4 apart, which the conformance
check once compared as converged (a failure replayed from a local hypothesis database).
Both reach the solution a few steps later.
"""

import numpy as np
import pytest

from sparsopt.backends import dispatch
from tests.backends._cases_completion import (
    _cg_converging_rows,
    _check_sketch,
    _ridge_rows,
    _well_posed_rows,
)

F = np.array([[2, -1, 1, -1, -2], [-2, -3, -3, -3, -2], [2, 0, -2, 0, 0], [0, -2, 0, 2, -1],
              [0, 3, -2, 1, 0], [2, -1, 0, -1, 2], [2, 1, 3, 1, 2]], dtype=np.float64)
Y = np.array([4, -2, 5, -1, 0, -3, 3], dtype=np.float64)
RIDGE, REG, S, SEED, KIND = 1e-10, 0.0, 6, 177, 0


def _pattern(dtype):
    indptr = np.array([0, Y.size], dtype=np.int64)
    indices = np.arange(Y.size, dtype=np.int32)
    return indptr, indices, Y.astype(dtype), F.astype(dtype), np.zeros((1, 5), dtype=dtype)


def _solve(engine, n_iter):
    indptr, indices, data, F_, U = _pattern(np.float64)
    out = U.copy()
    dispatch("als_sketch_solve", indptr, indices, data, F_, RIDGE, REG, S, n_iter, SEED, KIND,
             False, out, engine=engine)
    return out[0]


def test_row_is_well_posed_but_its_cg_needs_more_than_k_steps():
    indptr, indices, _, F_, _ = _pattern(np.float64)
    assert _well_posed_rows(indptr, indices, F_, RIDGE, REG).all()
    H = F.T @ F + RIDGE * float((F * F).sum()) / 5 * np.eye(5)
    assert np.linalg.cond(H) < 100
    assert not _cg_converging_rows(indptr, indices, F_, RIDGE, REG, S, SEED, KIND).any()
    assert _cg_converging_rows(indptr, indices, F_, RIDGE, 0.5, S, SEED, KIND).all()


def test_both_backends_reach_the_ridge_solution_with_more_steps():
    indptr, indices, data, F_, _ = _pattern(np.float64)
    exact = _ridge_rows(indptr, indices, data, F_, RIDGE, REG)[0]
    for engine in ("numpy", "numba"):
        np.testing.assert_allclose(_solve(engine, 12), exact, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conformance_check_at_k_plus_one_steps(dtype):
    """The conformance check of the case (k = 5, n_iter = 6): float64 failed before."""
    _check_sketch("als_sketch_solve", (_pattern(dtype), RIDGE, REG, S, 6, SEED, KIND, False))
