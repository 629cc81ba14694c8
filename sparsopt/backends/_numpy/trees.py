"""NumPy references:
Message passing on forests: exact tree solves for sparse quadratics (label propagation).

Deliberately different algorithms from the Numba kernels, so that the conformance
tests compare two derivations: the block update is a dense solve of ``A_bb d = -g_b``
(with a Cholesky test of positive definiteness), and forests are recognised by
counting edges against connected components (``#edges = #nodes - #components``).
"""

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .._registry import register_kernel


def _graph(indptr, indices, data):
    n = indptr.size - 1
    rows = np.repeat(np.arange(n), np.diff(indptr))
    keep = (rows != indices) & (np.asarray(data) != 0)
    return sp.csr_matrix((np.ones(int(keep.sum()), dtype=np.int8), (rows[keep], indices[keep])),
                         shape=(n, n))


def _is_forest(G, nodes):
    nodes = np.asarray(nodes, dtype=np.int64)
    if nodes.size == 0:
        return True
    sub = G[nodes][:, nodes]
    n_edges = sub.nnz // 2
    n_comp = connected_components(sub, directed=False)[0]
    return n_edges == nodes.size - n_comp


@register_kernel("tree_block_solve", "numpy")
def tree_block_solve(indptr, indices, data, diag, block, x, g, pos):
    n = indptr.size - 1
    G = _graph(indptr, indices, data)
    if not _is_forest(G, block):
        return 1
    A = sp.csr_matrix((data, indices, indptr), shape=(n, n))
    Abb = A[block][:, block].toarray()
    if block.size:
        try:
            np.linalg.cholesky(Abb)
        except np.linalg.LinAlgError:
            return 2
        d = np.linalg.solve(Abb, -g[block])
        x[block] += d
        g += A[:, block] @ d
    return 0


@register_kernel("greedy_forest", "numpy")
def greedy_forest(indptr, indices, data, order):
    G = _graph(indptr, indices, data)
    chosen = []
    seen = set()
    for v in np.asarray(order):
        v = int(v)
        if v in seen:
            continue
        if _is_forest(G, chosen + [v]):
            chosen.append(v)
            seen.add(v)
    return np.array(chosen, dtype=np.int64)


@register_kernel("forest_partition", "numpy")
def forest_partition(indptr, indices, data, order):
    G = _graph(indptr, indices, data)
    n = indptr.size - 1
    forests = []
    fid = np.full(n, -1, dtype=np.int64)
    for v in np.asarray(order):
        v = int(v)
        if fid[v] >= 0:
            continue
        for f, members in enumerate(forests):
            if _is_forest(G, members + [v]):
                members.append(v)
                fid[v] = f
                break
        else:
            fid[v] = len(forests)
            forests.append([v])
    return fid, len(forests)


@register_kernel("greedy_coloring", "numpy")
def greedy_coloring(indptr, indices, data, order):
    G = _graph(indptr, indices, data)
    n = indptr.size - 1
    col = np.full(n, -1, dtype=np.int64)
    counts = []
    for v in np.asarray(order):
        v = int(v)
        if col[v] >= 0:
            continue
        nbrs = G.indices[G.indptr[v]:G.indptr[v + 1]]
        taken = set(col[nbrs][col[nbrs] >= 0].tolist())
        allowed = [c for c in range(len(counts)) if c not in taken]
        if allowed:
            c = min(allowed, key=lambda c: (counts[c], c))
        else:
            c = len(counts)
            counts.append(0)
        col[v] = c
        counts[c] += 1
    return col, len(counts)
