"""
==========================================================
MCP versus Lasso: paths and the bias of large coefficients
==========================================================

The Lasso's l1 penalty shrinks every non-zero coefficient by ``alpha``: to remove the noise
features, ``alpha`` must be large, and then the large true coefficients are biased towards 0.
The minimax concave penalty (MCP, Zhang 2010) is the l1 penalty near 0 and flat beyond
``gamma * alpha``: it selects like the Lasso but leaves large coefficients unbiased.

Both are solved by the same working-set coordinate descent
(:func:`~sparsopt.solvers.working_set_cd_path`, :class:`~sparsopt.linear_model.SparseRegression`);
only the penalty changes. We plot the regularisation paths (coefficients against ``alpha``)
of both on a synthetic sparse problem, then the estimates against the truth at one
``alpha``.
"""

# %%
# A sparse regression problem with standardised columns
# ------------------------------------------------------
# MCP's coordinate prox needs ``gamma > n / ||x_j||^2``: with standardised columns
# (``||x_j||^2 / n = 1``) any ``gamma > 1`` works.

import matplotlib.pyplot as plt
import numpy as np

from sparsopt.linear_model import Lasso, SparseRegression
from sparsopt.penalties import MCP
from sparsopt.solvers import working_set_cd_path
from sparsopt.solvers.glm.working_set_cd import alpha_max

rng = np.random.default_rng(0)
n, p, k = 150, 60, 6
X = rng.standard_normal((n, p))
X /= np.sqrt((X ** 2).mean(axis=0))
w_true = np.zeros(p)
w_true[:k] = np.array([4.0, -3.0, 2.5, -2.0, 1.5, 1.0])
y = X @ w_true + 0.5 * rng.standard_normal(n)

# %%
# Regularisation paths
# --------------------
# Warm-started paths from ``alpha_max`` (all coefficients zero) down to ``alpha_max / 100``.

a_max = alpha_max(X, y)
alphas = a_max * np.geomspace(1.0, 0.01, 40)
_, coefs_l1, _, _, _ = working_set_cd_path(X, y, alphas=alphas, penalty="l1", tol=1e-8)
_, coefs_mcp, _, _, _ = working_set_cd_path(X, y, alphas=alphas, penalty=MCP(gamma=2.0),
                                            tol=1e-8)

fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
for ax, coefs, title in ((axes[0], coefs_l1, "Lasso (l1)"),
                         (axes[1], coefs_mcp, "MCP (gamma = 2)")):
    ax.semilogx(alphas, coefs[k:].T, color="0.75", lw=0.8)
    ax.semilogx(alphas, coefs[:k].T, lw=1.5)
    for v in w_true[:k]:
        ax.axhline(v, color="k", ls=":", lw=0.6)
    ax.invert_xaxis()
    ax.set_xlabel("alpha")
    ax.set_title(title)
axes[0].set_ylabel("coefficient (dotted: truth)")
fig.tight_layout()

# %%
# The bias of large coefficients
# ------------------------------
# At an ``alpha`` where both select the right support, the Lasso's large estimates are
# shrunk by about ``alpha``; MCP's, beyond ``gamma * alpha``, are the least-squares ones on
# the support.

alpha = a_max / 10
lasso = Lasso(alpha=alpha, fit_intercept=False, tol=1e-10).fit(X, y)
mcp = SparseRegression(penalty=MCP(alpha=alpha, gamma=2.0), fit_intercept=False,
                       tol=1e-10).fit(X, y)
print(f"alpha = {alpha:.3f}")
print("support  Lasso:", np.flatnonzero(lasso.coef_).tolist())
print("support  MCP:  ", np.flatnonzero(mcp.coef_).tolist())
print("largest |error| on the true support  Lasso: "
      f"{np.abs(lasso.coef_ - w_true)[:k].max():.3f}, MCP: "
      f"{np.abs(mcp.coef_ - w_true)[:k].max():.3f}")

fig, ax = plt.subplots(figsize=(5, 5))
lim = 1.1 * np.abs(w_true).max()
ax.plot([-lim, lim], [-lim, lim], color="0.6", lw=0.8)
ax.scatter(w_true, lasso.coef_, label="Lasso", marker="o", facecolors="none",
           edgecolors="C0")
ax.scatter(w_true, mcp.coef_, label="MCP", marker="x", color="C3")
ax.set_xlabel("true coefficient")
ax.set_ylabel("estimate")
ax.set_title("estimates at alpha = alpha_max / 10")
ax.legend()
fig.tight_layout()
plt.show()
