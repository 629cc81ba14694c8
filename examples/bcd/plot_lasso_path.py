"""
=============================================
Lasso regularisation path and LassoCV
=============================================

:class:`~sparsopt.linear_model.LassoCV` solves the Lasso along a decreasing grid of
``alpha`` values, from ``alpha_max`` (where every coefficient is zero) down to
``eps * alpha_max``, on each cross-validation fold. Each ``alpha`` starts from the solution
of the previous one (warm start), and each fit is a working-set coordinate descent: only the
current support and the features with the largest greedy scores are updated, so most of the
path costs a few cheap epochs. Folds run in parallel threads with ``n_jobs``.

We plot the held-out error of every fold against ``alpha`` (the cross-validation curve), the
selected ``alpha_``, and the coefficient paths computed by
:func:`~sparsopt.solvers.working_set_cd_path` on the diabetes data, augmented with 40 noise
features that the Lasso should leave out.
"""

# %%
# Data: 10 informative features and 40 pure-noise ones
# -----------------------------------------------------

import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import StandardScaler

from sparsopt.linear_model import LassoCV
from sparsopt.solvers.glm.working_set_cd import working_set_cd_path

X, y = load_diabetes(return_X_y=True)
rng = np.random.default_rng(0)
X = np.hstack([X, rng.standard_normal((X.shape[0], 40))])
X = StandardScaler().fit_transform(X)

# %%
# Cross-validated path
# --------------------

t0 = time.perf_counter()
model = LassoCV(n_alphas=60, cv=5, n_jobs=2, tol=1e-6).fit(X, y)
elapsed = time.perf_counter() - t0
print(f"LassoCV: 5 folds x 60 alphas + refit in {elapsed:.2f} s; alpha_ = {model.alpha_:.3f}")
print(f"selected features: {np.flatnonzero(model.coef_).tolist()}")

fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
ax = axes[0]
ax.semilogx(model.alphas_, model.mse_path_, ":", lw=1)
ax.semilogx(model.alphas_, model.mse_path_.mean(axis=1), "k", lw=2, label="mean over folds")
ax.axvline(model.alpha_, ls="--", color="k", label=r"$\alpha$ selected")
ax.set_xlabel(r"$\alpha$")
ax.set_ylabel("held-out mean squared error")
ax.set_title("cross-validation curve")
ax.legend()

# %%
# Coefficient paths on the whole data
# -----------------------------------

alphas, coefs, _, _, _ = working_set_cd_path(X, y, alphas=model.alphas_, fit_intercept=True,
                                             tol=1e-8)
ax = axes[1]
ax.semilogx(alphas, coefs[10:].T, color="0.75", lw=0.8)
ax.semilogx(alphas, coefs[:10].T, lw=1.5)
ax.axvline(model.alpha_, ls="--", color="k")
ax.set_xlabel(r"$\alpha$")
ax.set_ylabel("coefficient")
ax.set_title("coefficient paths (grey: noise features)")
for a in axes:
    a.invert_xaxis()
fig.tight_layout()
plt.show()
