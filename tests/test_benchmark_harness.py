"""Fast tests of benchmarks/_harness.py, a smoke run of bench_prox.py and of gpu/bench_gpu.py."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "benchmarks")
sys.path.insert(0, BENCH)

import _harness as H  # noqa: E402


class FakeClock:
    """Stands in for time.perf_counter: each call of ``fn`` advances it by the next duration."""

    def __init__(self, durations):
        self.now = 0.0
        self.durations = list(durations)

    def perf_counter(self):
        return self.now

    def fn(self, data):
        self.now += self.durations.pop(0)
        return data


def test_median_min_max_and_warmup_with_fake_clock(monkeypatch):
    clock = FakeClock([10.0, 3.0, 1.0, 2.0, 5.0, 4.0])
    monkeypatch.setattr(H.time, "perf_counter", clock.perf_counter)
    rows = H.run_cases([H.Case("c", lambda: 7)], [H.Impl("ours", clock.fn)], repeat=5,
                       verbose=False)
    (r,) = rows
    assert (r.median, r.min, r.max, r.warmup) == (3.0, 1.0, 5.0, 10.0)
    assert r.times == [3.0, 1.0, 2.0, 5.0, 4.0]
    assert r.quality is None and r.ratio is None


def test_compute_ratios():
    medians = [("a", "ours", 1.0), ("a", "peer", 3.0), ("b", "ours", 2.0), ("b", "peer", 1.0),
               ("c", "ours", 1.0)]
    rows = [H.Row(c, i, m, m, m, 0.0, None) for c, i, m in medians]
    H.compute_ratios(rows, "peer")
    assert [r.ratio for r in rows] == [3.0, 1.0, 0.5, 1.0, None]  # peer / ours: >1 = faster


def test_warmup_excluded_from_timings(monkeypatch):
    # the first call stands for JIT compilation: 0.2 s on the fake clock, then 0.01 s each
    clock = FakeClock([0.2, 0.01, 0.01, 0.01])
    monkeypatch.setattr(H.time, "perf_counter", clock.perf_counter)
    (r,) = H.run_cases([H.Case("c", lambda: 0)], [H.Impl("jit", clock.fn)], repeat=3,
                       verbose=False)
    assert not clock.durations  # one warm-up call plus three timed calls
    assert r.warmup == pytest.approx(0.2)
    assert r.times == pytest.approx([0.01, 0.01, 0.01])

    calls = []
    warmup, times, result = H.time_callable(lambda: calls.append(1) or 5, repeat=2)
    assert len(times) == 2 and result == 5 and len(calls) == 3


def test_quality_on_returned_object_check_and_only():
    seen = {}

    def check(outputs, data):
        seen.update(outputs)

    cases = [H.Case("c1", lambda: np.arange(3.0), check), H.Case("c2", lambda: np.ones(2))]
    impls = [H.Impl("double", lambda d: 2 * d, lambda out, d: float(np.abs(out - 2 * d).max())),
             H.Impl("plus", lambda d: d + 1, lambda out, d: float(out.sum()), only=("c1",))]
    rows = H.run_cases(cases, impls, repeat=2, peer="double", verbose=False)
    assert [(r.case, r.impl) for r in rows] == [("c1", "double"), ("c1", "plus"),
                                               ("c2", "double")]
    assert rows[0].quality == 0.0 and rows[1].quality == 6.0
    assert set(seen) == {"double", "plus"}
    assert rows[0].ratio == 1.0 and rows[2].ratio == 1.0

    def failing(outputs, data):
        raise AssertionError("outputs differ")

    with pytest.raises(AssertionError, match="outputs differ"):
        H.run_cases([H.Case("c", lambda: 1, failing)], impls[:1], verbose=False)


def test_table_has_the_columns(capsys):
    rows = [H.Row("case A", "ours", 0.002, 0.001, 0.003, 0.5, 1e-15, ratio=2.0),
            H.Row("case A", "peer", 0.004, 0.004, 0.005, 1.5, None, ratio=1.0)]
    lines = H.table_lines(rows, peer="peer")
    for col in ("case", "implementation", "median", "min–max", "warm-up", "quality",
                "peer/this"):
        assert col in lines[0]
    assert "2 ms" in lines[2] and "1 ms–3 ms" in lines[2] and "2.00" in lines[2]
    assert len({len(line) for line in lines[:2]}) == 1  # header and rule aligned
    md = H.table_lines(rows, peer="peer", markdown=True)
    assert all(line.startswith("|") for line in md) and md[1].startswith("|---")
    H.print_table(rows, peer="peer", notes=["hello"])
    out = capsys.readouterr().out
    assert ">1: faster than peer" in out and "note: hello" in out


def test_fmt_time_units():
    assert H.fmt_time(2.5) == "2.5 s"
    assert H.fmt_time(0.0123) == "12.3 ms"
    assert H.fmt_time(4.2e-6) == "4.2 µs"


def test_parse_args_and_threads(tmp_path):
    args = H.parse_args("x", [])
    assert (args.threads, args.repeat, args.quick, args.markdown, args.json) == (2, 5, False,
                                                                                 False, None)
    args = H.parse_args("x", ["--threads", "4", "--repeat", "3", "--quick", "--markdown",
                              "--json", "o.json"])
    assert (args.threads, args.repeat, args.quick, args.markdown, args.json) == (4, 3, True,
                                                                                 True, "o.json")
    assert H._threads_from_argv(["p", "--threads", "3"]) == 3
    assert H._threads_from_argv(["p", "--threads=5"]) == 5
    assert H._threads_from_argv(["p"]) == H.DEFAULT_THREADS == 2
    path = tmp_path / "r.json"
    H.write_json(str(path), [H.Row("c", "i", 1.0, 1.0, 1.0, 2.0, 0.0, [1.0])], args)
    payload = json.loads(path.read_text())
    assert payload["rows"][0]["warmup"] == 2.0 and payload["environment"]["threads"] == 4


def test_tol_sweep_warmup_repeats_slow_runs_and_stop(monkeypatch):
    # warm-up 5 s; tol 1: 1 s then 2 more; tol 2: 3 s (slow: timed once); done after tol 2
    clock = FakeClock([5.0, 1.0, 2.0, 0.5, 3.0])
    monkeypatch.setattr(H.time, "perf_counter", clock.perf_counter)
    warm, runs = H.tol_sweep(lambda tol: clock.fn(tol), (1.0, 2.0, 3.0), repeat=3,
                             score=lambda out: (out / 10, -out), done=lambda r: len(r) == 2,
                             label="case solver ")
    assert not clock.durations and warm == 5.0
    assert runs == [(1.0, 1.0, 0.1, -1.0), (2.0, 3.0, 0.2, -2.0)]


def test_time_to_and_its_table():
    runs = [(1e-2, 1.0, 1e-3, 1e-5), (1e-3, 0.5, 1e-5, 1e-9), (1e-4, 2.0, 1e-9, 1e-9)]
    assert H.time_to(runs, 1e-4) == (0.5, 1e-3)
    assert H.time_to(runs, 1e-10) is None
    assert H.time_to(runs, 1e-6, column=3) == (0.5, 1e-3)
    peer = [(1e-2, 1.0, 1e-5, 0.0)]
    results = {("c", "ours"): (0.25, runs), ("c", "peer"): (0.1, peer)}
    lines = H.time_to_lines(results, (1e-4, 1e-6), "peer", False, peer_missing=" (none)")
    assert lines[0].split() == ["case", "solver", "time", "to", "1e-04", "time", "to", "1e-06",
                                "1st", "call"]
    assert "500 ms (tol 1.0e-03) x2.00" in lines[2] and "(tol 1.0e-04) (none)" in lines[2]
    assert lines[3].rstrip().endswith("100 ms") and "not reached" in lines[3]
    md = H.time_to_lines(results, (1e-6,), "peer", True, column=3)
    assert md[1].startswith("|---") and "| 500 ms (tol 1.0e-03) x2.00 |" in md[2]


def test_time_to_accuracy_problem_helpers(tmp_path, capsys):
    assert H.problem_sizes(True) == ((300, 1000), (1000, 4000), 5e-3)
    assert H.problem_sizes(False) == ((1000, 5000), (5000, 20000), 1e-3)
    X, y = H.sparse_problem(30, 200, 0.05)
    assert X.format == "csc" and X.shape == (30, 200) and y.shape == (30,)
    X2, y2 = H.sparse_problem(30, 200, 0.05, transform=lambda A: 2 * A)
    assert np.allclose(y2, 2 * y) and np.allclose(X2.toarray(), 2 * X.toarray())
    assert H.alpha_max(X, y) == pytest.approx(np.abs(X.T @ y).max() / 30)
    args = H.parse_args("x", ["--json", str(tmp_path / "o.json")])
    H.print_notes_and_json(args, ["a note"], [{"case": "c", "runs": [(1.0, 2.0, 3.0)]}])
    assert capsys.readouterr().out == "note: a note\n"
    payload = json.loads((tmp_path / "o.json").read_text())
    assert payload["notes"] == ["a note"] and payload["rows"][0]["runs"] == [[1.0, 2.0, 3.0]]


def test_lasso_and_sparse_regression_scripts_sweep_on_fake_solvers():
    import bench_lasso
    import bench_sparse_regression

    X = np.eye(3)
    y = np.array([1.0, 0.0, 0.0])
    d = {"X": X, "y": y, "n": 3, "alpha": 0.0, "case": "toy", "F0": 1.0, "Fstar": 0.0}
    # the Lasso sweep stops at the first setting within 1e-8
    calls = []
    warm, runs = bench_lasso.sweep(d, "fake", lambda d_, tol: calls.append(tol) or
                                   (y if tol < 2e-3 else 0 * y), repeat=1)
    assert [r[0] for r in runs] == list(bench_lasso.TOLS[:3])
    assert runs[-1][2] == 0.0 and runs[0][2] == pytest.approx(1 / 6) and len(calls) == 4
    # the sparse-regression sweep scores against F* and the solver's own end, and stops
    # after three settings in a row that gain nothing once its own end point is reached
    from sparsopt.penalties import MCP

    d.update(pen=MCP(alpha=0.0, gamma=3.0), ends={"fake": 1 / 6})
    warm, runs = bench_sparse_regression.sweep(d, "fake", lambda d_, tol: 0 * y, repeat=1)
    assert len(runs) == 4 and all(r[2:] == (pytest.approx(1 / 6), 0.0) for r in runs)
    d["ends"]["fake"] = 0.0
    warm, runs = bench_sparse_regression.sweep(d, "fake", lambda d_, tol: y, repeat=1)
    assert len(runs) == 1 and runs[0][2:] == (0.0, 0.0)


def _run(cmd, cwd, env=None, timeout=600):
    # the timeout only guards against a hang (no timing is asserted: CI is shared and noisy)
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))


def test_bench_prox_quick_smoke(tmp_path):
    out_json = tmp_path / "prox.json"
    proc = _run([sys.executable, os.path.join(BENCH, "bench_prox.py"), "--quick",
                 "--repeat", "1", "--json", str(out_json)], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for text in ("skglm/this", "sparsopt numba", "sparsopt numpy", "SCAD", "warm-up",
                 "@njit loop"):
        assert text in proc.stdout
    rows = json.loads(out_json.read_text())["rows"]
    assert len(rows) == 18
    assert all(r["quality"] < 1e-12 for r in rows)
    assert all(r["impl"] != "skglm" or r["ratio"] == 1.0 for r in rows)


def test_bench_gpu_without_cupy_exits_zero(tmp_path):
    proc = _run([sys.executable, os.path.join(ROOT, "gpu", "bench_gpu.py"), "--quick"],
                   cwd=tmp_path, env={"SPARSOPT_DISABLE_CUPY": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "SPARSOPT_DISABLE_CUPY" in proc.stdout


def test_wht_bound_loops_count_what_they_time():
    """benchmarks/bench_wht_bound.py: the peak-addition loops add what they claim
    (``ACCUMULATORS`` accumulators of 8 or 4 lanes, ``iters`` additions each; the 512-bit
    loop only on a core with AVX-512, where it can compile) and the rates are positive."""
    import bench_wht_bound as B

    loops = [(B._run_adds256, 4)] + [(B._run_adds512, 8)] * B.AVX512
    for run, lanes in loops:
        total = run(1000, 1.0)
        assert total == pytest.approx(B.ACCUMULATORS * lanes * (1.0 + 1000 * 1e-12), rel=1e-12)
    line = np.zeros(64)
    B._run_stores(line, 2)
    assert np.all(line == 1.0)
    peak, rates, stores = B.peak_rates(1)
    assert peak == np.nanmax(rates) > 0 and stores > 0
    assert np.isnan(rates[0]) != B.AVX512  # the 512-bit rate: measured iff AVX-512


def test_wht_pipe_bound_loops_and_count():
    """benchmarks/bench_wht_bound.py's pipe bound: the mixed loop adds, permutes and
    stores what it claims, the costs it measures are not negative, and the bound counts
    ``k`` additions, ``log2(L) - 1`` permutations and one store per pass of a vector."""
    import bench_wht_bound as B

    lanes = B.MIX_BITS // 64
    buf = B._mix_buffer()
    total = B._mix(4, 2, 2, "01")(buf, 100)
    assert total == pytest.approx(B.MIX_ACC * 1e-12 + 4 * 100 * 1e-12 + B.MIX_PERM, rel=1e-9)
    assert np.count_nonzero(buf) == min(2048, 100 * 2 * lanes)  # two vectors a turn
    op, perm_slots, store_slots = B.pipe_costs(1, iters=2000)
    assert op > 0 and perm_slots >= 0 and store_slots >= 0
    n, itemsize = 1 << 10, 8
    vectors = n // lanes
    per_pass = (B.REGISTERS * lanes).bit_length() - 1
    passes = -(-10 // per_pass)
    perms = (lanes.bit_length() - 2) * vectors
    want = 10 * vectors + 0.5 * perms + 2.0 * passes * vectors
    assert B.pipe_bound(n, 1, itemsize, 1.0, 0.5, 2.0, float("inf")) == pytest.approx(want)
    # the line stores alone, where they take longer
    lines = passes * n * itemsize / 64
    assert B.pipe_bound(n, 1, itemsize, 1e-30, 0, 0, 1.0) == pytest.approx(lines)
    assert B._verdict(2.1, 1.0) == "no (bound > 2)"
    assert B._verdict(1.5, 2.2) == "no (pipe bound > 2)"
    assert B._verdict(1.5, 1.9) == "not excluded"
