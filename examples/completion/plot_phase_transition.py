"""
========================================================
Phase transition of AltMin in the number of observations
========================================================

A rank-``k`` matrix of size ``m x n`` has ``k (m + n - k)`` degrees of freedom. How many
random entries does alternating minimization need to recover it? This example sweeps the
oversampling ratio ``rho = |Omega| / (k (m + n - k))`` and records, over a few random
problems, how often :func:`sparsopt.completion.altmin_complete` reaches a relative error
below ``1e-3`` on the *whole* matrix, next to soft-impute (the nuclear-norm baseline).
"""

# %%
# The sweep
# ---------
# ``make_low_rank_completion`` draws ``M = U V^T`` with Gaussian factors and observes
# each entry with probability ``p``; ``p`` follows from ``rho``.

import warnings

import matplotlib.pyplot as plt
import numpy as np

from sparsopt.completion import altmin_complete, soft_impute
from sparsopt.datasets import make_low_rank_completion

m = n = 300
k = 4
rhos = [1.5, 2.0, 2.5, 3.0, 4.0, 6.0]
seeds = range(4)
success = {"AltMin": [], "soft-impute": []}
median_err = {"AltMin": [], "soft-impute": []}
for rho in rhos:
    p = rho * k * (m + n - k) / (m * n)
    errs = {"AltMin": [], "soft-impute": []}
    for seed in seeds:
        X, U, V = make_low_rank_completion(m, n, k, density=p, random_state=seed)
        M = U @ V.T
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # non-convergence below the transition
            am = altmin_complete(X, k, max_iter=60, random_state=seed)
            si = soft_impute(X, k, random_state=seed)
        for name, res in (("AltMin", am), ("soft-impute", si)):
            errs[name].append(np.linalg.norm(res.U @ res.V.T - M) / np.linalg.norm(M))
    for name in errs:
        success[name].append(np.mean(np.array(errs[name]) < 1e-3))
        median_err[name].append(np.median(errs[name]))
    print(f"rho = {rho:3.1f} (p = {p:.3f}): AltMin success {success['AltMin'][-1]:.2f}, "
          f"median error AltMin {median_err['AltMin'][-1]:.1e}, "
          f"soft-impute {median_err['soft-impute'][-1]:.1e}")

# %%
# Success rate and error
# ----------------------
# AltMin switches from failure to exact recovery (to the solver's tolerance) over a
# narrow range of ``rho``, between 2 and 3 here. Soft-impute with its default shrinkage
# never gets below a few percent: the bias of the nuclear-norm penalty.

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
ax1.plot(rhos, success["AltMin"], "o-", label="AltMin")
ax1.plot(rhos, success["soft-impute"], "s--", label="soft-impute")
ax1.set_xlabel(r"oversampling $\rho = |\Omega| / (k(m+n-k))$")
ax1.set_ylabel("success rate (rel. error < 1e-3)")
ax1.legend()
ax2.semilogy(rhos, median_err["AltMin"], "o-", label="AltMin")
ax2.semilogy(rhos, median_err["soft-impute"], "s--", label="soft-impute")
ax2.set_xlabel(r"$\rho$")
ax2.set_ylabel("median relative error")
ax2.legend()
fig.tight_layout()
plt.show()
