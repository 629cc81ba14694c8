"""Numba kernels:
Message passing on forests: exact tree solves for sparse quadratics (label propagation).

The graph of a symmetric sparse matrix ``A`` is given by its CSR arrays ``(indptr,
indices, data)``: an edge ``(i, j)`` for every stored ``A_ij != 0`` with ``i != j``.
All kernels work in float64 (graph Laplacians with weights up to 1e5 are too badly
conditioned for float32 message passing) and with int64 index arrays.

* ``tree_block_solve``: the exact block update ``x_b += d``, ``A_bb d = -g_b``, when the
  block induces a forest, by two-pass elimination (leaves up, then root down) in
  ``O(sum of the block's degrees)``; the gradient ``g = A x - b`` is updated in place.
* ``greedy_forest``: the largest forest grown greedily along an order (greedy tree
  blocks), with union-find.
* ``forest_partition``: a partition of all nodes into forests, greedily along an order.
* ``greedy_coloring``: a greedy colouring (each node takes the least-used allowed colour).
"""

import numpy as np
from numba import njit

from .._registry import register_kernel

_opts = dict(cache=True, nogil=True)


@njit(**_opts)
def _find(uf, i):
    """Root of ``i`` in the union-find forest ``uf`` (with path halving)."""
    while uf[i] != i:
        uf[i] = uf[uf[i]]
        i = uf[i]
    return i


@register_kernel("tree_block_solve", "numba")
@njit(**_opts)
def tree_block_solve(indptr, indices, data, diag, block, x, g, pos):
    """Exact minimisation over a forest-shaped block of ``1/2 tr(X'AX) - tr(B'X)``.

    Solves ``A_bb d = -g_b`` for every column of ``g`` (shape ``(n, k)``), then
    ``x[block] += d`` and ``g += A[:, block] d`` (``A`` symmetric, so its columns are its
    rows). ``pos`` is an ``(n,)`` int64 workspace filled with ``-1``; it is restored
    before returning. Returns 0 on success, 1 if the block's subgraph has a cycle,
    2 if a pivot is not positive (``A_bb`` not positive definite); ``x`` and ``g`` are
    untouched in the last two cases.
    """
    m = block.size
    k = g.shape[1]
    for t in range(m):
        pos[block[t]] = t
    parent = np.full(m, -2, dtype=np.int64)
    order = np.empty(m, dtype=np.int64)
    wpar = np.zeros(m)
    status = 0
    head = 0
    tail = 0
    for s in range(m):
        if parent[s] != -2:
            continue
        parent[s] = -1
        order[tail] = s
        tail += 1
        while head < tail and status == 0:
            u = order[head]
            head += 1
            i = block[u]
            for p in range(indptr[i], indptr[i + 1]):
                j = indices[p]
                if j == i or data[p] == 0.0:
                    continue
                v = pos[j]
                if v < 0:
                    continue
                if parent[v] == -2:
                    parent[v] = u
                    wpar[v] = data[p]
                    order[tail] = v
                    tail += 1
                elif v != parent[u] and parent[v] != u:
                    status = 1
                    break
        if status != 0:
            break
    piv = np.empty(m)
    rhs = np.empty((m, k))
    if status == 0:
        for u in range(m):
            i = block[u]
            piv[u] = diag[i]
            for c in range(k):
                rhs[u, c] = -g[i, c]
        # leaves up: eliminate each node into its parent (no fill-in on a forest)
        for t in range(m - 1, -1, -1):
            u = order[t]
            if not piv[u] > 1e-12 * abs(diag[block[u]]) or not piv[u] > 0.0:
                status = 2
                break
            pu = parent[u]
            if pu >= 0:
                f = wpar[u] / piv[u]
                piv[pu] -= wpar[u] * f
                for c in range(k):
                    rhs[pu, c] -= f * rhs[u, c]
    if status == 0:
        # root down: back substitution, then the updates of x and of the gradient
        for t in range(m):
            u = order[t]
            pu = parent[u]
            for c in range(k):
                val = rhs[u, c]
                if pu >= 0:
                    val -= wpar[u] * rhs[pu, c]
                rhs[u, c] = val / piv[u]
        for u in range(m):
            i = block[u]
            for c in range(k):
                x[i, c] += rhs[u, c]
            for p in range(indptr[i], indptr[i + 1]):
                j = indices[p]
                a = data[p]
                for c in range(k):
                    g[j, c] += a * rhs[u, c]
    for t in range(m):
        pos[block[t]] = -1
    return status


@register_kernel("greedy_forest", "numba")
@njit(**_opts)
def greedy_forest(indptr, indices, data, order):
    """Nodes of a forest grown greedily along ``order`` (the greedy tree block).

    A node joins when its neighbours already in the block lie in pairwise different
    trees (joining two neighbours of one tree would close a cycle); their trees are
    then merged through the node. Returns the block in insertion order (int64).
    """
    n = indptr.size - 1
    uf = np.arange(n)
    inb = np.zeros(n, dtype=np.bool_)
    roots = np.empty(n, dtype=np.int64)
    out = np.empty(order.size, dtype=np.int64)
    m = 0
    for t in range(order.size):
        v = order[t]
        if inb[v]:
            continue
        nr = 0
        ok = True
        for p in range(indptr[v], indptr[v + 1]):
            j = indices[p]
            if j == v or data[p] == 0.0 or not inb[j]:
                continue
            r = _find(uf, j)
            for q in range(nr):
                if roots[q] == r:
                    ok = False
                    break
            if not ok:
                break
            roots[nr] = r
            nr += 1
        if not ok:
            continue
        for q in range(nr):
            uf[roots[q]] = v
        inb[v] = True
        out[m] = v
        m += 1
    return out[:m].copy()


@register_kernel("forest_partition", "numba")
@njit(**_opts)
def forest_partition(indptr, indices, data, order):
    """Partition of the nodes into forests, greedily along ``order``.

    Each node joins the lowest-numbered forest in which its neighbours lie in pairwise
    different trees, or opens a new forest. Returns ``(forest_of_node, n_forests)``.
    """
    n = indptr.size - 1
    uf = np.arange(n)
    fid = np.full(n, -1, dtype=np.int64)
    roots = np.empty(n, dtype=np.int64)
    n_forests = 0
    for t in range(order.size):
        v = order[t]
        if fid[v] >= 0:
            continue
        chosen = -1
        nr = 0
        for f in range(n_forests):
            nr = 0
            ok = True
            for p in range(indptr[v], indptr[v + 1]):
                j = indices[p]
                if j == v or data[p] == 0.0 or fid[j] != f:
                    continue
                r = _find(uf, j)
                for q in range(nr):
                    if roots[q] == r:
                        ok = False
                        break
                if not ok:
                    break
                roots[nr] = r
                nr += 1
            if ok:
                chosen = f
                break
        if chosen < 0:
            chosen = n_forests
            n_forests += 1
            nr = 0
        for q in range(nr):
            uf[roots[q]] = v
        fid[v] = chosen
    return fid, n_forests


@register_kernel("greedy_coloring", "numba")
@njit(**_opts)
def greedy_coloring(indptr, indices, data, order):
    """Greedy colouring along ``order``: each node takes the least-used colour that no
    coloured neighbour has (lowest index on ties), or a new one. Every colour class is
    an independent set. Returns ``(colour_of_node, n_colors)``.
    """
    n = indptr.size - 1
    col = np.full(n, -1, dtype=np.int64)
    count = np.zeros(n + 1, dtype=np.int64)
    mark = np.full(n + 1, -1, dtype=np.int64)
    n_colors = 0
    for t in range(order.size):
        v = order[t]
        if col[v] >= 0:
            continue
        for p in range(indptr[v], indptr[v + 1]):
            j = indices[p]
            if j != v and data[p] != 0.0 and col[j] >= 0:
                mark[col[j]] = v
        best = -1
        for c in range(n_colors):
            if mark[c] != v and (best < 0 or count[c] < count[best]):
                best = c
        if best < 0:
            best = n_colors
            n_colors += 1
        col[v] = best
        count[best] += 1
    return col, n_colors
