"""Partitions and block-selection rules of :func:`sparsopt.solvers.blockcd.engine`.

Internal module. Fixed blocks (FB) come from :func:`make_partition`; variable
blocks (VB) are drawn afresh every iteration. See :func:`sparsopt.solvers.blockcd.engine` for
the rules and Nutini, Laradji and Schmidt (2022) for their analysis.
"""

from __future__ import annotations

import numpy as np

from .updates import EPS_REG

SELECTIONS = ("cyclic", "random", "lipschitz", "gs", "gsl", "gsd", "gsq", "gs-q", "gs-s", "gs-r")
PROXIMAL = ("gs-q", "gs-s", "gs-r")
PARTITIONS = ("sort", "order", "avg", "hsort", "havg", "variable")
IHT_ITERS = 10


def make_partition(kind, L, block_size, H_rows=None):
    """Fixed blocks as an int array of shape ``(n_blocks, block_size)``.

    ``"order"``: contiguous blocks; ``"sort"``: coordinates sorted by ``L_i``
    (descending) cut into consecutive blocks (similar constants in each block);
    ``"avg"``: the sorted order interleaved largest/smallest before cutting, so that
    every block has a similar average constant. ``"hsort"`` / ``"havg"``: the same
    two constructions keyed on the Hessian row sums ``H_rows[i] >= sum_j |H_ij|``
    instead of ``L_i`` (coupling to the other coordinates, not only curvature).
    """
    if kind in ("hsort", "havg"):
        L, kind = H_rows, kind[1:]
    m = L.size
    if kind == "order":
        order = np.arange(m)
    else:
        order = np.argsort(-L, kind="stable")
        if kind == "avg":
            inter = np.empty(m, dtype=np.int64)
            inter[0::2] = order[: (m + 1) // 2]
            inter[1::2] = order[::-1][: m // 2]
            order = inter
    return order.reshape(-1, block_size).astype(np.int64)


def lipschitz_weights(L):
    """Sampling probabilities ``L / sum(L)`` of the ``"lipschitz"`` rule (None: all zero)."""
    return L / L.sum() if L.sum() > 0 else None


def pick_oblivious(selection, k, n_blocks, rng, p_blocks):
    """The fixed block of iteration ``k`` under a rule that does not read the gradient
    (``"cyclic"``, ``"random"``, ``"lipschitz"`` with ``p_blocks``); None for the others."""
    if selection == "cyclic":
        return k % n_blocks
    if selection == "random" or (selection == "lipschitz" and p_blocks is None):
        return int(rng.integers(n_blocks))
    if selection == "lipschitz":
        return int(rng.choice(n_blocks, p=p_blocks))
    return None


def _top(score, tau):
    """Sorted indices of the ``tau`` largest scores; ties go to the lowest indices.

    ``argpartition`` alone leaves the choice among tied scores to NumPy's selection
    algorithm, which changed in NumPy 2: with all scores equal (an L0 penalty at ``x = 0``
    gives GS-s and GSL nothing to rank) the blocks, and so the iterates, depended on the
    NumPy release. Still O(m).
    """
    m = score.size
    if tau >= m:
        return np.arange(m, dtype=np.int64)
    kth = -np.partition(-score, tau - 1)[tau - 1]
    above = np.flatnonzero(score > kth)
    tied = np.flatnonzero(score == kth)[:tau - above.size]
    if above.size + tied.size < tau:  # NaN scores: no order to keep
        return np.sort(np.argpartition(-score, tau - 1)[:tau]).astype(np.int64)
    return np.sort(np.concatenate([above, tied])).astype(np.int64)


class Selector:
    """Picks the block of each iteration.

    Parameters
    ----------
    selection : str
    blocks : ndarray of shape (n_blocks, block_size) or None
        Fixed partition, or ``None`` for variable blocks.
    block_size : int
    oracle : Oracle
    pen : BlockPenalty
        The penalty, read through its spec.
    block_norm : {"l2", "l1"}
    rng : numpy.random.Generator
    cache : dict
        Per-block constants of the fixed partition (``"Lb"``, ``"Hinv"``).
    """

    def __init__(self, selection, blocks, block_size, oracle, pen, block_norm, rng, cache):
        self.sel = selection
        self.blocks = blocks
        self.tau = block_size
        self.o = oracle
        self.pen = pen
        self.norm = block_norm
        self.rng = rng
        self.cache = cache
        L = oracle.L
        self.L_safe = np.where(L > 0.0, L, 1.0)
        self.live = L > 0.0  # zero columns have no gradient and are never worth selecting
        self.L_prox = np.ascontiguousarray(pen.curv(self.L_safe), dtype=np.float64)
        self._perm = None
        self._pos = 0
        if blocks is not None:
            self.Lc = L[blocks]
            self.Lc_safe = self.L_safe[blocks]
            self.p_blocks = lipschitz_weights(cache["Lb"]) if selection == "lipschitz" else None
        else:
            if selection == "lipschitz":
                self.p_coord = lipschitz_weights(L)
            if selection == "gsl":
                d = oracle.gershgorin()
                self.d_gsl = np.where(d > 0.0, d, 1.0)
            if selection == "gsq":
                lmax = oracle.lmax_global(rng)
                self.mu = 1.0 / lmax if lmax > 0 else 0.0

    def __call__(self, k, g):
        """Return ``(block, block_id)`` (``block_id`` is ``None`` for variable blocks)."""
        if self.sel in ("gs", "gsl", "gsd", "gsq") and self.pen.obj is not None:
            # the penalty's (sub)gradient counts too: a smooth ridge term as well, else the
            # rules stall on coordinates its gradient holds at the optimum
            g = self._free_grad(g)
        if self.blocks is not None:
            bid = self._fixed(k, g)
            return self.blocks[bid], bid
        return self._variable(g), None

    # ---------------------------------------------------------------- per-coordinate
    def _free_grad(self, g):
        """What the non-proximal greedy rules score when the penalty is nonsmooth.

        The plain gradient stalls on coordinates held at zero by the penalty; score the
        signed minimum-norm element of ``g + d pen(x)`` instead (from the penalty's spec).
        """
        return self.pen.min_norm_subgrad(self.o.x, g, self.L_prox)

    def _prox_scores(self, g):
        """Per-coordinate scores of the proximal rules (larger is better)."""
        x, pen, L = self.o.x, self.pen, self.L_prox
        if self.sel == "gs-s":
            s = pen.subdiff_dist(x, g, L)
        else:
            z = pen.prox(x - g / L, 1.0 / L)
            d = z - x
            if self.sel == "gs-r":
                s = np.abs(d)
            else:  # gs-q: minus the model decrease of a coordinate step (>= 0)
                dpen = pen.coord_delta(x, z)
                s = -(g * d + 0.5 * L * d * d + dpen)
        return np.where(self.live, s, 0.0)

    def _agg(self, S):
        """Block norm of per-coordinate scores ``S`` of shape (n_blocks, tau)."""
        return np.sqrt((S * S).sum(axis=1)) if self.norm == "l2" else np.abs(S).sum(axis=1)

    # ---------------------------------------------------------------- fixed blocks
    def _fixed(self, k, g):
        sel = self.sel
        bid = pick_oblivious(sel, k, self.blocks.shape[0], self.rng, self.p_blocks)
        if bid is not None:
            return bid
        G = g[self.blocks]
        if sel == "gs":
            score = self._agg(G)
        elif sel == "gsl":
            Lb = self.cache["Lb"]
            score = self._agg(G) / np.sqrt(np.where(Lb > 0, Lb, np.inf))
        elif sel == "gsd":
            if self.norm == "l2":
                score = (G * G / self.Lc_safe).sum(axis=1)
            else:
                score = (np.abs(G) / np.sqrt(self.Lc_safe)).sum(axis=1)
        elif sel == "gsq":
            score = np.einsum("bi,bij,bj->b", G, self.cache["Hinv"], G)
        else:
            S = self._prox_scores(g)[self.blocks]
            score = S.sum(axis=1) if sel == "gs-q" else self._agg(S)
        return int(np.argmax(score))

    # ---------------------------------------------------------------- variable blocks
    def _variable(self, g):
        sel, m, tau, rng = self.sel, self.o.m, self.tau, self.rng
        if sel == "cyclic":  # a fresh random permutation every epoch, then chunks
            if self._perm is None or self._pos >= m:
                self._perm = rng.permutation(m).astype(np.int64)
                self._pos = 0
            b = np.sort(self._perm[self._pos:self._pos + tau])
            self._pos += tau
            return b
        if sel == "random":
            return np.sort(rng.choice(m, size=min(tau, m), replace=False)).astype(np.int64)
        if sel == "lipschitz":
            n_live = int(np.count_nonzero(self.o.L))
            if self.p_coord is None or n_live < tau:
                return np.sort(rng.choice(m, size=min(tau, m), replace=False)).astype(np.int64)
            return np.sort(rng.choice(m, size=tau, replace=False, p=self.p_coord)).astype(
                np.int64)
        if sel == "gs":
            return _top(np.abs(g), tau)
        if sel == "gsl":
            return _top(np.abs(g) / np.sqrt(self.d_gsl), tau)
        if sel == "gsd":
            return _top(np.where(self.live, np.abs(g) / np.sqrt(self.L_safe), 0.0), tau)
        if sel == "gsq":
            return self._iht(g)
        return _top(self._prox_scores(g), tau)

    def _iht(self, g):
        """IHT approximation of variable-block GSQ: support of a tau-sparse ``-H^-1 g``."""
        o, tau, mu = self.o, self.tau, self.mu
        # the reference code's start g / sqrt(L) on its sum objective (scale-free here)
        d = np.where(self.live, g / np.sqrt(self.L_safe * o.c), 0.0)
        supp = None
        for _ in range(IHT_ITERS):
            d_old = d
            Hd = o.hvp_bound(d) if supp is None else o.hvp_bound_support(supp, d[supp])
            d = d - mu * (g + Hd)
            supp = _top(np.abs(d), tau)
            dd = np.zeros_like(d)
            dd[supp] = d[supp]
            d = dd
            if np.linalg.norm(d - d_old) < 1e-10:
                break
        return supp


def block_cache(blocks, oracle, selection, update):
    """Per-block constants of a fixed partition: ``Lb``, ``H`` (matrix updates), ``Hinv``."""
    need_H = selection == "gsq" or update in ("matrix", "exact")
    need_Lb = selection in ("gsl", "lipschitz") or update == "lipschitz"
    cache = {}
    if not (need_H or need_Lb):
        return cache
    if blocks.shape[1] == 1 and not need_H:
        cache["Lb"] = oracle.L[blocks[:, 0]].copy()
        return cache
    H = oracle.hess_bound_blocks(blocks)
    if need_Lb:
        cache["Lb"] = np.linalg.eigvalsh(H)[:, -1]
    if need_H:
        cache["H"] = H
    if selection == "gsq":
        tau = blocks.shape[1]
        cache["Hinv"] = np.linalg.pinv(H + EPS_REG * np.eye(tau), hermitian=True)
    return cache
