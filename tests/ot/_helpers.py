"""Helpers shared by the transport tests: random problems and outside measurements."""

import warnings

import numpy as np
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
