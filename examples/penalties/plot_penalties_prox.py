"""
======================================
Penalties and their proximal operators
======================================

Every penalty in :mod:`sparsopt.penalties` has a ``value`` and a ``prox``, with one
convention for all of them: the objective is ``loss(x) + value(x)``, where ``value``
already contains the strength ``alpha``, and

.. math::

    \\operatorname{prox}(t, \\text{step}) = \\arg\\min_x \\tfrac12 (x - t)^2
    + \\text{step} \\cdot \\text{value}(x).

This example draws, for each separable penalty, its value on ``[-3, 3]`` and its
proximal operator at ``step = 1`` against the identity, then shows how the two
group penalties shrink a vector made of two groups.
"""

# %%
# Separable penalties: value and prox
# -----------------------------------
# The parameters are picked so that every threshold sits near 1 and the shapes
# are easy to compare. The nonconvex penalties need a small enough step for the
# prox to be well defined: ``CEL0`` needs ``a**2 * step < 1``, ``MCP`` needs
# ``gamma > step`` and ``SCAD`` needs ``gamma > 1 + step`` (``prox`` raises a
# ``ValueError`` otherwise); the values below satisfy them at ``step = 1``.

import matplotlib.pyplot as plt
import numpy as np

from sparsopt.penalties import CEL0, L0, L1, MCP, SCAD, ElasticNet, GroupL21, KSupport, Log, Lq

penalties = [
    ("L1 (soft)", L1(alpha=1.0)),
    ("ElasticNet (soft + scaling)", ElasticNet(alpha=1.0, l1_ratio=0.5)),
    ("L0 (hard)", L0(alpha=0.5)),
    ("Lq, q=1/2 (half)", Lq(alpha=0.5, q=0.5)),
    ("CEL0 (firm)", CEL0(alpha=0.5, a=0.8)),
    ("MCP (firm)", MCP(alpha=1.0, gamma=2.5)),
    ("SCAD", SCAD(alpha=1.0, gamma=3.7)),
    ("Log", Log(alpha=1.0, eps=0.5)),
]

t = np.linspace(-3.0, 3.0, 1201)
step = 1.0

fig, axes = plt.subplots(4, 4, figsize=(13, 11), layout="constrained")
for i, (name, pen) in enumerate(penalties):
    row, col = 2 * (i // 4), i % 4
    # value(x) of a scalar x: treat each grid point as a 1-vector, one value per row
    values = pen.value(t[:, None], per_row=True)
    ax = axes[row, col]
    ax.plot(t, values, color="C0")
    ax.set_title(name, fontsize=10)
    ax.set_ylabel("value(x)" if col == 0 else "")
    ax.set_ylim(-0.1, 3.1)
    ax.grid(alpha=0.3)

    ax = axes[row + 1, col]
    ax.plot(t, t, color="0.6", lw=1, ls="--", label="identity")
    ax.plot(t, pen.prox(t, step=step), color="C3", label="prox(t, 1)")
    ax.set_ylabel("prox(t, step=1)" if col == 0 else "")
    ax.set_xlabel("t")
    ax.set_ylim(-3.1, 3.1)
    ax.grid(alpha=0.3)
axes[1, 0].legend(loc="upper left", fontsize=8)
fig.suptitle("Separable penalties (rows 1 and 3) and their proximal operators at step 1 "
             "(rows 2 and 4)")
plt.show()

# %%
# Reading the shapes
# ------------------
# * **Soft thresholding** (``L1``): every entry is pulled toward zero by
#   ``step * alpha`` and small entries are set to zero. The shrinkage never stops,
#   which biases large coefficients. ``ElasticNet`` adds a uniform scaling
#   ``1 / (1 + step * alpha * (1 - l1_ratio))`` on top.
# * **Hard thresholding** (``L0``): entries below ``sqrt(2 * step * alpha)`` are
#   set to zero, the others are kept unchanged. No bias, but the operator jumps.
# * **Half thresholding** (``Lq`` with ``q = 1/2``): also a jump, at
#   ``1.5 * (step * alpha) ** (2/3)``, followed by a shrinkage that fades as
#   ``|t|`` grows: a compromise between soft and hard.
# * **Firm thresholding** (``MCP`` and ``CEL0``): zero up to a threshold, then a
#   steeper-than-identity line, then the identity. Continuous like soft
#   thresholding, unbiased for large entries like hard thresholding. For ``CEL0``
#   the zone ends at ``sqrt(2 * alpha) / a``; for ``MCP`` at ``gamma * alpha``.
# * **SCAD**: soft thresholding up to ``(1 + step) * alpha``, a linear transition
#   up to ``gamma * alpha``, then the identity.
# * **Log**: continuous shrinkage that vanishes for large ``|t|``; when
#   ``step * alpha > eps**2`` (as here) the prox jumps from zero to a non-zero value.
#
# The concave penalties (all but ``L1`` and ``ElasticNet``) saturate or grow
# slowly, which is what removes the bias on large coefficients, at the price of
# an objective with local minima (see :ref:`user_guide_penalties`).
#
# Group penalties on a two-group vector
# -------------------------------------
# Group penalties act on the last axis of the array and are not separable.
# ``GroupL21`` (group lasso) shrinks the Euclidean norm of each group by
# ``step * alpha * w_g`` and zeroes the groups whose norm falls below it: this is
# block soft thresholding. ``KSupport`` (the squared group k-support norm, also
# called WGSEF) with ``k = 1`` favours a single non-zero group, but its prox is a
# shrinkage, not a hard selector: for small ``alpha`` both groups stay non-zero.
# Below, ``x`` has two groups of two entries.

x = np.array([3.0, -2.0, 1.5, 1.0])
groups = [[0, 1], [2, 3]]
group_l21 = GroupL21(alpha=1.0, groups=groups, weights=[1.0, 1.0])
ksupport = KSupport(alpha=1.0, k=1, groups=groups)

alphas = np.linspace(0.0, 4.0, 161)


def group_norms(z):
    return np.array([np.linalg.norm(z[g]) for g in groups])


paths = {}
for name, pen in [("GroupL21", group_l21), ("KSupport, k=1", ksupport)]:
    paths[name] = np.array(
        [group_norms(pen.set_params(alpha=a).prox(x, step=1.0)) for a in alphas]
    )

fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), layout="constrained")
ax = axes[0]
width = 0.27
idx = np.arange(x.size)
shown_alpha = 0.5
ax.bar(idx - width, x, width, label="x", color="0.6")
ax.bar(idx, group_l21.set_params(alpha=shown_alpha).prox(x), width, label="GroupL21 prox",
       color="C0")
ax.bar(idx + width, ksupport.set_params(alpha=shown_alpha).prox(x), width,
       label="KSupport (k=1) prox", color="C2")
ax.axvline(1.5, color="k", lw=0.8)
ax.set_xticks(idx, ["x0 (g0)", "x1 (g0)", "x2 (g1)", "x3 (g1)"])
ax.set_title(f"prox at alpha = {shown_alpha}, step = 1", fontsize=10)
ax.legend(fontsize=8)
ax.grid(alpha=0.3, axis="y")

for ax, (name, path) in zip(axes[1:], paths.items()):
    ax.plot(alphas, path[:, 0], label="group 0", color="C1")
    ax.plot(alphas, path[:, 1], label="group 1", color="C4")
    ax.set_title(f"{name}: group norms of prox(x)", fontsize=10)
    ax.set_xlabel("alpha (step = 1)")
    ax.set_ylabel("||prox(x)_g||_2")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
plt.show()

# %%
# ``GroupL21`` zeroes group 1 at ``alpha = ||x_1||_2 = 1.80`` and group 0 at
# ``alpha = ||x_0||_2 = 3.61``: the norms decrease linearly. ``KSupport`` with
# ``k = 1`` zeroes the weaker group earlier (here at ``alpha = 1``), then shrinks
# the remaining one smoothly without ever setting it to zero. Both are convex, so proximal
# gradient solvers reach their global minimum; use ``L0``-type penalties when an
# exact count of non-zeros is required.
