"""
======================================================================
Recovering a sparse pseudo-Boolean function from few queries (SPRIGHT)
======================================================================

A function of ``n`` binary inputs (a black-box simulator with on/off switches, a
network's response to masking ``n`` input features) has ``2^n`` values. When only a
few interactions between the inputs matter, its Walsh-Hadamard spectrum is sparse:

.. math::
    f(x) = \\sum_{k} F_k \\, (-1)^{\\langle x, k \\rangle},
    \\qquad x \\in \\{0, 1\\}^n,

with a few non-zero ``F_k``; each ``k`` is the set of inputs of one interaction
(``(-1)^{<x, k>}`` is the product of the spins ``1 - 2 x_i`` over ``i`` in ``k``).

:class:`~sparsopt.transforms.SparseWHT` finds those coefficients with SPRIGHT
(Li, Bradley, Pawar and Ramchandran, 2015): :meth:`~sparsopt.transforms.SparseWHT.query_points`
gives structured points (hashed subsamples with delays), the function is evaluated
there, and ``fit`` recovers the spectrum by peeling, with a number of queries that
grows like ``K n`` instead of ``2^n``.
"""

# %%
# A black box on 24 switches
# --------------------------
# Twelve interactions, of orders 0 to 4, on ``n = 24`` inputs: ``2^24`` (16.7 million)
# possible inputs.

import matplotlib.pyplot as plt
import numpy as np

from sparsopt.transforms import SparseWHT

n = 24
terms = {  # inputs of the interaction -> coefficient
    (): 3.0, (0,): 2.0, (5,): -1.2, (3, 7): -1.5, (2, 5, 11): 1.0, (12, 19): 0.8,
    (1, 4, 9, 16): 0.5, (20,): 0.7, (8, 23): -0.9, (6, 13, 17): 0.6, (10, 14): -0.4,
    (15, 18, 21, 22): 0.3,
}


def black_box(X):
    """The simulator: X is (n_points, n) with 0/1 entries."""
    spins = 1.0 - 2.0 * np.asarray(X, dtype=float)
    out = np.zeros(len(spins))
    for inputs, c in terms.items():
        out += c * np.prod(spins[:, list(inputs)], axis=1)
    return out


true_k = np.array([sum(1 << i for i in t) for t in terms], dtype=np.int64)
true_c = np.array(list(terms.values()))

# %%
# Query, fit, predict
# -------------------
est = SparseWHT(n_bits=n, sparsity=len(terms), random_state=0)
X_query = est.query_points()
y_query = black_box(X_query)
est.fit(X_query, y_query)
print(f"queries: {len(X_query)} of 2^{n} = {2**n} ({len(X_query) / 2**n:.3%}); "
      f"path: {est.fit_path_}, all bins resolved: {est.resolved_}, "
      f"peeling rounds: {est.n_iter_}")
print("recovered exactly:", np.array_equal(est.indices_, np.sort(true_k))
      and np.allclose(est.coef_, true_c[np.argsort(true_k)]))

rng = np.random.default_rng(1)
X_test = rng.integers(0, 2, size=(2000, n))
print(f"R^2 on 2000 random inputs: {est.score(X_test, black_box(X_test)):.6f}")

# %%
# The recovered spectrum, as interactions
# ---------------------------------------
for k, c in zip(est.indices_, est.coef_):
    inputs = [i for i in range(n) if k >> i & 1]
    print(f"{c:+.2f}  x {inputs}")

# %%
# The same budget spent on random points
# --------------------------------------
# On points that are not SPRIGHT's, ``fit`` falls back to sparse regression (orthogonal
# matching pursuit) over the Walsh features of degree at most ``max_degree``: slower
# (``O(n_samples n^max_degree)`` features) and blind to higher-order interactions, here
# the two of order 4.
X_rand = rng.integers(0, 2, size=(len(X_query), n))
reg = SparseWHT(sparsity=len(terms), max_degree=3).fit(X_rand, black_box(X_rand))
print(f"regression path: {reg.fit_path_}, R^2 = {reg.score(X_test, black_box(X_test)):.4f}")

fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
order = np.argsort(true_k)
pos = np.arange(len(true_k))
axes[0].bar(pos - 0.2, true_c[order], width=0.4, label="true")
axes[0].bar(pos + 0.2, est.coef_, width=0.4, label="SPRIGHT")
axes[0].set_xticks(pos, [str([i for i in range(n) if k >> i & 1]) for k in true_k[order]],
                   rotation=70, fontsize=7)
axes[0].set_title("Walsh coefficients (interactions)")
axes[0].legend()
y_test = black_box(X_test)
axes[1].plot(y_test, est.predict(X_test), "o", ms=3, label="SPRIGHT (query points)")
axes[1].plot(y_test, reg.predict(X_test), ".", ms=3, alpha=0.5,
             label="OMP, degree <= 3 (random points)")
axes[1].set_xlabel("true f(x)")
axes[1].set_ylabel("predicted")
axes[1].set_title(f"{len(X_query)} queries each")
axes[1].legend(fontsize=8)
fig.tight_layout()
plt.show()
