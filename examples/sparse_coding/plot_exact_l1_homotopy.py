"""
=====================================================
Exact ℓ1 codes: the homotopy path against a tolerance
=====================================================

For the ℓ1 penalty, :func:`~sparsopt.solvers.encode` (and its scikit-learn spelling
:func:`~sparsopt.decomposition.sparse_encode`) uses the Lasso
homotopy by default (``solver="lars"``): for each signal it follows the
piecewise-linear path of solutions from ``alpha_max = max_j |d_j . x|`` down to
``alpha``, one step per atom that joins or leaves the support, and lands on the exact
solution, certified by the optimality conditions. Coordinate descent
(``solver="cd"``) instead stops at a tolerance. This example shows what the tolerance
costs: objective gap against time for coordinate descent at several tolerances, with
the homotopy as a single exact point, on image patches and a coherent dictionary of
random patches (a hard case for coordinate descent).
"""

# %%
# Patches and dictionary
# ----------------------
# 8x8 patches of ``china.jpg``, mean-subtracted; 256 atoms drawn from other patches of
# the image and scaled to unit norm. The atoms span only 63 dimensions and many of
# them are strongly correlated.

import time

import matplotlib.pyplot as plt
import numpy as np

from sparsopt.datasets import load_image_patches
from sparsopt.solvers import encode

X = load_image_patches("china", (8, 8), n_patches=2000, random_state=0)
X /= X.std()
cand = load_image_patches("china", (8, 8), n_patches=1024, random_state=1)
norms = np.linalg.norm(cand, axis=1)
D = cand[norms >= np.median(norms)][:256]
D /= np.linalg.norm(D, axis=1, keepdims=True)
G = D @ D.T
alpha = 1.0


def objective(C):
    R = X - C @ D
    return 0.5 * np.sum(R * R) + alpha * np.abs(C).sum()


def timed(**kw):
    encode(X[:20], D, alpha=alpha, gram=G, **kw)  # compile before timing
    t0 = time.perf_counter()
    res = encode(X, D, alpha=alpha, gram=G, **kw)
    return res.x, res, time.perf_counter() - t0


# %%
# The exact codes, and coordinate descent at a range of tolerances
# ----------------------------------------------------------------
# ``info["n_iter_per_sample"]`` of the homotopy holds the number of path steps of
# every patch: about the number of non-zeros, plus one per atom that leaves.

C_lars, res_lars, t_lars = timed(solver="lars")
F_star = objective(C_lars)
print(f"lars: {t_lars * 1e3:.0f} ms, finished by cd: {res_lars.info['n_finished_by_cd']} "
      f"of {len(X)} patches, {np.mean(np.count_nonzero(C_lars, axis=1)):.1f} non-zeros "
      "per patch")

tols = [1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8]
cd_times, cd_gaps = [], []
for tol in tols:
    C, _, t = timed(solver="cd", tol=tol, max_iter=10_000)
    cd_times.append(t)
    cd_gaps.append(max((objective(C) - F_star) / F_star, 1e-16))
    print(f"cd tol={tol:.0e}: {t * 1e3:6.0f} ms, (F - F*)/F* = {cd_gaps[-1]:.1e}")

# %%
# Time against accuracy
# ---------------------
# Coordinate descent is fast at a loose tolerance, but the objective gap only closes
# geometrically; the homotopy costs about as much as coordinate descent at a
# tolerance of 1e-3 and gives the solution to rounding. (Timings on a shared machine
# vary from run to run; see ``benchmarks/bench_sparse_coding.py`` for a careful
# comparison with scikit-learn.)

steps = res_lars.info["n_iter_per_sample"]
nnz = np.count_nonzero(C_lars, axis=1)
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 4))
ax0.loglog(cd_times, cd_gaps, "o-", label="cd (tol = 1e-2 ... 1e-8)")
for t, g, tol in zip(cd_times, cd_gaps, tols):
    ax0.annotate(f"{tol:.0e}", (t, g), textcoords="offset points", xytext=(4, 4),
                 fontsize=7)
ax0.loglog([t_lars], [max((objective(C_lars) - F_star) / F_star, 1e-16)], "r*",
           markersize=14, label="lars (exact)")
ax0.set_xlabel("time (s)")
ax0.set_ylabel("(F - F*) / F*  (floored at 1e-16)")
ax0.set_title("l1 codes of 2000 patches, 256 atoms")
ax0.legend()
ax1.scatter(nnz + 0.2 * np.random.default_rng(0).standard_normal(nnz.size), steps, s=4,
            alpha=0.4)
ax1.plot([0, nnz.max()], [0, nnz.max()], "k--", lw=1, label="steps = non-zeros")
ax1.set_xlabel("non-zeros of the exact code")
ax1.set_ylabel("homotopy steps")
ax1.set_title("path length per patch")
ax1.legend()
fig.tight_layout()
plt.show()
