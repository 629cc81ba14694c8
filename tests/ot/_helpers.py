"""Helpers shared by the transport tests: random problems and outside measurements."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning


def _problem(n, m, seed, batch=None):
    """Random costs in [0, 1) and positive marginals (summing to 1)."""
    rng = np.random.default_rng(seed)
    shape = (n, m) if batch is None else (batch, n, m)
    M = rng.random(shape)
    a = rng.random(n) + 0.1
    b = rng.random(m) + 0.1
    return a / a.sum(), b / b.sum(), M


def _l1_error(P, a, b):
    """L1 marginal error of a plan, measured outside the library."""
    P = np.asarray(P, dtype=np.float64)
    return float(np.abs(P.sum(axis=1) - a).sum() + np.abs(P.sum(axis=0) - b).sum())


def _entropic_objective(P, M, reg):
    """``<M, P> + reg * sum P (log P - 1)``, measured outside the library."""
    P = np.asarray(P, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = np.where(P > 0, P * (np.log(P) - 1.0), 0.0)
    return float((M * P).sum() + reg * ent.sum())


def _check_against_pot(res, M, reg, P_ref, log):
    """``res`` (an OTResult) equals POT's log-domain solution ``P_ref, log``: plan, cost,
    objective, and potentials (those of the plan, and POT's up to the gauge f + c, g - c)."""
    np.testing.assert_allclose(res.plan, P_ref, rtol=1e-9, atol=1e-13)
    assert res.cost == pytest.approx(float((M * P_ref).sum()), rel=1e-10)
    assert res.objective == pytest.approx(_entropic_objective(res.plan, M, reg), rel=1e-10,
                                          abs=1e-13)
    # the plan is exp((f_i + g_j - M_ij) / reg), ...
    np.testing.assert_allclose(res.f[:, None] + res.g[None, :] - M, reg * np.log(res.plan),
                               atol=1e-12)
    # ... and the potentials equal POT's reg * log_u, reg * log_v up to the gauge
    df = res.f - reg * log["log_u"]
    dg = res.g - reg * log["log_v"]
    assert np.ptp(df) <= 1e-9 and np.ptp(dg) <= 1e-9
    assert df.mean() + dg.mean() == pytest.approx(0.0, abs=1e-9)


class _Recorder:
    """``with _Recorder() as rec``: every warning; ``rec.convergence`` and ``rec.runtime``."""

    def __enter__(self):
        self._cm = warnings.catch_warnings(record=True)
        self.all = self._cm.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)

    @property
    def convergence(self):
        return [w for w in self.all if issubclass(w.category, ConvergenceWarning)]

    @property
    def runtime(self):
        return [w for w in self.all if issubclass(w.category, RuntimeWarning)]
