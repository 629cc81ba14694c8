"""Probabilistic sparse coding (truncated EM): time per EM iteration, sparsopt vs plain NumPy.

Run ``python benchmarks/bench_prosper.py`` (a few minutes on 2 cores) or ``--quick`` (under a
minute); ``--plot out.png`` draws the four scaling panels, ``--no-patches`` skips the image-patch
run, ``--markdown`` prints GitHub tables.

Implementations (same data, same H, H', gamma, no annealing: T = 1, no N_cut truncation):

* ``sparsopt``: ``sparsopt.decomposition.bsc_em`` / ``gsc_em`` (what ``BinarySparseCoding`` /
  ``GaussianSparseCoding`` run; Numba truncated E-step in blocks of samples) started from the
  same ``init`` as the NumPy step. Its time per iteration is measured by difference, so that the
  one-off costs of a call (validation, set-up) are not counted:
  ``(t(max_iter = 1 + k) - t(max_iter = 1)) / k`` with the minimum over ``--repeat`` runs of each
  (``k = --iters``), after a warm-up call (JIT compilation, reported apart).
* ``numpy``: ``benchmarks/_prosper_numpy.py``, the straightforward vectorised NumPy truncated EM
  a user would write from the spec (dense ``(N, |K|)`` log-joints, log-sum-exp, matrix products
  and ``np.bincount`` scatters, LAPACK for the M-step: ``lstsq`` as written in the spec, and
  again with ``np.linalg.solve``: the ``numpy solve`` column), from the same init and timed by
  the same
  difference of ``1 + k`` and 1 iterations (the iterations after the first can be slower: once
  the posteriors sharpen, the expectations hold subnormal numbers, which slow BLAS down).
* ``exact``: the exact BSC EM step over all ``2^H`` states (``bsc_exact_em_step``), where
  ``N * 2^H <= 2e7``.

Timing on a shared machine: the timed calls of a case (NumPy with ``lstsq`` and with
``solve``, 1 and ``1 + k`` iterations each, sparsopt's 1 and ``1 + k`` iterations, the two
E-steps) are interleaved: each of the ``--repeat`` rounds calls every one of them once, and
the minimum per call is kept, so that a change of load hits all of them alike. sparsopt's
E-step runs with ``n_jobs = --threads`` (threads over blocks of samples), NumPy with
``--threads`` BLAS threads: both get the same number of threads.

Data: the bars test (spec 2(c)): ``W = 10 * bars`` of a ``size x size`` image (``H = 2 size``
bars, ``D = size^2`` pixels), ``pi = 2 / H`` (two bars per image on average), noise sigma 2 (BSC)
or spike-and-slab codes with ``mu = 1``, ``psi = 1``, noise variance 1 (GSC). Threads are pinned
to ``--threads`` (2) through the environment and ``threadpoolctl`` for NumPy's BLAS and Numba.

E-step columns and agreement: on every case the script also runs the E-step alone at the standard
init, ``sparsopt.decomposition.truncated_estep`` against the NumPy E-step (preselection, log-joints,
log-sum-exp, expectations; minimum over ``--repeat`` calls), and asserts that their outputs
(``logz``, ``<s>`` or ``<s z>``, the summed second moments) agree to 1e-8 relative to their
largest magnitude, and that the parameters after one EM step (W, pi, sigma; GSC also mu and
psi) agree to 1e-6; the largest difference is printed in the ``agree`` column.

Ceiling: ``X W`` is the time of one product ``X W`` (N x D by D x H, the NumPy baseline's own
BLAS call, interleaved with the other runs). Every implementation needs it once per iteration:
the log-joints of the H singleton states take ``W y`` for every unit. So ``numpy/it`` over it
(``ceiling``) bounds the numpy/sparsopt ratio that any implementation using this BLAS can
reach, however fast the rest. (The baseline computes it twice, for the preselection and for
the log-joints, as a plain implementation does.)

Image patches: ``sparsopt.datasets.load_image_patches(patch_size=(16, 16))`` of china.jpg
(centred, scaled to unit variance), BSC with ``H = --patch-h`` (128) atoms, H' = 8, gamma = 3;
samples per second = N / time per iteration for both implementations; the last row times
``X W`` alone and its ceiling (as above).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# _harness first: it pins the thread-count environment variables before numpy/numba load
from _harness import fmt_time, grid, log, parse_args, write_json  # noqa: I001

import time
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

import _prosper_numpy as ref


def add_arguments(p):
    p.add_argument("--iters", type=int, default=4,
                   help="EM iterations timed by difference (default 4)")
    p.add_argument("--plot", metavar="PNG", help="write the scaling plot there")
    p.add_argument("--no-patches", action="store_true", help="skip the image-patch run")
    p.add_argument("--patch-h", type=int, default=128, help="atoms of the patch run (128)")
    p.add_argument("--no-gsc", action="store_true", help="skip the GSC table")
    p.add_argument("--case", action="append", metavar="N,H,H',GAMMA",
                   help="run only these BSC cases (repeatable) instead of the scans; "
                   "prefix with gsc: for a GSC case")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="wall: time.perf_counter (default); cpu: the CPU time of the calling "
                   "thread (time.thread_time), for a loaded shared machine: the time spent "
                   "descheduled is not counted (only with --threads 1, where BLAS and the "
                   "kernels run in the calling thread)")


# --------------------------------------------------------------------------- data


def bars(size):
    """``(D, H)`` bars dictionary: unit h < size is row h, unit size + h is column h."""
    H = 2 * size
    W = np.zeros((size, size, H))
    for h in range(size):
        W[h, :, h] = 1.0
        W[:, h, size + h] = 1.0
    return W.reshape(size * size, H)


def bars_data(n, size, model="binary", seed=0):
    rng = np.random.default_rng(seed)
    W = 10.0 * bars(size)
    H = W.shape[1]
    S = (rng.random((n, H)) < 2.0 / H).astype(float)
    if model == "binary":
        return S @ W.T + 2.0 * rng.standard_normal((n, W.shape[0]))
    Z = 1.0 + rng.standard_normal((n, H))
    return (S * Z) @ W.T + rng.standard_normal((n, W.shape[0]))


def standard_init(X, H, seed=0):
    """The spec's standard init: W_h = mean + N(0, (sbar/4)^2), pi = 1/H, sigma = sbar."""
    rng = np.random.default_rng(seed)
    sbar = X.std(axis=0).mean()
    W = X.mean(axis=0)[:, None] + sbar / 4.0 * rng.standard_normal((X.shape[1], H))
    return W, 1.0 / H, sbar


# --------------------------------------------------------------------------- timing


#: the clock of every timing (``--clock``)
CLOCK = [time.perf_counter]


def min_time(fn, repeat):
    best = np.inf
    for _ in range(repeat):
        t0 = CLOCK[0]()
        fn()
        best = min(best, CLOCK[0]() - t0)
    return best


def _em_functions():
    try:
        from sparsopt.decomposition import bsc_em, gsc_em
    except ImportError:  # before the decomposition namespace exports them
        from sparsopt.decomposition._prosper_em import bsc_em, gsc_em
    return bsc_em, gsc_em


#: threads of sparsopt's E-step (``n_jobs``); ``main`` sets it to ``--threads`` so that both
#: implementations get the same number of threads (NumPy's through BLAS)
N_JOBS = [1]


def sparsopt_em(X, model, H, Hp, g, n_iter):
    """``n_iter`` EM iterations of sparsopt from the standard init of this script."""
    bsc_em, gsc_em = _em_functions()
    if model == "binary":
        W, pi, sigma = standard_init(X, H)
        init = {"components": W.T, "prior": pi, "noise_std": sigma}
        return bsc_em(X, H, n_preselect=Hp, max_active=g, max_iter=n_iter, init=init,
                      n_jobs=N_JOBS[0])
    W, pis, mu, psi, s2 = gsc_init(X, H)
    init = {"components": W.T, "prior": pis, "noise_std": np.sqrt(s2), "slab_mean": mu,
            "slab_var": psi}
    return gsc_em(X, H, n_preselect=Hp, max_active=g, max_iter=n_iter, init=init,
                  n_jobs=N_JOBS[0])


def interleaved_min(fns, repeat):
    """``{name: min seconds}`` over ``repeat`` rounds, each round calling every function of
    ``fns`` (a dict) once in turn, so that a load change on a shared machine hits all the
    implementations alike."""
    best = dict.fromkeys(fns, np.inf)
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = CLOCK[0]()
            fn()
            best[name] = min(best[name], CLOCK[0]() - t0)
    return best


def per_iter(t1, tk, iters):
    """``(t(1 + iters) - t(1)) / iters``; None when timing noise exceeds the work of the
    extra iterations (a loaded machine)."""
    return (tk - t1) / iters if tk > t1 else None


def sparsopt_per_iter(X, model, H, Hp, g, iters, repeat):
    """``(seconds per iteration, warm-up seconds, one-iteration output)``: the time of
    ``1 + iters`` iterations minus that of 1 iteration, divided by ``iters``."""
    t0 = time.perf_counter()
    one = sparsopt_em(X, model, H, Hp, g, 1)
    warm = time.perf_counter() - t0
    t = interleaved_min({1: lambda: sparsopt_em(X, model, H, Hp, g, 1),
                         2: lambda: sparsopt_em(X, model, H, Hp, g, 1 + iters)}, repeat)
    return per_iter(t[1], t[2], iters), warm, one


def step_agreement(one, X, model, H, Hp, g):
    """Largest relative difference of the parameters after one EM step (sparsopt's
    ``(components, result)`` vs the NumPy step from the same init)."""
    W1, res = one
    if model == "binary":
        W, pi, sigma = standard_init(X, H)
        Wn, pin, sn, _ = ref.bsc_em_step(X, W, pi, sigma, Hp, g)
        pairs = [(W1.T, Wn), (res.prior, pin), (res.noise_std, sn)]
    else:
        W, pis, mu, psi, s2 = gsc_init(X, H)
        Wn, pin, mun, psin, s2n, _ = ref.gsc_em_step(X, W, pis, mu, psi, s2, Hp, g)
        pairs = [(W1.T, Wn), (res.prior, pin), (res.slab_mean, mun), (res.slab_var, psin),
                 (res.noise_std, np.sqrt(s2n))]
    return agreement([np.asarray(a) for a, _ in pairs], [np.asarray(b) for _, b in pairs])


def numpy_em(X, model, H, Hp, g, n_iter, Sc=None, solver="lstsq"):
    """``n_iter`` EM iterations of the NumPy baseline from the same init as sparsopt."""
    if model == "binary":
        W, pi, sigma = standard_init(X, H)
        for _ in range(n_iter):
            W, pi, sigma, _ = ref.bsc_em_step(X, W, pi, sigma, Hp, g, Sc=Sc, solver=solver)
        return W, pi, sigma
    W, pis, mu, psi, s2 = gsc_init(X, H)
    for _ in range(n_iter):
        W, pis, mu, psi, s2, _ = ref.gsc_em_step(X, W, pis, mu, psi, s2, Hp, g,
                                                 solver=solver)
    return W, pis, mu, psi, s2


def numpy_per_iter(X, model, H, Hp, g, iters, repeat, solver="lstsq"):
    """Seconds per iteration of the NumPy baseline, by the same difference as sparsopt's
    (the later iterations can be slower than the first: posteriors with subnormal values
    slow BLAS down)."""
    Sc = ref.combination_states(Hp, g) if model == "binary" else None
    numpy_em(X, model, H, Hp, g, 1, Sc, solver)  # warm-up (first touch of the memory)
    t1 = min_time(lambda: numpy_em(X, model, H, Hp, g, 1, Sc, solver), repeat)
    tk = min_time(lambda: numpy_em(X, model, H, Hp, g, 1 + iters, Sc, solver), repeat)
    return (tk - t1) / iters if tk > t1 else None


def exact_per_iter(X, H, repeat):
    if X.shape[0] * 2**H > 2e7:
        return None
    W, pi, sigma = standard_init(X, H)
    S = ref.all_states(H)
    return min_time(lambda: ref.bsc_exact_em_step(X, W, pi, sigma, S=S), repeat)


def _truncated_estep():
    try:
        from sparsopt.decomposition import truncated_estep
    except ImportError:  # before the estimators' module exports it
        from sparsopt.decomposition._prosper_estep import truncated_estep
    return truncated_estep


def gsc_init(X, H):
    W, _, sigma = standard_init(X, H)
    return W, np.full(H, 2.0 / H), np.ones(H), np.ones(H), sigma**2


def estep_pair(X, model, H, Hp, g):
    """The E-step of both implementations at the standard init: two thunks returning
    ``(logz, <s>, sum_n <s s^T>_n)`` (GSC: ``<s z>`` and its second moment)."""
    estep = _truncated_estep()
    if model == "binary":
        W, pi, sigma = standard_init(X, H)
        Sc = ref.combination_states(Hp, g)

        def ours():
            e = estep(X, W.T, prior=pi, noise_std=sigma, n_preselect=Hp, max_active=g)
            return e.logz, e.es, e.second_moment()

        def base():
            lse, q, _, sel, _ = ref.bsc_estep(X, W, pi, sigma, Hp, g, Sc=Sc)
            Es, Ess = ref.bsc_expectations(q, sel, Sc, H)
            return lse, Es, Ess
    else:
        W, pis, mu, psi, s2 = gsc_init(X, H)

        def ours():
            e = estep(X, W.T, model="gsc", prior=pis, noise_std=np.sqrt(s2), n_preselect=Hp,
                      max_active=g, slab_mean=mu, slab_var=psi)
            return e.logz, e.esz, e.second_moment()

        def base():
            lse, _, Esz, Eszz = ref.gsc_expectations(X, W, pis, mu, psi, s2, Hp, g)
            return lse, Esz, Eszz
    return ours, base


def agreement(a, b):
    """Largest relative difference over the E-step outputs ``a`` and ``b``."""
    return max(float(np.max(np.abs(x - y)) / max(1.0, float(np.max(np.abs(y)))))
               for x, y in zip(a, b))


@dataclass
class Result:
    panel: str
    model: str
    N: int
    H: int
    Hp: int
    g: int
    K: int
    estep_ours: float | None
    estep_numpy: float | None
    ours: float | None
    warm: float | None
    numpy: float
    numpy_solve: float | None
    exact: float | None
    agree: float | None
    product: float | None = None


def run_case(panel, model, N, H, Hp, g, args, have):
    size = H // 2
    X = bars_data(N, size, model, seed=0)
    K = ref.n_states(H, Hp, g)
    k = args.iters
    log(f"{panel}: {model} N={N} H={H} H'={Hp} gamma={g} |K|={K}")
    Sc = ref.combination_states(Hp, g) if model == "binary" else None
    fns = {}
    for solver in ("lstsq", "solve"):
        numpy_em(X, model, H, Hp, g, 1, Sc, solver)  # warm-up (first touch of the memory)
        fns[solver, 1] = lambda s=solver: numpy_em(X, model, H, Hp, g, 1, Sc, s)
        fns[solver, 2] = lambda s=solver: numpy_em(X, model, H, Hp, g, 1 + k, Sc, s)
    t_ex = exact_per_iter(X, H, args.repeat) if model == "binary" else None
    # the product every implementation needs (the energies of all H singletons take W y
    # for every unit), by the same BLAS call as the NumPy baseline: numpy/it over its time
    # bounds the ratio that any implementation using this BLAS can reach
    W0 = standard_init(X, H)[0]
    fns["X W"] = lambda: X @ W0
    ours = warm = agree = e_ours = e_np = None
    if have["estep"]:
        f_ours, f_base = estep_pair(X, model, H, Hp, g)
        agree = agreement(f_ours(), f_base())
        assert agree < 1e-8, f"sparsopt and the NumPy E-steps disagree: {agree:.2e}"
        fns["E ours"], fns["E numpy"] = f_ours, f_base
    if have["em"]:
        t0 = time.perf_counter()
        one = sparsopt_em(X, model, H, Hp, g, 1)
        warm = time.perf_counter() - t0
        _, res = sparsopt_em(X, model, H, Hp, g, 1 + k)
        assert res.n_iter == 1 + k  # tol=None runs them all
        fns["ours", 1] = lambda: sparsopt_em(X, model, H, Hp, g, 1)
        fns["ours", 2] = lambda: sparsopt_em(X, model, H, Hp, g, 1 + k)
        step_agree = step_agreement(one, X, model, H, Hp, g)
        assert step_agree < 1e-6, f"one EM step of sparsopt and NumPy disagree: {step_agree:.2e}"
        agree = max(agree or 0.0, step_agree)
    t = interleaved_min(fns, args.repeat)
    t_np = per_iter(t["lstsq", 1], t["lstsq", 2], k)
    t_nps = per_iter(t["solve", 1], t["solve", 2], k)
    if have["em"]:
        ours = per_iter(t["ours", 1], t["ours", 2], k)
    if have["estep"]:
        e_ours, e_np = t["E ours"], t["E numpy"]
    return Result(panel, model, N, H, Hp, g, K, e_ours, e_np, ours, warm, t_np, t_nps, t_ex,
                  agree, t["X W"])


def grids(quick):
    if quick:
        return [("N", [(n, 32, 8, 3) for n in (500, 2000)]),
                ("H", [(1000, h, 8, 3) for h in (10, 32)]),
                ("H'", [(1000, 32, hp, 3) for hp in (6, 10)]),
                ("gamma", [(1000, 32, 10, g) for g in (2, 4)])]
    return [("N", [(n, 32, 8, 4) for n in (1000, 4000, 16000)]),
            ("H", [(2000, h, 8, 4) for h in (10, 16, 32, 64)]),
            ("H'", [(2000, 32, hp, 4) for hp in (6, 8, 10, 12)]),
            ("gamma", [(2000, 32, 10, g) for g in (2, 3, 4, 5)])]


def _t(x):
    return fmt_time(x) if x is not None else "n/a"


def table(results, markdown):
    head = ["scan", "model", "N", "H", "H'", "γ", "states", "sparsopt/it", "numpy/it",
            "numpy solve/it", "exact/it", "numpy/sparsopt", "solve/sparsopt",
            "E-step sparsopt", "E-step numpy", "E ratio", "warm-up", "agree", "X W",
            "ceiling"]
    body = []
    for r in results:
        ratio = f"{r.numpy / r.ours:.1f}×" if r.ours and r.numpy else "-"
        sratio = f"{r.numpy_solve / r.ours:.1f}×" if r.ours and r.numpy_solve else "-"
        eratio = f"{r.estep_numpy / r.estep_ours:.1f}×" if r.estep_ours else "-"
        ceil = f"{r.numpy / r.product:.1f}×" if r.product and r.numpy else "-"
        body.append([r.panel, r.model, str(r.N), str(r.H), str(r.Hp), str(r.g), str(r.K),
                     _t(r.ours), _t(r.numpy), _t(r.numpy_solve),
                     _t(r.exact) if r.exact else "-", ratio, sratio,
                     _t(r.estep_ours), _t(r.estep_numpy), eratio, _t(r.warm),
                     f"{r.agree:.0e}" if r.agree is not None else "-", _t(r.product), ceil])
    return grid(head, body, markdown, right=set(range(2, 20)))


def patch_run(args, have):
    from sparsopt.datasets import load_image_patches

    n = 2000 if args.quick else 10000
    X = load_image_patches(patch_size=(16, 16), n_patches=n, random_state=0)
    X = X / X.std()
    H, Hp, g = args.patch_h, 8, 3
    log(f"patches: N={n} D=256 H={H} H'={Hp} gamma={g}")
    t_np = numpy_per_iter(X, "binary", H, Hp, g, args.iters, max(1, args.repeat // 2))
    t_nps = numpy_per_iter(X, "binary", H, Hp, g, args.iters, max(1, args.repeat // 2),
                           solver="solve")
    ours = None
    if have["em"]:
        ours, _, _ = sparsopt_per_iter(X, "binary", H, Hp, g, args.iters,
                                       max(1, args.repeat // 2))
    W0 = standard_init(X, H)[0]
    X @ W0
    t_xw = min_time(lambda: X @ W0, max(3, args.repeat))
    head = ["run", "N", "D", "H", "H'", "γ", "states", "impl", "time/it", "samples/s"]
    body = [["china.jpg 16×16", str(n), "256", str(H), str(Hp), str(g),
             str(ref.n_states(H, Hp, g)), "numpy (lstsq)", _t(t_np),
             f"{n / t_np:,.0f}" if t_np else "-"],
            ["", "", "", "", "", "", "", "numpy (solve)", _t(t_nps),
             f"{n / t_nps:,.0f}" if t_nps else "-"]]
    if ours:
        body.append(["", "", "", "", "", "", "", "sparsopt", fmt_time(ours), f"{n / ours:,.0f}"])
    body.append(["", "", "", "", "", "", "", "X W alone (BLAS)", fmt_time(t_xw),
                 f"ceiling {t_np / t_xw:.1f}×" if t_np else "-"])
    return grid(head, body, args.markdown, right={1, 2, 3, 4, 5, 6, 8, 9})


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("N", "N"), ("H", "H"), ("H'", "Hp"), ("gamma", "g")]
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
    for ax, (panel, attr) in zip(axes, panels):
        rs = [r for r in results if r.panel == panel and r.model == "binary"]
        x = [getattr(r, attr) for r in rs]
        ax.plot(x, [r.numpy or np.nan for r in rs], "s-", label="NumPy (vectorised)")
        if any(r.ours for r in rs):
            ax.plot(x, [r.ours or np.nan for r in rs], "o-", label="sparsopt")
        if any(r.exact for r in rs):
            ax.plot(x, [r.exact or np.nan for r in rs], "^--", label="exact EM (2^H)")
        ax.set(xlabel=panel, ylabel="s / EM iteration", yscale="log", title=f"BSC, scan {panel}")
        if panel == "N":
            ax.set_xscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main():
    args = parse_args(__doc__.splitlines()[0], add_arguments=add_arguments)
    if args.clock == "cpu":
        if args.threads != 1:
            sys.exit("--clock cpu needs --threads 1 (other threads' time would not count)")
        CLOCK[0] = time.thread_time
    have = {"estep": True, "em": True}
    try:
        _truncated_estep()
    except ImportError:
        have["estep"] = False
    try:
        _em_functions()
    except ImportError:
        have["em"] = False
        log("sparsopt.decomposition.bsc_em not found: no sparsopt EM timings")
    import numba

    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    N_JOBS[0] = args.threads
    results = []
    with threadpool_limits(args.threads):
        if args.case:
            for spec in args.case:
                model = "spike_and_slab" if spec.startswith("gsc:") else "binary"
                N, H, Hp, g = (int(v) for v in spec.removeprefix("gsc:").split(","))
                results.append(run_case("case", model, N, H, Hp, g, args, have))
            args.no_gsc = True
        for panel, cases in ([] if args.case else grids(args.quick)):
            for N, H, Hp, g in cases:
                results.append(run_case(panel, "binary", N, H, Hp, g, args, have))
        if not args.no_gsc:
            gsc_cases = [(500, 10, 6, 3)] if args.quick else [(1000, 10, 7, 4), (1000, 32, 6, 3)]
            for N, H, Hp, g in gsc_cases:
                results.append(run_case("GSC", "spike_and_slab", N, H, Hp, g, args, have))
        lines = table(results, args.markdown)
        patch_lines = None if args.no_patches else patch_run(args, have)
    print("\n## Time per EM iteration (min over repeats; ratio = numpy / sparsopt; the NumPy "
          "baseline's M-step solve is lstsq, 'numpy solve' the same step with np.linalg.solve)\n")
    print("\n".join(lines))
    if patch_lines:
        print("\n## Image patches (BSC)\n")
        print("\n".join(patch_lines))
    print(f"\nthreads = {args.threads} (sparsopt n_jobs = {N_JOBS[0]}), repeat = "
          f"{args.repeat}, iters = {args.iters}, clock = {args.clock}; load average "
          f"{os.getloadavg()[0]:.2f}")
    if args.plot:
        plot(results, args.plot)
        print(f"plot written to {args.plot}")
    if args.json:
        write_json(args.json, [], args, notes=[str(r) for r in results])


if __name__ == "__main__":
    main()
