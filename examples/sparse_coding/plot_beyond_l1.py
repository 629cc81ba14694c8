"""
===============================================
Sparse coding beyond ℓ1: error against sparsity
===============================================

Rentzeperis, Calatroni, Perrinet and Prandi (2023) compare sparse codes of image
patches obtained with four regularizers: ℓ1 (soft thresholding), ℓ1/2 (half
thresholding), CEL0 (a continuous exact relaxation of ℓ0) and ℓ0 (hard thresholding).
Their headline is that, **at the same number of active units**, the nonconvex penalties
reconstruct much better than ℓ1: about 5 times lower error for CEL0.

This example reproduces the comparison at a fixed dictionary. Each signal ``x`` gets
the code

.. math::

    c(x) = \\arg\\min_c \\tfrac12 \\lVert x - c D\\rVert^2 + \\alpha\\,\\mathrm{pen}(c),

and we sweep ``alpha`` to trace, for each penalty, the relative reconstruction error
:math:`\\lVert X - C D\\rVert^2 / \\lVert X\\rVert^2` against the mean number of non-zeros
per signal. First on the synthetic problem of the paper's setting, solved with the
paper's algorithm (ISTA from zero), then on natural image patches with coordinate
descent.
"""

# %%
# A synthetic problem with a known sparse code
# --------------------------------------------
# :func:`~sparsopt.datasets.make_sparse_coding_problem` draws a random dictionary of 256
# unit-norm atoms in dimension 64, codes with 8 non-zeros and signals with 10% noise
# (the spec's setting, with 100 signals instead of 500 to keep the example fast). We
# run :func:`~sparsopt.solvers.ista` from zero with the step ``0.9 / ||D||_2^2``, as
# the paper's code does, for at most 1000 iterations (the spec's reproduction runs 1500;
# the curves barely move). The values of ``alpha`` are in
# sparsopt's convention, ``alpha * pen(c)``; for hard and half thresholding they are
# half the paper's λ (see :ref:`paper_lambda`). CEL0 takes the atom norms ``a``.

import warnings

import matplotlib.pyplot as plt
import numpy as np

from sparsopt.datasets import load_image_patches, make_sparse_coding_problem
from sparsopt.decomposition import sparse_encode
from sparsopt.exceptions import ConvergenceWarning
from sparsopt.penalties import CEL0, L0, L1, Lq
from sparsopt.solvers import ista

X, D, codes_true = make_sparse_coding_problem(100, 64, 256, 8, noise=0.1, random_state=0)
gram = D @ D.T
step = 0.9 / np.linalg.norm(D, 2) ** 2
atom_norms = np.linalg.norm(D, axis=1)

# (label, penalty factory, values of alpha: from about 10 down to about 6 non-zeros)
methods = [
    ("ℓ1 (soft)", lambda alpha: L1(alpha), [0.16, 0.23, 0.33, 0.46]),
    ("ℓ1/2 (half)", lambda alpha: Lq(alpha, q=0.5), [0.02, 0.03, 0.045, 0.065]),
    ("CEL0", lambda alpha: CEL0(alpha, a=atom_norms), [0.0075, 0.0095, 0.012, 0.018]),
    ("ℓ0 (hard, IHT from zero)", lambda alpha: L0(alpha), [0.02, 0.03, 0.045, 0.065]),
]


def error_and_sparsity(X, D, codes):
    residual = X - codes @ D
    rel_err = np.sum(residual**2) / np.sum(X**2)
    return rel_err, np.mean(np.count_nonzero(codes, axis=1))


curves = {}
with warnings.catch_warnings():
    # CEL0 and l1/2 are still pruning small entries after 1000 iterations: we keep
    # the budget small and silence the warning that says so.
    warnings.simplefilter("ignore", ConvergenceWarning)
    for label, make_penalty, alphas in methods:
        points = []
        for alpha in alphas:
            res = ista(X, D, penalty=make_penalty(alpha), step=step, max_iter=1000, tol=1e-5,
                       gram=gram)
            points.append(error_and_sparsity(X, D, res.x))
        curves[label] = np.array(sorted(points, key=lambda p: p[1]))

fig, ax = plt.subplots(figsize=(6.5, 4.5), layout="constrained")
for label, pts in curves.items():
    ax.plot(pts[:, 1], pts[:, 0], "o-", label=label)
ax.axvline(8, color="0.6", ls=":", lw=1)
ax.set_yscale("log")
ax.set_xlabel("mean number of non-zeros per signal")
ax.set_ylabel("relative error ||X - C D||² / ||X||²")
ax.set_title("Synthetic signals (8 true atoms), ISTA from zero")
ax.grid(alpha=0.3, which="both")
ax.legend()
plt.show()

# %%
# Error at matched sparsity
# -------------------------
# Interpolating each curve (log-error against the number of non-zeros) gives the error
# of each penalty at the same sparsity.


def error_at(pts, nnz):
    return float(np.exp(np.interp(nnz, pts[:, 1], np.log(pts[:, 0]))))


for nnz in (7, 8, 9):
    errs = {label: error_at(pts, nnz) for label, pts in curves.items()}
    cells = ", ".join(f"{label.split()[0]} {e:.4f}" for label, e in errs.items())
    print(f"{nnz:2d} non-zeros: {cells}; ℓ1 / CEL0 = "
          f"{errs['ℓ1 (soft)'] / errs['CEL0']:.1f}")

# %%
# At every sparsity the order is **CEL0 < ℓ1/2 < ℓ1**, with ℓ1 several times worse than
# CEL0 around the true sparsity (8): ℓ1 shrinks every active coefficient by
# ``alpha``, so to keep the error down it must use more atoms, whereas CEL0 and ℓ1/2
# leave large coefficients almost unbiased. CEL0 relaxes ℓ0 exactly (same global
# minimizers), but its objective is much better behaved for a descent method.
#
# Plain hard thresholding (IHT started from zero) does **worse than ℓ1** here: it
# stops in a poor local minimum of the ℓ0 objective. The ℓ0 penalty is not the
# problem, the algorithm is: see :func:`~sparsopt.solvers.omp` or CEL0 for better
# ℓ0-type codes.
#
# Natural image patches
# ---------------------
# The same comparison on 8x8 patches of a photograph
# (:func:`~sparsopt.datasets.load_image_patches`, centered, scaled to unit standard
# deviation), with a dictionary made of 256 other patches normalized to unit norm (no
# learning). Here we use :func:`~sparsopt.decomposition.sparse_encode` with
# coordinate descent (``solver="cd"``), much faster than ISTA for separable penalties;
# ``penalty="cel0"`` gets the atom norms automatically.

X = load_image_patches(n_patches=500, random_state=0)
X /= X.std()
candidates = load_image_patches(n_patches=1024, random_state=1)
norms = np.linalg.norm(candidates, axis=1)
D = candidates[norms >= np.median(norms)][:256]  # skip flat, noise-like patches
D /= np.linalg.norm(D, axis=1, keepdims=True)
gram = D @ D.T

grids = {
    "ℓ1 (soft)": ("l1", np.geomspace(0.6, 3.0, 4)),
    "ℓ1/2 (half)": ("l1/2", np.geomspace(0.3, 1.5, 4)),
    "CEL0": ("cel0", np.geomspace(0.4, 2.0, 4)),
    "ℓ0 (hard)": ("l0", np.geomspace(0.4, 2.0, 4)),
}
patch_curves = {}
for label, (penalty, alphas) in grids.items():
    points = [
        error_and_sparsity(X, D, sparse_encode(X, D, penalty=penalty, alpha=alpha,
                                               solver="cd", max_iter=2000, gram=gram))
        for alpha in alphas
    ]
    patch_curves[label] = np.array(sorted(points, key=lambda p: p[1]))

fig, ax = plt.subplots(figsize=(6.5, 4.5), layout="constrained")
for label, pts in patch_curves.items():
    ax.plot(pts[:, 1], pts[:, 0], "o-", label=label)
ax.set_yscale("log")
ax.set_xlabel("mean number of non-zeros per patch")
ax.set_ylabel("relative error ||X - C D||² / ||X||²")
ax.set_title("8x8 image patches, 256 patch atoms, coordinate descent")
ax.grid(alpha=0.3, which="both")
ax.legend()
plt.show()

for nnz in (5, 8, 11):
    errs = {label: error_at(pts, nnz) for label, pts in patch_curves.items()}
    print(f"{nnz:2d} non-zeros per patch: "
          + ", ".join(f"{label.split()[0]} {e:.3f}" for label, e in errs.items()))

# %%
# On patches the nonconvex penalties again beat ℓ1 at equal sparsity, by a factor of
# 2 to 4 in error. Here ℓ1/2 does best: with a real, very correlated dictionary and
# another solver, the ranking among the nonconvex penalties is not universal (the
# paper learns the dictionary jointly with the codes). Coordinate descent started from
# zero handles ℓ0 much better than IHT does: it updates one atom at a time with the
# exact minimizer, so ℓ0 and its exact relaxation CEL0 reach about the same codes.
# Which penalty and solver to use when is discussed in :ref:`user_guide_sparse_coding`.
