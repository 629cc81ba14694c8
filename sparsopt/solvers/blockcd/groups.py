"""Group-separable penalties in :func:`bcd`: blocks equal to the groups.

Internal module of :mod:`sparsopt.solvers.blockcd.engine`. A penalty that is a sum of
group norms over disjoint groups (``GroupL21``, optionally ``+ Positive()``) reaches the
solver only through :meth:`~sparsopt.penalties.Penalty.group_spec`: the groups
``indices[indptr[g]:indptr[g+1]]``, the thresholds ``t_g = alpha * w_g`` and the orthant
(``lower == 0``). The fixed partition is the groups (in the spec's order), then every
feature in no group as its own singleton block (threshold 0: unpenalised, but still under
the orthant). The prox of a block with step ``s`` is the block soft threshold
``max(1 - s t_b / ||v||, 0) v`` (of ``max(v, 0)`` under ``Positive()``), so a block
proximal gradient step with ``1 / L_b`` is exact, and every score below is a closed form
on the block:

* the minimum-norm element ``s_b`` of ``g_b + t_b d||x_b|| (+ normal cone)``: the GS /
  GSL / GSD scores and the GS-s score (``||s_b||``, the block's subdifferential distance);
* the block prox residual ``d_b = prox_b(x_b - g_b / L_b) - x_b``: GS-r (``||d_b||``),
  GS-q (minus the decrease of the block's proximal model) and the stopping criterion
  ``max_b L_b ||d_b||``.

Everything is vectorised over the blocks laid out one after the other
(``order``, ``ptr``): ``np.add.reduceat`` gives the block sums.

For ``loss="multinomial"`` the coordinates are ``W.ravel()`` (``W`` of shape
``(n_features, n_classes)``): ``GroupL21(alpha, groups=n_classes)`` is the row-wise group
lasso (a feature is used by all classes or by none).
"""

from __future__ import annotations

import numpy as np

from .rules import lipschitz_weights, pick_oblivious

#: selection rules that make sense with blocks equal to the groups
GROUP_SELECTIONS = ("cyclic", "random", "lipschitz", "gs", "gsl", "gsd", "gs-q", "gs-s",
                    "gs-r")
#: block updates that are a block proximal gradient step (the block soft threshold)
GROUP_UPDATES = ("lipschitz", "line_search")


def group_options_error(owner, pen, update, partition, selection, block_size, max_group):
    """The one ``ValueError`` message for an option that does not apply with a group
    penalty, or ``None`` when all apply. ``max_group`` is the largest block (``None``
    before the data are known)."""
    bad = []
    if update not in GROUP_UPDATES:
        bad.append(f"update={update!r} (the block solves need a QP form of the penalty)")
    if partition == "variable":
        bad.append("partition='variable' (a variable block cuts through the groups)")
    if selection not in GROUP_SELECTIONS:
        bad.append(f"selection={selection!r} (GSQ scores the block solve of a matrix "
                   "update)")
    if block_size is not None and max_group is not None and block_size != max_group:
        bad.append(f"block_size={block_size} (the largest group has {max_group} "
                   "coordinates; another size would split or merge groups)")
    if not bad:
        return None
    return (
        f"{owner}: with the group penalty {pen!r} the blocks are its groups and the update is "
        f"a block proximal gradient step, so {' and '.join(bad)} "
        f"{'does' if len(bad) == 1 else 'do'} not apply. Use update in {list(GROUP_UPDATES)}, "
        "a fixed partition (the groups in their order), block_size=None (or the largest "
        f"group's size) and selection in {list(GROUP_SELECTIONS)}; or proximal_gradient."
    )


class GroupBlockPenalty:
    """A group-separable penalty as the block updates and rules see it.

    Parameters
    ----------
    pen : Penalty
        Answers ``group_spec`` (e.g. ``GroupL21``, optionally ``+ Positive()``).
    oracle : Oracle
        The smooth part (its ``m`` coordinates and block bounds ``L_b``).
    solver : str
        Name in the error messages.
    """

    def __init__(self, pen, oracle, solver="bcd"):
        m = oracle.m
        try:
            spec = pen.group_spec(m, solver=solver)
        except TypeError as exc:
            raise TypeError(
                f"{exc} {solver} takes a separable penalty (through its spec) or a sum of "
                "group norms over disjoint groups; for another penalty use proximal_gradient, "
                "which only needs its prox."
            ) from None
        self.obj = pen
        self.lower, self.upper = spec.lower, np.inf
        self.positive = spec.lower == 0.0
        grouped = np.zeros(m, dtype=bool)
        grouped[spec.indices] = True
        free = np.flatnonzero(~grouped).astype(np.int64)
        sizes = np.r_[np.diff(spec.indptr), np.ones(free.size, dtype=np.int64)]
        #: coordinates of every block, one block after the other
        self.order = np.ascontiguousarray(np.r_[spec.indices, free], dtype=np.int64)
        self.ptr = np.r_[0, np.cumsum(sizes)].astype(np.int64)
        self.sizes = sizes
        self.n_blocks = sizes.size
        self.blocks = [self.order[self.ptr[k]:self.ptr[k + 1]] for k in range(self.n_blocks)]
        #: threshold ``t_b`` of each block (0 for the unpenalised singletons)
        self.t = np.r_[spec.thresholds, np.zeros(free.size)]
        self.max_size = int(sizes.max()) if sizes.size else 0
        # block bounds L_b (largest eigenvalue of the block's Hessian bound), once
        self.Lb = np.array([oracle.lmax_bound(b) for b in self.blocks], dtype=np.float64)
        self.live = self.Lb > 0.0  # a block the loss ignores is never worth selecting
        self.Lb_safe = np.where(self.live, self.Lb, 1.0)
        self._Lcoord = np.repeat(self.Lb_safe, sizes)  # L_b per ordered coordinate
        self._starts = self.ptr[:-1]

    # ------------------------------------------------------------------ helpers
    def _bsum(self, a):
        """Block sums of an array laid out in ``order``."""
        return np.add.reduceat(a, self._starts) if a.size else a

    def _shrink(self, v, step):
        """Block soft threshold of ordered ``v`` with one step per block (vectorised)."""
        if self.positive:
            v = np.maximum(v, 0.0)
        nrm = np.sqrt(self._bsum(v * v))
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(nrm > 0.0, np.maximum(1.0 - step * self.t / nrm, 0.0), 0.0)
        return v * np.repeat(f, self.sizes)

    def curv(self, L):
        """The curvature the prox step uses (the block constant itself: convex)."""
        return L

    # ------------------------------------------------------------------ values
    def value(self, x):
        xo = np.asarray(x, dtype=np.float64)[self.order]
        if self.positive and xo.size and xo.min() < 0.0:
            return np.inf
        return float(self.t @ np.sqrt(self._bsum(xo * xo)))

    def project(self, x):
        return np.maximum(x, 0.0) if self.positive else x

    def block_prox(self, v, step, block_id):
        """Block soft threshold of block ``block_id`` with step ``step`` (scalar)."""
        v = np.asarray(v, dtype=np.float64)
        if self.positive:
            v = np.maximum(v, 0.0)
        nrm = float(np.sqrt(v @ v))
        t = step * float(self.t[block_id])
        if nrm <= t or nrm == 0.0:
            return np.zeros_like(v)
        return (1.0 - t / nrm) * v

    # ------------------------------------------------------------------ scores
    def min_norm_subgrad(self, x, g):
        """Minimum-norm element of ``g_b + t_b d||x_b|| (+ normal cone of x >= 0)`` per
        block, laid out in ``order``. Zero exactly on the blocks that are optimal."""
        xo, go = x[self.order], g[self.order]
        if self.positive:
            at0 = xo == 0.0
            go = np.where(at0, np.minimum(go, 0.0), go)  # the normal cone takes g_i > 0
        xn = np.sqrt(self._bsum(xo * xo))
        nz = xn > 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            # x_b != 0: the gradient of t ||x_b|| is t x_b / ||x_b||
            u = xo * np.repeat(np.where(nz, self.t / xn, 0.0), self.sizes)
            # x_b == 0: shrink g_b by the ball of radius t_b
            gn = np.sqrt(self._bsum(go * go))
            f0 = np.where(gn > 0.0, np.maximum(1.0 - self.t / gn, 0.0), 0.0)
        return np.where(np.repeat(nz, self.sizes), go + u, go * np.repeat(f0, self.sizes))

    def prox_residual(self, x, g):
        """Ordered ``x_o``, ``g_o`` and ``d = prox_b(x_b - g_b / L_b) - x_b`` of every block."""
        xo, go = x[self.order], g[self.order]
        d = self._shrink(xo - go / self._Lcoord, 1.0 / self.Lb_safe) - xo
        return xo, go, d

    def fixed_point_residual(self, x, g):
        """``max_b L_b ||prox_b(x_b - g_b / L_b) - x_b||`` over the blocks the loss sees."""
        _, _, d = self.prox_residual(x, g)
        r = np.where(self.live, self.Lb * np.sqrt(self._bsum(d * d)), 0.0)
        return float(r.max()) if r.size else 0.0

    def __repr__(self):
        return repr(self.obj)


class GroupSelector:
    """Picks a group (block) every iteration; the scores are block closed forms."""

    def __init__(self, selection, pen, oracle, block_norm, rng):
        self.sel = selection
        self.pen = pen
        self.o = oracle
        self.norm = block_norm
        self.rng = rng
        self.nb = pen.n_blocks
        self.p_blocks = lipschitz_weights(pen.Lb) if selection == "lipschitz" else None
        if selection == "gsd":
            L = oracle.L[pen.order]
            self._Linv = np.where(L > 0.0, 1.0 / np.where(L > 0.0, L, 1.0), 0.0)

    def _agg(self, s):
        p = self.pen
        if self.norm == "l2":
            return np.sqrt(p._bsum(s * s))
        return p._bsum(np.abs(s))

    def __call__(self, k, g):
        """Return ``(block, block_id)``."""
        bid = self._pick(k, g)
        return self.pen.blocks[bid], bid

    def _pick(self, k, g):
        sel, pen = self.sel, self.pen
        bid = pick_oblivious(sel, k, self.nb, self.rng, self.p_blocks)
        if bid is not None:
            return bid
        x = self.o.x
        if sel in ("gs", "gsl", "gsd", "gs-s"):
            s = pen.min_norm_subgrad(x, g)
            if sel == "gs":
                score = self._agg(s)
            elif sel == "gs-s":  # the block's distance to its subdifferential
                score = np.sqrt(pen._bsum(s * s))
            elif sel == "gsl":
                score = self._agg(s) / np.sqrt(pen.Lb_safe)
            else:
                score = pen._bsum(s * s * self._Linv)
        else:
            xo, go, d = pen.prox_residual(x, g)
            if sel == "gs-r":
                score = np.sqrt(pen._bsum(d * d))
            else:  # gs-q: minus the decrease of the block's proximal model (>= 0)
                z = xo + d
                zn, xn = np.sqrt(pen._bsum(z * z)), np.sqrt(pen._bsum(xo * xo))
                den = zn + xn
                with np.errstate(divide="ignore", invalid="ignore"):
                    # t (||z|| - ||x||) without cancellation near the optimum
                    dpen = np.where(den > 0.0, pen.t * pen._bsum(d * (z + xo)) / den, 0.0)
                score = -(pen._bsum(go * d) + 0.5 * pen.Lb_safe * pen._bsum(d * d) + dpen)
        return int(np.argmax(np.where(pen.live, score, -np.inf)))
