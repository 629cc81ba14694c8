"""Compile (and cache on disk) the common Numba kernel signatures ahead of time."""

from __future__ import annotations

import time


def _default_penalties():
    from .penalties import CEL0, L0, L1, MCP, SCAD, Box, ElasticNet, GroupL21, KSupport, Log, Lq

    return [
        L1(0.1), L0(0.1), Lq(0.1, q=0.5), Lq(0.1, q=2.0 / 3.0), Lq(0.1, q=0.3), CEL0(0.1),
        MCP(0.1, gamma=3.0), SCAD(0.1), Log(0.1), ElasticNet(0.1), Box(-1.0, 1.0),
        GroupL21(0.1, groups=2), KSupport(0.1, k=2),
    ]


def warmup(dtypes=("float32", "float64"), verbose=False):
    """Compile the Numba kernels for the given dtypes (then they load from the disk cache).

    The first call in a fresh environment compiles (seconds); later processes
    load the cached machine code in milliseconds. Nothing is compiled at
    ``import sparsopt``.

    Parameters
    ----------
    dtypes : sequence of {"float32", "float64"}, default=("float32", "float64")
        Floating dtypes to compile for.
    verbose : bool, default=False
        Print one line per kernel with its time.

    Returns
    -------
    timings : dict
        ``{(penalty name, dtype): seconds}``.

    Examples
    --------
    >>> import sparsopt
    >>> timings = sparsopt.warmup(dtypes=("float64",))
    >>> len(timings) > 0
    True
    """
    import numpy as np

    from .backends import has_kernel

    if not has_kernel("prox_l1", "numba"):
        if verbose:
            print("warmup: Numba backend unavailable; nothing to compile.")
        return {}
    timings = {}
    for dt in dtypes:
        dtype = np.dtype(dt)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"warmup: dtypes must be float32 or float64, got {dt!r}.")
        x1 = np.linspace(-2, 2, 8, dtype=dtype)
        x2 = x1.reshape(2, 4)
        for pen in _default_penalties():
            t0 = time.perf_counter()
            pen.prox(x2 if not pen.is_separable else x1, 0.5, engine="numba")
            key = (repr(pen), dtype.name)
            timings[key] = time.perf_counter() - t0
            if verbose:
                print(f"warmup: {key[0]:<45} {key[1]:<8} {timings[key]:.3f}s")
        timings.update(_warm_coding(dtype, verbose))
        timings.update(_warm_bcd(dtype, verbose))
        timings.update(_warm_spright(dtype, verbose))
        timings.update(_warm_wht(dtype, verbose))
        timings.update(_warm_completion(dtype, verbose))
        timings.update(_warm_unfolding(dtype, verbose))
        timings.update(_warm_prosper(dtype, verbose))
        timings.update(_warm_pruning(dtype, verbose))
    timings.update(_warm_ot(verbose))
    timings.update(_warm_trees(verbose))
    return timings


def _warm_bcd(dtype, verbose):
    """Compile the BCD, Lasso and proximal-Newton kernels for ``dtype`` (the proximal-Newton
    kernels are float64 only: that solver always computes in float64)."""
    import warnings

    import numpy as np
    import scipy.sparse as sp

    from .penalties import L1, MCP, GroupL21, Positive
    from .solvers import bcd, prox_newton, working_set_cd

    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X = sp.random(8, 10, density=0.5, format="csc", random_state=0, dtype=dtype)
        y = rng.standard_normal(8).astype(dtype)
        bcd(X, y, penalty=L1(0.1) + Positive(), selection="gs-q", partition="variable",
            update="projected_newton", block_size=5, max_iter=2)
        bcd(X, y, penalty=MCP(0.1), selection="gs-s", partition="variable", block_size=5,
            max_iter=2)
        bcd(X, np.arange(8) % 3, loss="multinomial", partition="sort", block_size=5,
            max_iter=2)
        X = rng.standard_normal((12, 6)).astype(dtype)
        for A in (X, sp.csc_matrix(X)):
            working_set_cd(A, X[:, 0].copy(), alpha=0.01, max_iter=2)
            working_set_cd(A, X[:, 0].copy(), penalty="mcp", alpha=0.01, max_iter=2)
            working_set_cd(A, X[:, 0].copy(), penalty=GroupL21(0.01, groups=2), max_iter=2)
            if dtype == np.float64:
                prox_newton(A, np.where(X[:, 0] > 0, 1.0, -1.0), alpha=0.01, max_iter=2)
                prox_newton(A, np.arange(12) % 3, alpha=0.01, loss="multinomial", max_iter=2)
                # the fixed-point scores (pn_fixpoint) of l0, lq and CEL0
                prox_newton(A, np.where(X[:, 0] > 0, 1.0, -1.0), penalty="l0", alpha=0.01,
                            max_iter=2)
    key = ("bcd_*, glm_cd_*, glm_bcd_*, pn_* (float64)", dtype.name)
    out = {key: time.perf_counter() - t0}
    if verbose:
        print(f"warmup: {key[0]:<45} {key[1]:<8} {out[key]:.3f}s")
    return out


def _warm_spright(dtype, verbose):
    """Compile the SPRIGHT kernels (walsh_eval, spright_classify, spright_peel) for ``dtype``."""
    from .datasets import make_sparse_walsh
    from .transforms import spright

    t0 = time.perf_counter()
    query, _, _ = make_sparse_walsh(8, 3, dtype=dtype, random_state=0)
    spright(query, 8, 3, random_state=0, engine="numba")
    key = ("walsh_eval, spright_classify, spright_peel", dtype.name)
    out = {key: time.perf_counter() - t0}
    if verbose:
        print(f"warmup: {key[0]:<45} {key[1]:<8} {out[key]:.3f}s")
    return out


def _warm_wht(dtype, verbose):
    """Compile the fast Walsh-Hadamard kernel for ``dtype``: the serial entry, the two
    entries the pool's threads call on one long row, and the ``prange`` kernels."""
    import numpy as np

    from .backends._numba import wht
    from .transforms import fwht

    t0 = time.perf_counter()
    fwht(np.ones((2, 8), dtype=dtype), normalize="ortho")
    fwht(np.ones((2, 8, 16), dtype=dtype), axis=1)  # an inner axis, where it lies
    row = np.ones(32, dtype=dtype)
    wht._blocks(row, 16, 8, 0, 2, True)
    wht._columns(row, 16, 2, 0, 16, row[0], False)
    if wht._prange_ok():  # the kernels of n_jobs > 1 (not in a forked child: see there)
        one = dtype.type(1)
        wht._rows_par(np.ones((2, 8), dtype=dtype), one, False, 8, 8, 8, 1)
        wht._shared_rows_par(np.ones((1, 32), dtype=dtype), one, False, 16, 8, 2, 1)
        wht._axis_par(np.ones((2, 8, 16), dtype=dtype), one, False, 8, True, 1)
    key = ("fwht_rows, fwht_axis", dtype.name)
    out = {key: time.perf_counter() - t0}
    if verbose:
        print(f"warmup: {key[0]:<45} {key[1]:<8} {out[key]:.3f}s")
    return out


def _warm_pruning(dtype, verbose):
    """Compile the pruning kernels (sparsopt.pruning): N:M masks, the masked Adam step
    on a layer and on a bias, and the sparse forward passes (one layer, whole MLP)."""
    import numpy as np

    from .backends import dispatch
    from .pruning import to_sparse_network

    t0 = time.perf_counter()
    w = np.linspace(-1, 1, 32, dtype=dtype).reshape(8, 4)
    dispatch("nm_mask", w, 2, 4, engine="numba")
    for p in (w.copy(), w[0].copy()):
        z = np.zeros_like(p)
        dispatch("masked_adam", p, p, p != 0, z, z.copy(), 1e-3, 0.9, 0.999, 1e-8, 1,
                 engine="numba")
        dispatch("masked_adam", p, p, None, z, z.copy(), 1e-3, 0.9, 0.999, 1e-8, 1,
                 engine="numba")
    net = to_sparse_network([w, w.T.copy()], [np.zeros(4, dtype), np.zeros(8, dtype)])
    X = np.ones((3, 8), dtype=dtype)
    dispatch("sparse_mlp_forward", X, *net, 1, engine="numba")
    dispatch("sparse_layer_forward", X, *net.layer(0), True, engine="numba")
    key = ("nm_mask, masked_adam, sparse_*_forward", dtype.name)
    out = {key: time.perf_counter() - t0}
    if verbose:
        print(f"warmup: {key[0]:<45} {key[1]:<8} {out[key]:.3f}s")
    return out


def _warm_unfolding(dtype, verbose):
    """Compile the shrinkage kernels of the unfolded layers (sparsopt.unfolding)."""
    import numpy as np

    from .unfolding._shrink import hard_shrink, soft_shrink, support_select_shrink
    from .unfolding._train import Adam

    R = np.linspace(-2, 2, 8, dtype=dtype).reshape(2, 4)
    t0 = time.perf_counter()
    soft_shrink(R, 0.5, engine="numba")
    hard_shrink(R, 0.5, engine="numba")
    support_select_shrink(R, 0.5, 25.0, engine="numba")
    p = {"W": R.copy()}
    Adam(p, engine="numba").step(p, {"W": R})
    key = ("unfold_soft_shrink, unfold_hard_shrink, unfold_support_select, unfold_adam",
           dtype.name)
    out = {key: time.perf_counter() - t0}
    if verbose:
        print(f"warmup: {key[0]:<45} {key[1]:<8} {out[key]:.3f}s")
    return out


def _warm_prosper(dtype, verbose):
    """Compile the truncated E-step kernels of BSC and GSC for ``dtype``."""
    import numpy as np

    from .backends import dispatch
    from .datasets import make_bars
    from .decomposition import truncated_estep

    X, W, _ = make_bars(4, 2, random_state=0)
    X, W = X.astype(dtype), W.astype(dtype)
    t0 = time.perf_counter()
    truncated_estep(X, W, prior=0.3, noise_std=1.0, n_preselect=3,
                    max_active=2).second_moment(np.ones(X.shape[0]))
    truncated_estep(X, W, model="gsc", prior=np.full(4, 0.3), noise_std=1.0, n_preselect=3,
                    max_active=2, slab_mean=np.ones(4), slab_var=np.ones(4))
    dispatch("prosper_xt_weighted", X.astype(np.float64), np.zeros((X.shape[0], 4)),
             np.ones(X.shape[0]), np.empty((4, X.shape[1])))  # the M-step is float64
    key = ("prosper E-step kernels", dtype.name)
    out = {key: time.perf_counter() - t0}
    if verbose:
        print(f"warmup: {key[0]:<45} {key[1]:<8} {out[key]:.3f}s")
    return out


def _warm_trees(verbose):
    """Compile the tree kernels of label propagation (float64: the solver's only dtype)."""
    import warnings

    from .datasets import make_lattice_label_problem
    from .solvers import label_propagation_bcd

    A, b, _ = make_lattice_label_problem(4, 4, 2, random_state=0)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for blocks in ("greedy_tree", "tree_partition", "red_black"):
            label_propagation_bcd(A, b, blocks=blocks, max_iter=2, tol=0)
    key = ("tree_block_solve, greedy_forest, forest_partition, greedy_coloring", "float64")
    out = {key: time.perf_counter() - t0}
    if verbose:
        print(f"warmup: {key[0]:<45} {key[1]:<8} {out[key]:.3f}s")
    return out


def _warm_completion(dtype, verbose):
    """Compile the matrix-completion kernels (normal and sketch solves, residual)."""
    import warnings

    from .completion import altmin_complete
    from .datasets import make_low_rank_completion

    X, _, _ = make_low_rank_completion(12, 10, 2, density=0.8, dtype=dtype, random_state=0)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for solver in ("normal", "sketch"):
            altmin_complete(X, 2, solver=solver, sketch_size=3, max_iter=1, random_state=0)
    key = ("als_normal_solve, als_sketch_solve, als_residual", dtype.name)
    out = {key: time.perf_counter() - t0}
    if verbose:
        print(f"warmup: {key[0]:<45} {key[1]:<8} {out[key]:.3f}s")
    return out


def _warm_ot(verbose):
    """Compile the transport kernels (float64 only: the solvers always work in float64)."""
    import warnings

    import numpy as np

    from .ot import sinkhorn_newton_sparse

    M = np.random.default_rng(0).random((6, 5))
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sinkhorn_newton_sparse(None, None, M, 0.01, n_sinkhorn=2, max_iter=2, density=0.5)
    key = ("sinkhorn kernels", "float64")
    out = {key: time.perf_counter() - t0}
    if verbose:
        print(f"warmup: {key[0]:<45} {key[1]:<8} {out[key]:.3f}s")
    return out


def _warm_coding(dtype, verbose):
    """Compile the sparse-coding and dictionary kernels (cd_gram(_l1), topk_threshold,
    omp_gram, dict_bcd_sweep, dict_stats_update)."""
    import warnings

    import numpy as np

    from .penalties import L1, MCP
    from .solvers import cd, iht, omp

    rng = np.random.default_rng(0)
    D = rng.standard_normal((6, 4)).astype(dtype)
    X = rng.standard_normal((3, 4)).astype(dtype)
    out = {}
    for name, run in [("cd_gram_l1", lambda: cd(X, D, penalty=L1(0.1), max_iter=2)),
                      ("cd_gram", lambda: cd(X, D, penalty=MCP(0.1), max_iter=2)),
                      ("topk_threshold", lambda: iht(X, D, n_nonzero_coefs=2, max_iter=2)),
                      ("omp_gram", lambda: omp(X, D, n_nonzero_coefs=2)),
                      ("dict_bcd_sweep, dict_stats_update", lambda: _warm_dictionary(D, X))]:
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run()
        out[(name, dtype.name)] = time.perf_counter() - t0
        if verbose:
            print(f"warmup: {name:<45} {dtype.name:<8} {out[(name, dtype.name)]:.3f}s")
    return out


def _warm_dictionary(D, X):
    """One call of each dictionary-learning kernel (atom sweep, online statistics)."""
    import numpy as np

    from .backends import dispatch

    k, f = D.shape
    C = np.zeros((X.shape[0], k), dtype=D.dtype)
    A = np.eye(k, dtype=D.dtype)
    Bt = np.zeros((k, f), dtype=D.dtype)
    dispatch("dict_stats_update", A, Bt, C, X, 0.5, 1.0, np.empty(k, dtype=np.int64))
    dispatch("dict_bcd_sweep", D.copy(), A, Bt, np.zeros(k, dtype=bool), False, False,
             np.empty(f))
