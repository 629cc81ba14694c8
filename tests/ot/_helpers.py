"""Helpers shared by the transport tests: random problems and outside measurements."""

import numpy as np


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
