"""
=======================================================================
Lasso and ElasticNet paths, timed against scikit-learn
=======================================================================

:class:`~sparsopt.linear_model.Lasso` and :class:`~sparsopt.linear_model.ElasticNet`
are drop-in replacements for their scikit-learn namesakes: the same objective

.. math::

    \\min_{w, b}\\; \\frac{1}{2n}\\lVert y - Xw - b\\rVert_2^2
    + \\alpha\\Big(\\rho\\lVert w\\rVert_1 + \\frac{1-\\rho}{2}\\lVert w\\rVert_2^2\\Big)

(``l1_ratio`` :math:`\\rho = 1` for the Lasso), the same parameter names and the same
stopping rule: the fit stops when the duality gap is at most
``tol * ||y||^2 / n_samples``, so an equal ``tol`` certifies an equal accuracy.
Underneath, sparsopt runs a working-set coordinate descent (greedy working sets, Numba
epochs, Anderson acceleration, gap-safe screening) where scikit-learn cycles over every
feature.

We fit both libraries along the same regularisation path (30 values of ``alpha`` from
``alpha_max``, where every coefficient is zero, down to ``alpha_max / 100``), each fit
warm-started from the previous one (``warm_start=True``), at the same ``tol``, time the
whole path, check that the objectives agree, and plot the coefficient paths.
"""

# %%
# Data: a correlated design with 20 informative features out of 2000
# -------------------------------------------------------------------
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn import linear_model as sk

from sparsopt import linear_model as so

rng = np.random.default_rng(0)
n_samples, n_features, n_informative = 400, 2000, 20
# neighbouring features correlated at 0.5 (an AR(1) design)
X = rng.standard_normal((n_samples, n_features))
for j in range(1, n_features):
    X[:, j] = 0.5 * X[:, j - 1] + np.sqrt(1 - 0.5 ** 2) * X[:, j]
w_true = np.zeros(n_features)
support = rng.choice(n_features, n_informative, replace=False)
w_true[support] = rng.choice([-1.0, 1.0], n_informative) * rng.uniform(0.5, 2.0, n_informative)
y = X @ w_true + 0.5 * rng.standard_normal(n_samples)

Xc, yc = X - X.mean(axis=0), y - y.mean()
alpha_max = np.abs(Xc.T @ yc).max() / n_samples  # the smallest alpha with w = 0 (Lasso)
alphas = alpha_max * np.geomspace(1.0, 0.01, 30)


def objective(model, alpha, l1_ratio):
    w = model.coef_
    r = y - X @ w - model.intercept_
    pen = l1_ratio * np.abs(w).sum() + 0.5 * (1 - l1_ratio) * w @ w
    return 0.5 * np.mean(r ** 2) + alpha * pen


def run_path(model, l1_ratio):
    """Fit along ``alphas`` with warm starts; return the time, coefficients, objectives."""
    coefs, objs = [], []
    t0 = time.perf_counter()
    for a in alphas / l1_ratio:  # same alpha_max for every l1_ratio
        model.set_params(alpha=a).fit(X, y)
        coefs.append(model.coef_.copy())
        objs.append(objective(model, a, l1_ratio))
    return time.perf_counter() - t0, np.array(coefs), np.array(objs)


# %%
# The paths, timed
# ----------------
# The first call of a sparsopt estimator compiles its Numba kernels (or loads them from the
# disk cache, a fraction of a second); ``python -m sparsopt warmup`` does this once after
# installing. We make one untimed fit first so that the timings measure the solvers only.
so.Lasso(alpha=alpha_max / 10).fit(X, y)

tol = 1e-6
results = {}
models = {
    "Lasso": (1.0, so.Lasso(tol=tol, warm_start=True),
              sk.Lasso(tol=tol, warm_start=True, max_iter=100_000)),
    "ElasticNet(l1_ratio=0.5)": (0.5, so.ElasticNet(l1_ratio=0.5, tol=tol, warm_start=True),
                                 sk.ElasticNet(l1_ratio=0.5, tol=tol, warm_start=True,
                                               max_iter=100_000)),
}
for name, (l1_ratio, ours, theirs) in models.items():
    results[name] = (run_path(ours, l1_ratio), run_path(theirs, l1_ratio))

print(f"{len(alphas)} alphas, tol = {tol:g}, {n_samples} x {n_features}")
print(f"{'model':<26}{'sparsopt':>10}{'sklearn':>10}{'ratio':>8}{'max rel. obj. diff':>20}")
for name, ((t_so, _, f_so), (t_sk, _, f_sk)) in results.items():
    rel = np.max(np.abs(f_so - f_sk) / f_sk)
    print(f"{name:<26}{t_so:>9.3f}s{t_sk:>9.3f}s{t_sk / t_so:>7.1f}x{rel:>20.1e}")

# %%
# Both libraries certify the same duality gap, so their objectives agree to about ``tol``
# relative to ``||y||^2 / n``, along the whole path; the ratio column is scikit-learn's
# time over sparsopt's (above 1: sparsopt is faster). Timings depend on the machine and on
# its load; ``benchmarks/bench_lasso.py`` measures them properly (medians of several runs,
# time to reach a given suboptimality, skglm and celer too).
#
# The coefficient paths
# ---------------------
# Solid lines: sparsopt; dots: scikit-learn, on top of each other. Coloured: the 20
# informative features; grey: the others, which enter late (small ``alpha``) if at all.
fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
for ax, (name, ((_, c_so, _), (_, c_sk, _))) in zip(axes, results.items()):
    noise = np.setdiff1d(np.arange(n_features), support)
    ax.plot(alphas, c_so[:, noise], color="0.8", lw=0.8)
    ax.plot(alphas, c_so[:, support], lw=1.5)
    ax.plot(alphas, c_sk[:, support], "k.", ms=2)
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_xlabel(r"$\alpha\,\rho$ (l1 part of the penalty)")
    ax.set_title(name)
axes[0].set_ylabel("coefficient")
fig.tight_layout()
plt.show()
