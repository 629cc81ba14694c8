"""Tree-block BCD for sparse quadratics (label propagation): blocks, tree solves, R1-c."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse.linalg import spsolve

from sparsopt.datasets._graph_problems import (
    harmonic_system,
    make_knn_label_problem,
    make_lattice_label_problem,
)
from sparsopt.exceptions import ConvergenceWarning
from sparsopt.solvers.blockcd.trees import (
    BLOCK_RULES,
    greedy_tree_block,
    is_forest,
    label_propagation_bcd,
    lattice_blocks,
    red_black_blocks,
    solve_tree_block,
    tree_partition_blocks,
)

ENGINES = ("numba", "numpy")


def _random_graph(n, p, seed):
    rng = np.random.default_rng(seed)
    mask = np.triu(rng.random((n, n)) < p, 1)
    W = np.where(mask, rng.uniform(0.5, 2.0, (n, n)), 0.0)
    W = W + W.T
    A = np.diag(W.sum(axis=1) + 0.5) - W
    return sp.csr_matrix(A)


def _f(A, b, x):
    return 0.5 * float(x @ (A @ x)) - float(b @ x)


def _suboptimality(A, b, x, x_star):
    """f(x) - f* = 1/2 (x - x*)' A (x - x*), exact (no cancellation of two large f)."""
    e = x - x_star
    return 0.5 * float(e @ (A @ e))


# ----------------------------------------------------------------------------- tree solves


@pytest.mark.parametrize("engine", ENGINES)
def test_tree_solve_equals_dense_block_solve(engine):
    """The spec's "Exact vs GaBP" self-test: message passing == dense solve of the block."""
    A, b, _ = make_lattice_label_problem(12, 12, 15, random_state=0)
    rng = np.random.default_rng(1)
    blk = np.sort(greedy_tree_block(A, rng.random(A.shape[0]), engine=engine))
    assert blk.size > A.shape[0] // 2  # a big block: most of the lattice
    x = rng.standard_normal(A.shape[0]) * 10
    new = solve_tree_block(A, b, x, blk, engine=engine)
    Ad = A.toarray()
    rest = np.setdiff1d(np.arange(A.shape[0]), blk)
    ref = x.copy()
    ref[blk] = np.linalg.solve(Ad[np.ix_(blk, blk)], b[blk] - Ad[np.ix_(blk, rest)] @ x[rest])
    np.testing.assert_allclose(new, ref, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(new[rest], x[rest])


def test_tree_solve_several_targets_and_errors():
    A = _random_graph(30, 0.15, 3)
    rng = np.random.default_rng(0)
    B = rng.standard_normal((30, 3))
    X = rng.standard_normal((30, 3))
    blk = greedy_tree_block(A, rng.random(30))
    multi = solve_tree_block(A, B, X, blk)
    for c in range(3):
        np.testing.assert_allclose(multi[:, c], solve_tree_block(A, B[:, c], X[:, c], blk),
                                   rtol=1e-12, atol=1e-12)
    ring = np.eye(4) * 3 - np.roll(np.eye(4), 1, axis=1) - np.roll(np.eye(4), -1, axis=1)
    with pytest.raises(ValueError, match="cycle"):
        solve_tree_block(ring, np.ones(4), np.zeros(4), [0, 1, 2, 3])
    lap = np.array([[1.0, -1, 0], [-1, 2, -1], [0, -1, 1]])  # a path Laplacian: singular
    with pytest.raises(ValueError, match="positive definite"):
        solve_tree_block(lap, np.ones(3), np.zeros(3), [0, 1, 2])
    with pytest.raises(ValueError, match="shape"):
        solve_tree_block(ring, np.ones(3), np.zeros(3), [0])
    with pytest.raises(TypeError, match="integer"):
        solve_tree_block(ring, np.ones(4), np.zeros(4), [0.5])


# ----------------------------------------------------------------------------- block builders


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 25), p=st.floats(0.05, 0.6), seed=st.integers(0, 10_000))
def test_greedy_forest_is_a_maximal_forest(n, p, seed):
    """Union-find builder: never joins two neighbours of one tree, and adds every node
    that would not close a cycle."""
    A = _random_graph(n, p, seed)
    scores = np.random.default_rng(seed).random(n)
    blk = greedy_tree_block(A, scores)
    assert np.unique(blk).size == blk.size
    assert is_forest(A, blk)
    for v in np.setdiff1d(np.arange(n), blk):
        assert not is_forest(A, np.append(blk, v))
    # insertion order follows the scores
    assert np.all(np.diff(scores[blk]) <= 0)


# data_too_large: hypothesis 6.90 (the floors) once failed this health check on these scalar
# strategies ("20 examples overran while generating 9 valid ones"), a generation hiccup that
# says nothing about the code under test
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.data_too_large])
@given(n=st.integers(1, 25), p=st.floats(0.05, 0.6), seed=st.integers(0, 10_000),
       order=st.sampled_from(["lipschitz", "natural"]))
def test_partitions_cover_nodes_with_forests_and_independent_sets(n, p, seed, order):
    A = _random_graph(n, p, seed)
    Ad = A.toarray()
    for blocks, kind in ((tree_partition_blocks(A, order=order), "forest"),
                         (red_black_blocks(A, order=order), "independent")):
        allnodes = np.concatenate(blocks)
        np.testing.assert_array_equal(np.sort(allnodes), np.arange(n))
        for blk in blocks:
            assert is_forest(A, blk)
            if kind == "independent":
                sub = Ad[np.ix_(blk, blk)]
                assert np.count_nonzero(sub - np.diag(np.diag(sub))) == 0


def test_lattice_blocks_are_two_spanning_combs():
    rows, cols = 7, 6
    W = make_lattice_label_problem(rows, cols, 1, random_state=0)[2].W
    A = sp.diags(np.asarray(W.sum(axis=1)).ravel() + 1.0) - W
    tp = lattice_blocks(rows, cols, "tree_partition")
    rb = lattice_blocks(rows, cols, "red_black")
    for blocks in (tp, rb):
        assert len(blocks) == 2
        np.testing.assert_array_equal(np.sort(np.concatenate(blocks)), np.arange(rows * cols))
        assert all(is_forest(A, blk) for blk in blocks)
    # each comb is one spanning tree of its nodes: |edges| = |nodes| - 1
    for blk in tp:
        sub = W[blk][:, blk]
        assert sub.nnz // 2 == blk.size - 1
    # the greedy colouring of a lattice needs only two colours, too
    assert len(red_black_blocks(A)) == 2
    # restricted to a subset of nodes (the unknowns): positions into that subset
    nodes = np.array([0, 1, 7, 8, 40])
    sub_tp = lattice_blocks(rows, cols, "tree_partition", nodes=nodes)
    np.testing.assert_array_equal(np.sort(np.concatenate(sub_tp)), np.arange(5))
    with pytest.raises(ValueError, match="kind"):
        lattice_blocks(3, 3, "checkerboard")


# ----------------------------------------------------------------------------- solver


def _lattice_runs(rows=20, cols=20, n_labeled=40, n_iter=200, seed=0):
    A, b, info = make_lattice_label_problem(rows, cols, n_labeled, random_state=seed)
    x_star = spsolve(A.tocsc(), b)
    out = {}
    runs = {"greedy_tree": "greedy_tree", "red_black": "red_black", "general": "general",
            "random_tree": "random_tree", "greedy_tree_lipschitz": "greedy_tree_lipschitz",
            "tree_partition": "tree_partition",
            "lattice_combs": lattice_blocks(rows, cols, "tree_partition", info.unlabeled),
            "lattice_red_black": lattice_blocks(rows, cols, "red_black", info.unlabeled)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for key, blocks in runs.items():
            res = label_propagation_bcd(A, b, blocks=blocks, max_iter=n_iter, tol=0.0,
                                        random_state=0)
            assert res.n_iter == n_iter
            out[key] = (_suboptimality(A, b, res.x, x_star), res)
    f0 = _suboptimality(A, b, np.zeros_like(b), x_star)
    return out, f0, A, b, x_star


def test_r1c_ordering_on_a_small_lattice():
    """R1-c at CI size: 20x20 lattice, 40 labels, 200 iterations:
    Greedy Tree < Red-Black < General in f - f* (paper fig 6a: 1e-4 / 1e2 / 1e8 at 50x50)."""
    out, f0, A, b, x_star = _lattice_runs()
    gap = {k: v[0] for k, v in out.items()}
    # measured (seed 0): greedy 6.5e-8, combs 3.2e-7, random tree 1.4e-3, red-black 4.1e2
    # (greedy colouring, 3 colours) / 2.6 (checkerboard), general 6.7e6; f(0) - f* = 2.3e8
    assert gap["greedy_tree"] < gap["red_black"] < gap["general"] < f0
    assert gap["greedy_tree"] < gap["lattice_red_black"] < gap["general"]
    # the tree rules are orders of magnitude ahead of red-black, which beats general by far
    assert gap["greedy_tree"] < 1e-3 * gap["red_black"]
    assert gap["red_black"] < 1e-2 * gap["general"]
    assert gap["lattice_combs"] < gap["red_black"]
    assert gap["tree_partition"] < gap["red_black"]
    assert gap["random_tree"] < gap["red_black"]
    # the history records f(x) after each iteration; the last one matches f - f*
    f_star = _f(A, b, x_star)
    res = out["greedy_tree"][1]
    objs = np.array([h["objective"] for h in res.history])
    assert objs.size == 200
    assert abs((objs[-1] - f_star) - gap["greedy_tree"]) <= 1e-6 * abs(f_star)
    # exact block minimisation never increases f
    for key in ("greedy_tree", "red_black", "general", "lattice_combs"):
        o = np.array([h["objective"] for h in out[key][1].history])
        assert np.all(np.diff(o) <= 1e-9 * abs(f_star)), key


@pytest.mark.parametrize("blocks", BLOCK_RULES)
def test_converges_to_the_direct_solution(blocks):
    if blocks == "general":  # n^(1/3) nodes per iteration: a small well-conditioned graph
        A = _random_graph(60, 0.08, 0)
        b = np.random.default_rng(0).standard_normal(60)
    else:
        A, b, info = make_knn_label_problem(300, 20, random_state=0)
    B = np.column_stack([b, -2 * b + 1.0])  # two right-hand sides at once
    x_star = spsolve(A.tocsc(), B)
    max_iter = 5000
    res = label_propagation_bcd(A, B, blocks=blocks, tol=1e-9, max_iter=max_iter,
                                random_state=0)
    assert res.converged, (blocks, res.stop_crit)
    np.testing.assert_allclose(res.x, x_star, rtol=0, atol=1e-6 * np.abs(x_star).max())
    assert res.info["blocks"] == blocks
    assert res.info["coordinates_updated"] > 0
    assert res.info["effective_passes"] == pytest.approx(
        res.info["coordinates_updated"] / A.shape[0])


def test_dtype_shape_and_engine_agreement():
    A, b, _ = make_lattice_label_problem(8, 8, 6, random_state=2)
    r32 = label_propagation_bcd(A, b.astype(np.float32), tol=1e-6)
    assert r32.x.dtype == np.float32 and r32.x.shape == b.shape
    # numba and numpy engines: the same iterates on a fixed partition; greedy blocks agree
    # for one step only (after it the block gradient is rounding noise, ordered at random)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for blocks, n_it in (("tree_partition", 6), ("greedy_tree", 1), ("general", 4)):
            a = label_propagation_bcd(A, b, blocks=blocks, max_iter=n_it, tol=0.0,
                                      engine="numba")
            c = label_propagation_bcd(A, b, blocks=blocks, max_iter=n_it, tol=0.0,
                                      engine="numpy")
            np.testing.assert_allclose(a.x, c.x, rtol=1e-9, atol=1e-9)
    # init (warm start) at the solution converges at once
    x_star = spsolve(A.tocsc(), b)
    res = label_propagation_bcd(A, b, init=x_star, tol=1e-8)
    assert res.converged and res.n_iter == 1


@pytest.mark.parametrize("blocks", ["tree_partition", "red_black"])
def test_anderson_acceleration_same_solution_fewer_iterations(blocks):
    A, b, _ = make_knn_label_problem(600, 30, random_state=1)
    x_star = spsolve(A.tocsc(), b)
    plain = label_propagation_bcd(A, b, blocks=blocks, tol=1e-8, max_iter=20000)
    fast = label_propagation_bcd(A, b, blocks=blocks, tol=1e-8, max_iter=20000, anderson=5)
    assert plain.converged and fast.converged
    assert fast.info["anderson_accepted"] > 0 and plain.info["anderson_accepted"] == 0
    assert fast.n_iter < plain.n_iter / 3, (fast.n_iter, plain.n_iter)
    for res in (plain, fast):
        np.testing.assert_allclose(res.x, x_star, atol=1e-6 * np.abs(x_star).max())
    # extrapolations are kept only when they lower f: the history stays monotone
    f = np.array([h["objective"] for h in fast.history])
    assert np.all(np.diff(f) <= 1e-9 * np.abs(f).max())
    with pytest.raises(ValueError, match="anderson"):
        label_propagation_bcd(A, b, anderson=-1)


def test_random_tree_is_reproducible():
    A, b, _ = make_lattice_label_problem(8, 8, 6, random_state=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        r1 = label_propagation_bcd(A, b, blocks="random_tree", max_iter=7, tol=0, random_state=3)
        r2 = label_propagation_bcd(A, b, blocks="random_tree", max_iter=7, tol=0, random_state=3)
    np.testing.assert_array_equal(r1.x, r2.x)


def test_one_convergence_warning_naming_the_criterion():
    A, b, _ = make_lattice_label_problem(10, 10, 5, random_state=0)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = label_propagation_bcd(A, b, blocks="general", max_iter=3, tol=1e-12)
    conv = [w for w in rec if issubclass(w.category, ConvergenceWarning)]
    assert len(conv) == 1
    msg = str(conv[0].message)
    assert "relative residual" in msg and "max_iter" in msg
    assert not res.converged


def test_clear_errors():
    A, b, info = make_lattice_label_problem(6, 6, 4, random_state=0)
    n = A.shape[0]
    with pytest.raises(ValueError, match="symmetric"):
        label_propagation_bcd(sp.triu(A).tocsr(), b)
    bad = b.copy()
    bad[0] = np.nan
    with pytest.raises(ValueError, match="b contains NaN"):
        label_propagation_bcd(A, bad)
    with pytest.raises(ValueError, match="square"):
        label_propagation_bcd(A[:, :-1], b)
    with pytest.raises(ValueError, match="shape"):
        label_propagation_bcd(A, b[:-1])
    with pytest.raises(ValueError, match="blocks must be one of"):
        label_propagation_bcd(A, b, blocks="gauss_seidel")
    with pytest.raises(ValueError, match="order"):
        label_propagation_bcd(A, b, blocks="red_black", order="random")
    with pytest.raises(ValueError, match="cover every node"):
        label_propagation_bcd(A, b, blocks=[np.arange(3)])
    full = [np.arange(n)]  # the whole lattice has cycles
    with pytest.raises(ValueError, match="forest"):
        label_propagation_bcd(A, b, blocks=full)
    with pytest.raises(ValueError, match="max_iter"):
        label_propagation_bcd(A, b, max_iter=0)
    with pytest.raises(ValueError, match="tol"):
        label_propagation_bcd(A, b, tol=-1.0)
    Z = A.tolil()
    Z[0, 0] = 0.0
    with pytest.raises(ValueError, match="positive diagonal"):
        label_propagation_bcd(Z.tocsr(), b)
    # a connected component without labels: singular Laplacian block
    W = sp.csr_matrix(np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0.0]]))
    As, bs, _ = harmonic_system(W, np.array([0]), np.array([1.0]))
    with pytest.raises(ValueError, match="positive definite"):
        label_propagation_bcd(As, bs)


# ----------------------------------------------------------------------------- datasets


def test_lattice_dataset_matches_the_spec():
    A, b, info = make_lattice_label_problem(50, 50, 100, random_state=0)
    assert A.shape == (2400, 2400) and b.shape == (2400,)
    assert info.labeled.size == 100 and info.shape == (50, 50)
    offdiag = A - sp.diags(A.diagonal())
    assert np.asarray((offdiag != 0).sum(axis=1)).max() <= 4
    np.testing.assert_allclose(offdiag.data, -1e5)
    assert abs(A - A.T).max() == 0
    # b_i = sum over labelled neighbours of w * y_j
    W, y = info.W, info.y
    np.testing.assert_allclose(b, W[info.unlabeled][:, info.labeled] @ y[info.labeled])
    assert 5 < np.std(y[info.labeled]) < 15  # N(0, 100) labels
    with pytest.raises(ValueError, match="n_labeled"):
        make_lattice_label_problem(3, 3, 9)
    with pytest.raises(ValueError, match="weight"):
        make_lattice_label_problem(3, 3, 2, weight=0.0)


def test_knn_dataset():
    A, b, info = make_knn_label_problem(400, 30, random_state=0)
    W = info.W
    assert abs(W - W.T).max() == 0 and set(np.unique(W.data)) == {1.0}
    assert W.diagonal().sum() == 0
    assert np.asarray((W != 0).sum(axis=1)).min() >= 5
    assert set(np.unique(info.y[info.labeled])) <= {1.0, 2.0}
    assert A.shape == (370, 370)
    x = spsolve(A.tocsc(), b)
    # harmonic values lie between the label values; thresholding at 1.5 recovers the moons
    assert x.min() >= 1 - 1e-9 and x.max() <= 2 + 1e-9
    acc = np.mean((x > 1.5) == (info.y_true[info.unlabeled] == 1))
    assert acc > 0.9
    with pytest.raises(ValueError, match="no labelled point"):
        make_knn_label_problem(200, 1, n_neighbors=1, random_state=0)
    with pytest.raises(ValueError, match="n_neighbors"):
        make_knn_label_problem(10, 2, n_neighbors=10)


def test_callback_true_first_call_stops_after_one_check():
    A, b, _ = make_lattice_label_problem(8, 8, 6, random_state=0)
    calls = []

    def cb(state):
        calls.append(state.iteration)
        return True

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = label_propagation_bcd(A, b, callback=cb, max_iter=50)
    assert calls == [1] and res.n_iter == 1 and not res.converged
    assert res.info["stopped_by"] == "callback"
