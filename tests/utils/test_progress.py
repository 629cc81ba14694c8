"""The progress reporter of long fits: off, plain lines, tqdm."""

import io

import pytest

import sparsopt
from sparsopt._core.progress import progress


def test_off_prints_nothing():
    out = io.StringIO()
    with progress(5, "fit", verbose=0, file=out) as bar:
        for _ in range(5):
            bar.update(1, objective=1.0)
    assert out.getvalue() == "" and bar.n == 5 and bar.backend == "off"


def test_plain_lines_throttled_and_last_line_printed():
    out = io.StringIO()
    with progress(50, "fit", verbose=1, use_tqdm=False, file=out, min_interval=3600) as bar:
        for _ in range(50):
            bar.update(1, objective=0.25)
    lines = out.getvalue().splitlines()
    assert bar.backend == "plain"
    # the first update prints, then nothing until the last one
    assert len(lines) == 2
    assert lines[-1].startswith("fit: 50/50") and "objective=0.25" in lines[-1]


def test_unknown_total_and_close_prints_once():
    out = io.StringIO()
    with progress(None, "cv", verbose=1, use_tqdm=False, file=out, min_interval=0) as bar:
        bar.update(2)
    assert out.getvalue().splitlines() == [out.getvalue().splitlines()[0]]
    assert out.getvalue().startswith("cv: 2 [")


def test_verbose_none_reads_config():
    out = io.StringIO()
    with sparsopt.config_context(verbose=1):
        with progress(1, "fit", use_tqdm=False, file=out, min_interval=0) as bar:
            bar.update(1)
    assert bar.backend == "plain" and out.getvalue()


def test_tqdm_bar_when_installed():
    pytest.importorskip("tqdm")
    out = io.StringIO()
    with progress(4, "fit", verbose=1, file=out) as bar:
        for _ in range(4):
            bar.update(1, objective=2.0)
    assert bar.backend == "tqdm"
    assert "4/4" in out.getvalue()


def test_bad_verbose_is_refused():
    with pytest.raises(ValueError, match="verbose"):
        progress(1, "fit", verbose=-1)


def test_fit_progress_feeds_the_bar_and_chains_the_user_callback():
    from sparsopt._core.progress import fit_progress
    from sparsopt._core.result import SolverState

    seen = []
    out = io.StringIO()
    with fit_progress(4, "est", verbose=1, user_callback=lambda s: seen.append(s.iteration),
                      use_tqdm=False, file=out, min_interval=0) as fp:
        for it in (1, 2, 3):
            fp.callback(SolverState(iteration=it, x=None, stop_crit=1.0, objective=0.5,
                                    elapsed=0.0))
        fp.finish(4)
    assert fp.solver_verbose == 0 and seen == [1, 2, 3]
    assert out.getvalue().splitlines()[-1].startswith("est: 4/4")
    with fit_progress(3, "est", verbose=0) as fp:
        assert fp.callback is None and fp.solver_verbose == 0
    with fit_progress(3, "est", verbose=2, use_tqdm=False, file=io.StringIO()) as fp:
        assert fp.solver_verbose == 1


def _long_fit_cases():
    import numpy as np

    from sparsopt.completion import MatrixCompletion
    from sparsopt.decomposition import (
        BinarySparseCoding,
        DictionaryLearning,
        GaussianSparseCoding,
        MiniBatchDictionaryLearning,
        OrthogonalDictionaryLearning,
        SupervisedDictionaryLearning,
    )
    from sparsopt.linear_model import ElasticNetCV, KroneckerSBL, LassoCV, SBLRegressor
    from sparsopt.ot import SinkhornTransport
    from sparsopt.pruning import SparseMLPClassifier
    from sparsopt.unfolding import UnfoldedISTA

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 6))
    y = X[:, 0] - 2 * X[:, 1] + 0.1 * rng.standard_normal(40)
    labels = (X[:, 0] > 0).astype(int)
    return [
        (lambda v: DictionaryLearning(3, max_iter=5, random_state=0, verbose=v), (X,)),
        (lambda v: MiniBatchDictionaryLearning(3, max_iter=2, batch_size=10, random_state=0,
                                               verbose=v), (X,)),
        (lambda v: OrthogonalDictionaryLearning(max_iter=5, random_state=0, verbose=v), (X,)),
        (lambda v: SupervisedDictionaryLearning(3, max_iter=5, random_state=0, verbose=v),
         (X, labels)),
        (lambda v: LassoCV(cv=3, n_alphas=5, verbose=v), (X, y)),
        (lambda v: ElasticNetCV(cv=3, n_alphas=5, verbose=v), (X, y)),
        (lambda v: SBLRegressor(max_iter=20, verbose=v), (X, y)),
        (lambda v: KroneckerSBL(max_iter=20, noise_variance=0.01, learn_noise=False,
                                verbose=v), (X, y)),
        (lambda v: SinkhornTransport(verbose=v), (X[:20], X[20:] + 1.0)),
        (lambda v: MatrixCompletion(2, max_iter=5, random_state=0, verbose=v), (X,)),
        (lambda v: UnfoldedISTA(X[:8].T, n_layers=2, max_iter=5, verbose=v), (X,)),
        (lambda v: BinarySparseCoding(4, n_preselect=3, max_active=2, n_iter=3,
                                      random_state=0, verbose=v), (X,)),
        (lambda v: GaussianSparseCoding(4, n_preselect=3, max_active=2, n_iter=3,
                                        random_state=0, verbose=v), (X,)),
        (lambda v: SparseMLPClassifier((4,), max_iter=3, random_state=0, verbose=v),
         (X, labels)),
    ]


@pytest.mark.parametrize("case", range(len(_long_fit_cases())))
def test_every_long_fit_estimator_shows_progress(case, capsys):
    import warnings

    make, args = _long_fit_cases()[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        make(0).fit(*args)
        quiet = capsys.readouterr()
        make(1).fit(*args)
        loud = capsys.readouterr()
    assert quiet.out == "" and quiet.err == ""
    assert (loud.out + loud.err).strip() != ""
