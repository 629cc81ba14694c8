"""Neural-network pruning: accuracy vs density, training time per epoch, sparse inference.

Run ``python benchmarks/bench_pruning.py`` (all three parts; ``--part a|b|c`` selects one)
or ``--quick`` (small sizes, a smoke test of a minute or two). Threads are pinned
(``--threads``, default 2) through the environment, ``threadpoolctl`` and Numba.

**(a) Accuracy vs density per method** on two data sets: scikit-learn's digits (the spec's
protocol: stratified 75/25 split with random_state=0, StandardScaler, a 64-256-128-10 ReLU
network, Adam lr 1e-3, alpha 1e-4, batch 64, 60 epochs) and a generated
``make_classification`` set (100 000 samples, 64 features of which 32 informative, 10
classes, 80/20 split, StandardScaler, the same network, batch 256, ``--epochs-large`` epochs,
default 8). Methods, at densities 0.02, 0.05 and 0.10 (seed 0):

* ``gmp``: ``SparseMLPClassifier`` with global magnitude and the cubic gradual schedule
  (``PolynomialDecay(begin=0.1, end=0.6)``, Zhu and Gupta);
* ``granet``: the same plus ``NeuroRegeneration()`` (GraNet prune-and-regrow);
* ``random_uniform`` / ``random_erk``: random masks at initialisation
  (``RandomCriterion("uniform"|"erk")``, ``OneShot(at="init")``), static sparse training;
* ``oneshot_global+ft`` / ``oneshot_erk+ft``: scikit-learn's dense ``MLPClassifier`` trained
  for the same epochs, then ``MLPPruner`` (global or ERK magnitude, one shot) and 20 (digits)
  or 2 (large set) fine-tuning epochs;
* ``dense``: scikit-learn's ``MLPClassifier`` (density 1).

Reported: test accuracy and the realised density of each fitted model.

**(b) Training time per epoch** against scikit-learn's dense ``MLPClassifier`` at the same
architecture (64-256-128-10), batch size (256), solver (Adam) and data (the large set): one
epoch is one ``partial_fit`` call of each (after one warm-up epoch). sparsopt's
``SparseMLPClassifier`` trains with a static mask (``Constant`` schedule at step 0, layer-wise
magnitude) at density 0.10 and 1.0; ``MLPPruner`` fine-tuning is one epoch of the wrapper's
``partial_fit`` (one scikit-learn ``partial_fit`` per minibatch, re-masked in place).
Ratio = scikit-learn time / this time (goal >= 1 for ``SparseMLPClassifier``).

**(c) Inference**: ``predict`` of a ``SparseMLPClassifier`` at density 0.02, 0.05 and 0.10
(every layer at that density: layer-wise magnitude at initialisation, one epoch of training;
global magnitude at initialisation would empty the 256x128 layer, whose Glorot weights are
the smallest; ``predict`` packs the network once and runs the fused sparse kernel when its
density is at most 0.15) against scikit-learn's
``MLPClassifier.predict`` on the same weights (dense BLAS), on 100 000 rows of the large set,
for the 64-256-128-10 network and a wider 64-1024-1024-10 one; and the fused kernel
``sparse_network_forward`` on the network packed once by ``to_sparse_network`` (packing not
timed; hidden activations stay in cache), its argmax mapped to the classes. The
predictions are checked equal before timing. Ratio = dense time / sparse time (goal >= 3
at 2 %).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _harness import (  # noqa: I001
    Case,
    Impl,
    fmt_time,
    grid,
    log,
    parse_args,
    print_table,
    run_cases,
    write_json,
)

import time
import warnings

import numpy as np
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sparsopt.pruning import (
    Constant,
    MagnitudeCriterion,
    MLPPruner,
    NeuroRegeneration,
    OneShot,
    PolynomialDecay,
    RandomCriterion,
    SparseMLPClassifier,
    sparse_network_forward,
    to_sparse_network,
)

HIDDEN = (256, 128)
DENSITIES = (0.02, 0.05, 0.10)


# ------------------------------------------------------------------------------ data
def digits_data():
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y,
                                              random_state=0)
    sc = StandardScaler().fit(X_tr)
    return sc.transform(X_tr), sc.transform(X_te), y_tr, y_te


def large_data(n_samples):
    X, y = make_classification(n_samples=n_samples, n_features=64, n_informative=32,
                               n_redundant=8, n_classes=10, n_clusters_per_class=2,
                               class_sep=1.5, random_state=0)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, stratify=y,
                                              random_state=0)
    sc = StandardScaler().fit(X_tr)
    return sc.transform(X_tr), sc.transform(X_te), y_tr, y_te


# ------------------------------------------------------------------- (a) accuracy
def _sparse(density, epochs, batch, **kw):
    return SparseMLPClassifier(hidden_layer_sizes=HIDDEN, density=density, batch_size=batch,
                               alpha=1e-4, learning_rate_init=1e-3, max_iter=epochs,
                               random_state=0, **kw)


def _dense(epochs, batch):
    return MLPClassifier(hidden_layer_sizes=HIDDEN, batch_size=batch, alpha=1e-4,
                         learning_rate_init=1e-3, max_iter=epochs, random_state=0)


def methods(epochs, batch, ft_epochs):
    gmp = dict(criterion=MagnitudeCriterion("global"),
               schedule=PolynomialDecay(begin=0.1, end=0.6, frequency=20))
    init = OneShot(at="init")
    return {
        "gmp": lambda d: _sparse(d, epochs, batch, **gmp),
        "granet": lambda d: _sparse(d, epochs, batch, mask_updater=NeuroRegeneration(), **gmp),
        "random_uniform": lambda d: _sparse(d, epochs, batch, schedule=init,
                                            criterion=RandomCriterion("uniform")),
        "random_erk": lambda d: _sparse(d, epochs, batch, schedule=init,
                                        criterion=RandomCriterion("erk")),
        "oneshot_global+ft": lambda d: ("prune", MagnitudeCriterion("global"), d, ft_epochs),
        "oneshot_erk+ft": lambda d: ("prune", MagnitudeCriterion("erk"), d, ft_epochs),
    }


def accuracy_part(args, names):
    quick = args.quick
    sets = [("digits", digits_data, 60 if not quick else 15, 64, 20 if not quick else 5)]
    if "large" in names:
        n = 100_000 if not quick else 10_000
        sets.append((f"classif{n // 1000}k", lambda: large_data(n),
                     args.epochs_large if not quick else 2, 256, 2 if not quick else 1))
    densities = DENSITIES if not quick else (0.05,)
    rows = []
    for name, loader, epochs, batch, ft in sets:
        X_tr, X_te, y_tr, y_te = loader()
        log(f"(a) {name}: {X_tr.shape[0]} train rows, {epochs} epochs, batch {batch}")
        t0 = time.perf_counter()
        dense = _dense(epochs, batch).fit(X_tr, y_tr)
        rows.append((name, "dense (sklearn)", 1.0, 1.0, dense.score(X_te, y_te),
                     time.perf_counter() - t0))
        for method, make in methods(epochs, batch, ft).items():
            for d in densities:
                t0 = time.perf_counter()
                model = make(d)
                if isinstance(model, tuple):
                    _, crit, dd, ft_epochs = model
                    model = MLPPruner(dense, density=dd, criterion=crit,
                                      finetune_epochs=ft_epochs, refit_estimator=False,
                                      random_state=0).fit(X_tr, y_tr)
                else:
                    model.fit(X_tr, y_tr)
                rows.append((name, method, d, model.density_, model.score(X_te, y_te),
                             time.perf_counter() - t0))
                log(f"  {method:<20} d={d:<5} acc={rows[-1][4]:.4f}  "
                    f"({fmt_time(rows[-1][5])})")
    head = ["data", "method", "target density", "realised density", "test accuracy",
            "fit time"]
    body = [[a, b, f"{c:.2f}", f"{d:.4f}", f"{e:.4f}", fmt_time(f)]
            for a, b, c, d, e, f in rows]
    return ["(a) accuracy vs density (seed 0; the one-shot rows' fit time is pruning and "
            "fine-tuning only, after the dense row's training)"] + grid(
                head, body, args.markdown, right={2, 3, 4, 5})


# ------------------------------------------------------------------ (b) train time
def train_part(args):
    n = 100_000 if not args.quick else 10_000
    X_tr, _, y_tr, _ = large_data(n)
    classes = np.unique(y_tr)
    batch = 256

    def sk_setup():
        return _dense(1, batch).partial_fit(X_tr, y_tr, classes=classes)

    def ours(density):
        def setup():
            return _sparse(density, 1, batch, criterion=MagnitudeCriterion("layer"),
                           schedule=Constant(begin=0)).partial_fit(X_tr, y_tr,
                                                                   classes=classes)
        return setup

    def pruner_setup():
        dense = _dense(1, batch).partial_fit(X_tr, y_tr, classes=classes)
        return MLPPruner(dense, density=0.1, finetune_epochs=0, refit_estimator=False,
                         random_state=0).fit(X_tr, y_tr).partial_fit(X_tr, y_tr)

    models = {}

    def epoch(key, make):
        def fn(_):
            if key not in models:  # the first (warm-up) call builds and trains one epoch
                models[key] = make()
                return models[key]
            return models[key].partial_fit(X_tr, y_tr)
        return fn

    impls = [Impl("sklearn MLPClassifier (dense)", epoch("sk", sk_setup)),
             Impl("SparseMLPClassifier d=1.0", epoch("s1", ours(1.0))),
             Impl("SparseMLPClassifier d=0.1", epoch("s01", ours(0.1))),
             Impl("MLPPruner fine-tuning d=0.1", epoch("pr", pruner_setup))]
    case = Case(f"epoch n={n // 1000}k b={batch}", lambda: None)
    rows = run_cases([case], impls, repeat=args.repeat if not args.quick else 2,
                     threads=args.threads, peer="sklearn MLPClassifier (dense)")
    return rows


# ------------------------------------------------------------------- (c) inference
def _fused_predict(data):
    """Labels from the fused CSR forward pass (the packed network built in set-up)."""
    return data["classes"][sparse_network_forward(data["X"], data["net"]).argmax(axis=1)]


def inference_part(args):
    n = 100_000 if not args.quick else 20_000
    X_tr, X_te, y_tr, y_te = large_data(max(n, 20_000) if args.quick else n)
    X = np.ascontiguousarray(np.vstack([X_tr, X_te])[:n])
    classes = np.unique(y_tr)
    archs = [HIDDEN, (1024, 1024)] if not args.quick else [HIDDEN]
    cases, impls = [], []
    for hidden in archs:
        for d in DENSITIES:
            label = f"{'-'.join(map(str, hidden))} d={d:.2f}"

            def setup(hidden=hidden, d=d):
                sparse = SparseMLPClassifier(hidden_layer_sizes=hidden, density=d,
                                             criterion=MagnitudeCriterion("layer"),
                                             schedule=OneShot(at="init"), batch_size=256,
                                             max_iter=1, random_state=0)
                sparse.partial_fit(X_tr[:20_000], y_tr[:20_000], classes=classes)
                dense = MLPClassifier(hidden_layer_sizes=hidden, max_iter=1, random_state=0)
                dense.partial_fit(X_tr[:256], y_tr[:256], classes=classes)
                for dst, src in zip(dense.coefs_ + dense.intercepts_,
                                    sparse.coefs_ + sparse.intercepts_):
                    dst[...] = src
                net = to_sparse_network(sparse.coefs_, sparse.intercepts_)
                return {"sparse": sparse, "dense": dense, "X": X, "net": net,
                        "classes": sparse.classes_}

            def check(outputs, data):
                ref = outputs["sklearn predict (dense)"]
                for name in ("sparse predict", "fused sparse_network_forward"):
                    agree = np.mean(outputs[name] == ref)
                    if agree < 0.999:
                        raise AssertionError(f"{name} and dense predictions differ ({agree})")

            cases.append(Case(label, setup, check))
    impls = [Impl("sklearn predict (dense)", lambda data: data["dense"].predict(data["X"])),
             Impl("sparse predict", lambda data: data["sparse"].predict(data["X"])),
             Impl("fused sparse_network_forward", _fused_predict)]
    return run_cases(cases, impls, repeat=args.repeat, threads=args.threads,
                     peer="sklearn predict (dense)")


def main():
    def extra(p):
        p.add_argument("--part", choices=["a", "b", "c", "all"], default="all")
        p.add_argument("--epochs-large", type=int, default=8,
                       help="training epochs on the large set in part (a)")
        p.add_argument("--no-large", action="store_true",
                       help="part (a) on digits only")

    args = parse_args(__doc__.splitlines()[0], add_arguments=extra)
    warnings.simplefilter("ignore", ConvergenceWarning)
    parts = "abc" if args.part == "all" else args.part
    all_rows, notes = [], []
    if "b" in parts:
        log("(b) training time per epoch")
        rows = train_part(args)
        print("(b) training time per epoch (one partial_fit epoch each)")
        print_table(rows, peer="sklearn MLPClassifier (dense)", markdown=args.markdown)
        print()
        all_rows += rows
    if "c" in parts:
        log("(c) inference")
        rows = inference_part(args)
        print("(c) inference: predict on the same weights, sparse kernel vs dense BLAS")
        print_table(rows, peer="sklearn predict (dense)", markdown=args.markdown)
        print()
        all_rows += rows
    if "a" in parts:
        names = {"digits"} | (set() if args.no_large else {"large"})
        with threadpool_limits(args.threads):
            lines = accuracy_part(args, names)
        print("\n".join(lines))
        notes += lines
    if args.json:
        write_json(args.json, all_rows, args, notes)


if __name__ == "__main__":
    main()
