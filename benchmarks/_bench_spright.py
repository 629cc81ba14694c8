"""SPRIGHT (``sparsopt.transforms.spright``) against ``sparse-transform`` and a dense FWHT.

Run alone: ``python benchmarks/_bench_spright.py [--quick] [--markdown] [--plot out.png]``
(``bench_wht.py --part spright`` calls :func:`bench_spright` with the same options).

Signal model (spec ``sparse_wht.md`` 4(d)-(e)): ``K`` frequencies drawn uniformly from
``F_2^n`` with amplitudes +-1 (``sparsopt.datasets.make_sparse_walsh``), noiseless; the
function is queried through one oracle for every method (a compiled sparse Walsh expansion,
``O(K)`` per query). Every method gets the same budget: ``C = 3`` groups, ``b =
ceil(log2 K) + 1`` (``B`` about ``2K``), identity delays ``P = n + 1``, random full-rank
hashing, so ``C P B`` samples.

* ``sparsopt``: ``spright(query, n, K, n_hash_bits=b)``. *End to end* includes drawing the
  design, the queries (distinct points, counted), the batched FWHTs and peeling; *decode*
  is the front end (the ``C P`` FWHTs of size ``B``) plus peeling on precomputed samples.
* ``sparse-transform`` 0.2.1 (basics-lab, q-ary SFT with q = 2; the successor of ``qsft``): a
  ``SubsampledSignal`` whose ``func`` is the same oracle, ``query_method="complex"``,
  ``delays_method_channel="identity"``, ``num_subsample=3``, ``num_repeat=1``, then
  ``transform(..., reconstruct_method_channel="identity")``. *End to end* is the signal's
  construction (it queries and runs its own FWHTs) plus ``transform``; *decode* is
  ``transform`` alone (it excludes the peer's front-end FWHTs, which the signal computes at
  construction: our decode column includes ours, so the decode ratio is conservative).
* dense: ``sparsopt.transforms.fwht`` of the full ``2^n`` vector (the transform alone, not
  the ``2^n`` queries it would need), up to ``--dense-max-n`` (24); the peer runs up to
  ``--peer-max-n`` (30).

Defaults: n = 16 20 24 28 30, K = 10 100 1000, 5 seeds, about 5 minutes on 2 cores (most of it
the peer at K = 1000). ``--r4`` prints the spec's R4-a/b table instead (about 6 s).

Exact recovery is the fraction of ``--seeds`` seeds whose recovered support equals the true one
(values within 1e-6). Times are medians of ``--repeat`` runs on seed 0 after a warm-up run
(JIT compilation; its longest time is printed under the table). Threads pinned
(``--threads``, default 2: BLAS, and the dense FWHT's ``n_jobs``; SPRIGHT's kernels are
serial).
"""

import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# _harness first: it pins the thread-count environment variables before numpy/numba load
from _harness import _pin_numba, fmt_time, grid, log, parse_args, time_runs  # noqa: I001

import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from sparsopt.exceptions import ConvergenceWarning  # noqa: E402


def add_arguments(p):
    """The options of this part (added to the harness's common ones)."""
    p.add_argument("--n", type=int, nargs="+", default=None,
                   help="numbers of bits (default 16 20 24 28 30; --quick: 12 16 20)")
    p.add_argument("--k", type=int, nargs="+", default=None,
                   help="sparsities (default 10 100 1000; --quick: 10 100)")
    p.add_argument("--seeds", type=int, default=None,
                   help="seeds for the recovery rate (default 5; --quick: 2)")
    p.add_argument("--peer-max-n", type=int, default=30,
                   help="largest n run with sparse-transform (default %(default)s)")
    p.add_argument("--dense-max-n", type=int, default=24,
                   help="largest n of the dense FWHT baseline (default %(default)s)")
    p.add_argument("--cap", type=float, default=60.0,
                   help="seconds: a peer run longer than this ends the peer's sweep in n "
                        "for that K (default %(default)s)")
    p.add_argument("--plot", metavar="PATH", default=None,
                   help="save a plot of time vs n (K = 100 or the middle K)")
    p.add_argument("--r4", action="store_true",
                   help="print the spec's R4-a/b success rates (N = 2^20, K = 100) instead")


def _budget(K):
    return max(1, math.ceil(math.log2(K)) + 1)


def _exact(indices, values, k, v):
    return bool(indices.size == k.size and np.array_equal(indices, k)
                and np.allclose(values, v, atol=1e-6))


def _ours(n, K, seed, repeat):
    from sparsopt.datasets import make_sparse_walsh
    from sparsopt.transforms import spright
    from sparsopt.transforms._spright import _decode, _make_plan

    b = _budget(K)
    query, k, v = make_sparse_walsh(n, K, random_state=seed)

    def e2e():
        return spright(query, n, K, n_hash_bits=b, random_state=seed)

    plan = _make_plan(n, b, 3, "random", "identity", 1, np.random.RandomState(seed))
    pts = plan.points()
    samples = query.at_packed(pts.ravel()).reshape(pts.shape)

    def decode():
        return _decode(plan, samples, sparsity=K, noise=None, max_iter=50, callback=None,
                       verbose=0, engine=None, n_queries=0, hash="random",
                       delays="identity")

    out = {}
    if repeat:
        t0 = time.perf_counter()
        res = e2e()
        out["warmup"] = time.perf_counter() - t0
        out["e2e"] = float(np.median(time_runs(e2e, repeat)[0]))
        decode()
        out["decode"] = float(np.median(time_runs(decode, repeat)[0]))
    else:
        res = e2e()
    out["queries"] = res.n_queries
    out["samples"] = res.info["n_samples"]
    out["exact"] = _exact(res.indices, res.values, k, v)
    return out


def _peer(n, K, seed, repeat):
    import logging

    from sparse_transform.qsft.qsft import transform
    from sparse_transform.qsft.signals.input_signal_subsampled import SubsampledSignal

    from sparsopt.datasets import make_sparse_walsh

    logging.getLogger("sparse_transform").setLevel(logging.WARNING)
    b = _budget(K)
    query, k, v = make_sparse_walsh(n, K, random_state=seed)
    qa = {"query_method": "complex", "num_subsample": 3, "delays_method_source": "identity",
          "subsampling_method": "qsft", "delays_method_channel": "identity",
          "num_repeat": 1, "b": b}

    def build():
        np.random.seed(seed)  # noqa: NPY002  (the peer draws its design from the global RNG)
        return SubsampledSignal(func=lambda P: query(P).astype(complex), n=n, q=2,
                                noise_sd=0.0, query_args=dict(qa))

    def decode(sig):
        return transform(sig, reconstruct_method_source="identity",
                         reconstruct_method_channel="identity", b=b, num_subsample=3,
                         num_repeat=1, noise_sd=0.0, report=True)

    out = {}
    t0 = time.perf_counter()
    sig = build()
    res = decode(sig)
    out["warmup"] = time.perf_counter() - t0
    if repeat:
        def e2e():
            return decode(build())

        out["e2e"] = float(np.median(time_runs(e2e, repeat)[0]))
        out["decode"] = float(np.median(time_runs(lambda: decode(sig), repeat)[0]))
    out["samples"] = int(res["n_samples"])
    tr = res["transform"]
    weights = 1 << np.arange(n, dtype=np.int64)
    ind = np.array([int(np.dot(np.asarray(t, dtype=np.int64), weights)) for t in tr],
                   dtype=np.int64)
    val = np.array([complex(tr[t]).real for t in tr])
    order = np.argsort(ind)
    out["exact"] = _exact(ind[order], val[order], k, v)
    return out


def _dense(n, repeat, threads):
    from sparsopt.transforms import fwht

    x = np.random.default_rng(0).standard_normal(2**n)
    fwht(x, n_jobs=threads)  # warm-up (compilation, page faults of the output)
    return float(np.median(time_runs(lambda: fwht(x, n_jobs=threads), repeat)[0]))


def _nmse(res, k, v):
    est = dict(zip(res.indices.tolist(), res.values.tolist()))
    true = dict(zip(k.tolist(), v.tolist()))
    err = sum((est.get(q, 0.0) - true.get(q, 0.0)) ** 2 for q in set(est) | set(true))
    return err / sum(a * a for a in true.values())


def reproduce_r4(markdown=False):
    """R4-a/b of the spec: exact recovery and NMSE at N = 2^20, K = 100, b = 7, C = 3
    (20 noiseless seeds, 10 per SNR with NSO R = 3 and R = 5). Returns the table rows."""
    from sparsopt.datasets import make_sparse_walsh
    from sparsopt.transforms import spright

    body = []
    settings = [("identity", 1, None, 20)] + [("nso", R, snr, 10) for R in (3, 5)
                                               for snr in (-5, 0, 5, 10, 15)]
    for delays, R, snr, seeds in settings:
        ok, nmse, queries = 0, [], []
        for s in range(seeds):
            query, k, v = make_sparse_walsh(20, 100, snr_db=snr, random_state=s)
            kw = {"n_offsets": R} if delays == "nso" else {}
            res = spright(query, 20, 100, n_hash_bits=7, delays=delays, random_state=s, **kw)
            ok += _exact(res.indices, res.values, k, v) if snr is None \
                else np.array_equal(res.indices, k)
            nmse.append(_nmse(res, k, v))
            queries.append(res.n_queries)
        body.append([delays if delays == "identity" else f"nso R={R}",
                     "noiseless" if snr is None else f"{snr:+d} dB",
                     str(res.info["n_samples"]), f"{min(queries)}-{max(queries)}",
                     f"{ok}/{seeds}", f"{np.median(nmse):.1e}"])
    head = ["delays", "SNR", "C P B", "distinct queries", "exact support", "median NMSE"]
    print("\n".join(grid(head, body, markdown, right={2, 3, 4, 5})))
    return body


def bench_spright(args):
    """Run the SPRIGHT benchmark; print the table (and save the plot); return the rows."""
    if getattr(args, "r4", False):
        warnings.simplefilter("ignore", ConvergenceWarning)
        return reproduce_r4(getattr(args, "markdown", False))
    try:
        import sparse_transform  # noqa: F401
        have_peer = True
    except ImportError:
        have_peer = False
        log("sparse-transform is not installed (pip install sparse-transform): peer skipped")
    quick = getattr(args, "quick", False)
    ns = args.n or ([12, 16, 20] if quick else [16, 20, 24, 28, 30])
    ks = args.k or ([10, 100] if quick else [10, 100, 1000])
    seeds = args.seeds or (2 if quick else 5)
    repeat = args.repeat
    rows = []
    _pin_numba(args.threads)
    warnings.simplefilter("ignore", ConvergenceWarning)  # a stall shows as a failed recovery
    with threadpool_limits(args.threads):
        for K in ks:
            peer_on = have_peer
            for n in ns:
                if 2**n < 4 * K:
                    continue
                row = {"n": n, "K": K, "B": 2 ** _budget(K)}
                log(f"spright n={n} K={K}")
                row["ours"] = _ours(n, K, 0, repeat)
                row["ours_rate"] = np.mean(
                    [row["ours"]["exact"]] + [_ours(n, K, s, 0)["exact"]
                                              for s in range(1, seeds)])
                if peer_on and n <= args.peer_max_n:
                    log(f"sparse-transform n={n} K={K}")
                    t0 = time.perf_counter()
                    try:
                        row["peer"] = _peer(n, K, 0, repeat)
                        row["peer_rate"] = np.mean(
                            [row["peer"]["exact"]] + [_peer(n, K, s, 0)["exact"]
                                                      for s in range(1, seeds)])
                    except Exception as exc:  # report, do not abort the table
                        row["peer_error"] = f"{type(exc).__name__}: {exc}"
                        peer_on = False
                    if time.perf_counter() - t0 > args.cap:
                        peer_on = False
                if n <= args.dense_max_n:
                    row["dense"] = _dense(n, repeat, args.threads)
                rows.append(row)
    _print(rows, args)
    if getattr(args, "plot", None):
        _plot(rows, args.plot)
    return rows


def _fmt(x):
    return "-" if x is None else fmt_time(x)


def _ratio(a, b):
    if a is None or b is None or b <= 0:
        return "-"
    r = a / b
    return f"{r:.1f}x" if r >= 10 else f"{r:.2g}x"


def _print(rows, args):
    head = ["n", "K", "B", "queries (ours)", "C P B", "ours e2e", "ours decode",
            "peer e2e", "peer decode", "peer/ours e2e", "peer/ours decode", "dense fwht",
            "dense/ours decode", "exact ours", "exact peer"]
    body = []
    for r in rows:
        o, p = r["ours"], r.get("peer", {})
        body.append([
            str(r["n"]), str(r["K"]), str(r["B"]), str(o["queries"]), str(o["samples"]),
            _fmt(o.get("e2e")), _fmt(o.get("decode")), _fmt(p.get("e2e")),
            _fmt(p.get("decode")), _ratio(p.get("e2e"), o.get("e2e")),
            _ratio(p.get("decode"), o.get("decode")), _fmt(r.get("dense")),
            _ratio(r.get("dense"), o.get("decode")), f"{r['ours_rate']:.0%}",
            f"{r['peer_rate']:.0%}" if "peer_rate" in r else r.get("peer_error", "-")])
    markdown = getattr(args, "markdown", False)
    print("\n".join(grid(head, body, markdown, right=set(range(len(head))))))
    print(f"\nthreads={args.threads} (BLAS and the dense fwht's n_jobs; spright's kernels "
          f"run on one), repeat={args.repeat} (median), seeds for exact recovery as given; "
          "ratios > 1: sparsopt is faster. 'dense fwht' is sparsopt's fwht (Numba kernel) of "
          "a 2^n vector (the queries of the full signal not counted).")
    for who in ("ours", "peer"):
        warm = [(r[who]["warmup"], r["n"], r["K"]) for r in rows
                if "warmup" in r.get(who, {})]
        if warm:
            t, n, K = max(warm)
            print(f"first run ({'JIT compilation and ' if who == 'ours' else ''}warm-up, "
                  f"not in the times), {who}: at most {_fmt(t)} (n = {n}, K = {K})")


def _plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = sorted({r["K"] for r in rows})
    K = 100 if 100 in ks else ks[len(ks) // 2]
    sel = [r for r in rows if r["K"] == K]
    fig, ax = plt.subplots(figsize=(6, 4))
    ns = [r["n"] for r in sel]
    ax.semilogy(ns, [r["ours"].get("e2e") for r in sel], "o-",
                label="SPRIGHT (sparsopt), end to end")
    ax.semilogy(ns, [r["ours"].get("decode") for r in sel], "o--",
                label="SPRIGHT (sparsopt), decode")
    pe = [(r["n"], r["peer"]["e2e"]) for r in sel if "peer" in r and "e2e" in r["peer"]]
    if pe:
        ax.semilogy(*zip(*pe), "s-", label="sparse-transform, end to end")
    de = [(r["n"], r["dense"]) for r in sel if "dense" in r]
    if de:
        ax.semilogy(*zip(*de), "^-", label="dense fwht of 2^n values")
    ax.set_xlabel("n (N = 2^n)")
    ax.set_ylabel("seconds")
    ax.set_title(f"Sparse WHT, K = {K}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"plot saved to {path}")


if __name__ == "__main__":
    bench_spright(parse_args(__doc__.splitlines()[0], add_arguments=add_arguments))
