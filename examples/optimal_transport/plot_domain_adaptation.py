"""
======================================================
Domain adaptation with SinkhornTransport in a pipeline
======================================================

A classifier trained on one domain (the *source*, with labels) often fails on data
from a shifted domain (the *target*, without labels). Optimal transport domain
adaptation (Courty et al., 2017) moves the labelled source samples onto the target
distribution with an entropic transport plan, then trains the classifier on the
transported samples, which now live where the target samples are.

:class:`~sparsopt.ot.SinkhornTransport` is a scikit-learn transformer: ``fit(Xs,
Xt=Xt)`` solves the transport problem between the two samples, and ``transform`` moves
source samples to the target domain by the entropic map. In a
:class:`~sklearn.pipeline.Pipeline` the target samples are passed as a fit parameter,
``pipe.fit(Xs, ys, sinkhorntransport__Xt=Xt)``.
"""

# %%
# Two domains
# -----------
# The source is a two-moons data set; the target is another draw of the same
# distribution, rotated by 40 degrees about its centre and shifted. The target labels
# are used only to score the classifiers.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline

from sparsopt.ot import SinkhornTransport

Xs, ys = make_moons(n_samples=300, noise=0.08, random_state=0)
Xt, yt = make_moons(n_samples=300, noise=0.08, random_state=1)
angle = np.deg2rad(40)
rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
center = Xt.mean(axis=0)
Xt = (Xt - center) @ rotation.T + center + np.array([0.8, 0.6])

# %%
# Source only, and with transport
# -------------------------------
# A 5-nearest-neighbour classifier trained on the source samples, scored on the target
# samples. Then the same classifier behind ``SinkhornTransport``: the pipeline fits the
# transport, transforms the source samples and trains the classifier on them.
#
# Once fitted, the classifier of the pipeline, ``pipe[-1]``, predicts the target
# samples directly: they are already in the target domain. (``pipe.predict(X)`` would
# transport ``X`` first, which is what source-domain samples need.) As a diagnostic we
# also print the share of the mass of the plan, ``coupling_``, that goes from a source
# sample to a target sample of the other class.

source_only = KNeighborsClassifier(n_neighbors=5).fit(Xs, ys)
print(f"source only:           target accuracy {source_only.score(Xt, yt):.3f}")

pipes = {}
for reg in (1e-1, 1e-2, 1e-3):
    pipe = make_pipeline(SinkhornTransport(reg_e=reg, norm="max"),
                         KNeighborsClassifier(n_neighbors=5))
    pipe.fit(Xs, ys, sinkhorntransport__Xt=Xt)
    ot = pipe[0]
    across = ot.coupling_[ys[:, None] != yt[None, :]].sum()
    print(f"transport, reg={reg:<6g} target accuracy {pipe[-1].score(Xt, yt):.3f}  "
          f"mass across classes {across:.2f}  "
          f"({ot.n_iter_} iterations, marginal error {ot.marginal_error_:.1e})")
    pipes[reg] = pipe

# %%
# ``reg`` (the estimator's ``reg_e``) is relative to the ground cost, which is divided
# by its maximum (``norm="max"``). The smaller it is, the closer the plan is to the
# unregularised transport, each source sample going to fewer target samples; the
# larger, the more each transported sample is an average over a neighbourhood of the
# target. Even the sharpest plan sends about a sixth of the mass to the wrong class:
# transport minimises a distance and knows nothing of the classes. The smoother plan at
# ``reg=0.1`` spreads more mass across classes, yet its *averaged* map moves the
# samples of each moon to the right place and gives the best classifier here. In a
# real problem there are no target labels to choose ``reg`` with: this is the hard part
# of domain adaptation.
#
# What the transport does
# -----------------------
# Top left: the two domains, with the displacement of one source sample in five by the
# plan at ``reg=0.01``. Top right: the source-only classifier's decision regions, with
# the target samples and their true labels. Bottom: the transported source samples and
# the decision regions of the classifier trained on them, for ``reg=0.01`` and
# ``reg=0.1``, over the (unlabelled) target samples.

xx, yy = np.meshgrid(np.linspace(-1.8, 3.8, 200), np.linspace(-1.2, 3.0, 200))
grid = np.column_stack([xx.ravel(), yy.ravel()])
colors = np.array(["C0", "C1"])


def show_regions(ax, clf):
    """Decision regions of ``clf`` on the plotting grid."""
    regions = clf.predict(grid).reshape(xx.shape)
    ax.contourf(xx, yy, regions, levels=[-0.5, 0.5, 1.5], colors=["C0", "C1"], alpha=0.15)


fig, axes = plt.subplots(2, 2, figsize=(10, 7.5), layout="constrained", sharex=True,
                         sharey=True)
ax = axes[0, 0]
Xs_moved = pipes[1e-2][0].transform(Xs)
for i in range(0, len(Xs), 5):
    ax.plot([Xs[i, 0], Xs_moved[i, 0]], [Xs[i, 1], Xs_moved[i, 1]], color="0.6", lw=0.6)
ax.scatter(*Xs.T, c=colors[ys], s=12, label="source (labelled)")
ax.scatter(*Xt.T, c="0.35", s=12, marker="x", label="target (unlabelled)")
ax.set_title("source, target and displacements (reg=0.01)")
ax.legend(loc="lower right", fontsize=8)

ax = axes[0, 1]
show_regions(ax, source_only)
ax.scatter(*Xt.T, c=colors[yt], s=12, marker="x")
ax.set_title(f"trained on the source: accuracy {source_only.score(Xt, yt):.2f}")
ax.text(0.02, 0.02, "target samples, true labels", transform=ax.transAxes, fontsize=8)

for ax, reg in zip(axes[1], (1e-2, 1e-1)):
    pipe = pipes[reg]
    show_regions(ax, pipe[-1])
    ax.scatter(*Xt.T, c="0.35", s=6, marker="x", alpha=0.4)
    ax.scatter(*pipe[0].transform(Xs).T, c=colors[ys], s=12)
    ax.set_title(f"transported source, reg={reg:g}: accuracy {pipe[-1].score(Xt, yt):.2f}")
for ax in axes.ravel():
    ax.set_aspect("equal")
plt.show()

# %%
# At ``reg=0.01`` most transported source samples lie on the target moons, with their
# labels; some land between the moons or on the wrong one, and the classifier trained
# on them errs there. At ``reg=0.1`` each
# transported sample is an average over many target samples: the moons shrink towards
# their middle, which is no longer a faithful picture of the target, yet the classes
# stay apart and the decision boundary falls between the target moons. New
# source-domain samples can be moved too (``pipe[0].transform``), without refitting: the
# entropic map extends to any point. ``SinkhornTransport`` uses Sinkhorn-Newton-Sparse
# by default (``solver="sns"``), which keeps small values of ``reg`` cheap; its plan is
# dense, so memory grows as ``n_source * n_target``.
