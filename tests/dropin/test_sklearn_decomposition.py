"""scikit-learn's own usage of the decomposition module runs unchanged on sparsopt.

Each test writes one usage pattern of scikit-learn's documentation (docstring examples,
the user guide's sparse coding and dictionary learning sections, the gallery's
"sparse coding with a precomputed dictionary" and "image denoising" scripts) once, as a
function of the module it is given, runs it with ``sklearn.decomposition`` and with
``sparsopt.decomposition``, and compares: the same codes for the deterministic coders
(omp, lars, threshold, lasso_lars, lasso_cd), an objective at least as good for the
iterative learners, the same shapes and attributes.
"""

import warnings

import numpy as np
import pytest
import sklearn.decomposition as skd
from sklearn.base import clone
from sklearn.datasets import make_sparse_coded_signal

import sparsopt.decomposition as spd
from tests._sklearn_compat import requires_sklearn_19

pytestmark = [requires_sklearn_19,
              pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")]

MODULES = pytest.mark.parametrize("mod", [skd, spd], ids=["sklearn", "sparsopt"])


def both(fn):
    """``fn(module)`` for scikit-learn and sparsopt."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(skd), fn(spd)


@pytest.fixture(scope="module")
def signals():
    # the docstring examples' data set
    X, dictionary, code = make_sparse_coded_signal(
        n_samples=30, n_components=15, n_features=20, n_nonzero_coefs=10, random_state=42)
    return X, dictionary, code


@pytest.fixture(scope="module")
def ricker():
    """The gallery's Ricker-wavelet dictionary (plot_sparse_coding), small."""
    resolution, width, n_components = 128, 30, 32
    centers = np.linspace(0, resolution - 1, n_components)
    t = np.arange(resolution)

    def wavelet(center):
        x = (t - center) / width
        w = 2 / (np.sqrt(3 * width) * np.pi ** 0.25) * (1 - x ** 2) * np.exp(-x ** 2 / 2)
        return w

    D = np.array([wavelet(c) for c in centers])
    D /= np.sqrt(np.sum(D ** 2, axis=1))[:, np.newaxis]
    y = np.linspace(0, resolution - 1, resolution)
    first = np.floor(resolution / 4).astype(int)
    y[:first] = 3.0
    y[first:] = -1.0
    return D, y


def l1_objective(X, code, D, alpha):
    return 0.5 * np.sum((X - code @ D) ** 2) + alpha * np.abs(code).sum()


# ----------------------------------------------------------------------------- SparseCoder
def test_sparse_coder_docstring_example():
    # sklearn.decomposition.SparseCoder's docstring, verbatim up to the import
    def run(mod):
        X = np.array([[-1, -1, -1], [0, 0, 3]])
        dictionary = np.array(
            [[0, 1, 0], [-1, -1, 2], [1, 1, 1], [0, 1, 1], [0, 2, 1]], dtype=np.float64)
        coder = mod.SparseCoder(dictionary=dictionary, transform_algorithm="lasso_lars",
                                transform_alpha=1e-10)
        return coder.transform(X)

    ref, ours = both(run)
    np.testing.assert_allclose(ours, ref, atol=1e-8)
    np.testing.assert_allclose(ours, [[0.0, 0.0, -1.0, 0.0, 0.0], [0.0, 1.0, 1.0, 0.0, 0.0]],
                               atol=1e-8)


@pytest.mark.parametrize("algorithm,kw", [
    ("omp", {"transform_n_nonzero_coefs": 2}),
    ("omp", {}),  # scikit-learn's default sparsity
    ("lars", {"transform_n_nonzero_coefs": 3}),
    ("threshold", {"transform_alpha": 0.1}),
    ("lasso_lars", {"transform_alpha": 0.05}),
    ("lasso_cd", {"transform_alpha": 0.05, "transform_max_iter": 5000}),
])
def test_sparse_coder_gallery_algorithms(ricker, algorithm, kw):
    # plot_sparse_coding: one coder per algorithm, transform without fit
    D, y = ricker

    def run(mod):
        coder = mod.SparseCoder(dictionary=D, transform_algorithm=algorithm, **kw)
        x = coder.transform(y.reshape(1, -1))
        return x, np.ravel(np.dot(x, D))

    (ref, ref_y), (ours, ours_y) = both(run)
    atol = 1e-6 if algorithm == "lasso_cd" else 1e-8
    # 12 of 32 overlapping wavelets (omp's default sparsity): an ill-conditioned least
    # squares problem, whose huge codes agree to a relative 1e-4 only
    rtol = 1e-3 if kw == {} else 1e-7
    np.testing.assert_allclose(ours, ref, atol=atol, rtol=rtol)
    np.testing.assert_allclose(ours_y, ref_y, atol=max(atol, 1e-6), rtol=rtol)


def test_sparse_coder_default_and_split_sign_pipeline(signals):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    X, D, _ = signals
    y = (X[:, 0] > 0).astype(int)

    def run(mod):
        default = mod.SparseCoder(D).fit(X).transform(X)  # default: omp
        pipe = make_pipeline(mod.SparseCoder(D, split_sign=True), LogisticRegression())
        pipe.fit(X, y)
        coder = pipe[0]
        split = coder.transform(X)
        return default, split, coder.inverse_transform(split), coder.n_features_in_, \
            coder.n_components_, coder.__sklearn_tags__().requires_fit, \
            clone(coder).get_params()["split_sign"], coder.get_feature_names_out().shape

    ref, ours = both(run)
    for a, b in zip(ref[:3], ours[:3]):
        np.testing.assert_allclose(b, a, atol=1e-10)
    assert ref[3:7] == ours[3:7]
    # intended difference: one output name per column (scikit-learn names n_components)
    assert ours[7] == (30,) and ref[7] == (15,)


def test_sparse_coder_positive_code(signals):
    X, D, _ = signals

    def run(mod):
        return mod.SparseCoder(D, transform_algorithm="lasso_cd", transform_alpha=0.1,
                               positive_code=True, transform_max_iter=5000).transform(X)

    ref, ours = both(run)
    assert ours.min() >= 0
    assert l1_objective(X, ours, D, 0.1) <= l1_objective(X, ref, D, 0.1) * (1 + 1e-7)
    with pytest.raises(ValueError, match="[Pp]ositive"):
        spd.SparseCoder(D, transform_algorithm="omp", positive_code=True).transform(X)


# ----------------------------------------------------------------------------- sparse_encode
@pytest.mark.parametrize("kw", [
    {},  # lasso_lars, alpha=1
    {"algorithm": "lasso_lars", "alpha": 0.1},
    {"algorithm": "lasso_cd", "alpha": 0.1, "max_iter": 10000},
    {"algorithm": "omp", "n_nonzero_coefs": 3},
    {"algorithm": "omp"},
    {"algorithm": "lars", "n_nonzero_coefs": 4},
    {"algorithm": "threshold", "alpha": 0.2},
    {"algorithm": "threshold", "alpha": 0.2, "positive": True},
    {"algorithm": "lasso_cd", "alpha": 0.1, "positive": True, "max_iter": 10000},
])
def test_sparse_encode_algorithms(signals, kw):
    X, D, _ = signals
    ref, ours = both(lambda mod: mod.sparse_encode(X, D, **kw))
    assert ours.shape == ref.shape == (30, 15)
    np.testing.assert_allclose(ours, ref, atol=1e-6)


def test_sparse_encode_docstring_and_precomputed(signals):
    # sparse_encode's docstring example, then gram/cov/init as scikit-learn passes them
    X0 = np.array([[-1, -1, -1], [0, 0, 3]])
    D0 = np.array([[0, 1, 0], [-1, -1, 2], [1, 1, 1], [0, 1, 1], [0, 2, 1]],
                  dtype=np.float64)
    ref, ours = both(lambda mod: mod.sparse_encode(X0, D0, alpha=1e-10))
    np.testing.assert_allclose(ours, ref, atol=1e-8)
    X, D, _ = signals
    gram, cov = D @ D.T, D @ X.T

    def run(mod):
        return (mod.sparse_encode(X, D, gram=gram, cov=cov, algorithm="lars",
                                  n_nonzero_coefs=3, copy_cov=False, check_input=False),
                mod.sparse_encode(X, D, gram=gram, cov=cov, algorithm="threshold",
                                  alpha=0.3),
                mod.sparse_encode(X, D, algorithm="lasso_cd", alpha=0.1,
                                  init=np.zeros((30, 15)), max_iter=10000, n_jobs=1,
                                  verbose=0))

    ref, ours = both(run)
    for a, b in zip(ref, ours):
        np.testing.assert_allclose(b, a, atol=1e-6)


# ----------------------------------------------------------------------------- learners
def test_dict_learning_docstring_example(signals):
    X = signals[0]

    def run(mod):
        U, V, errors = mod.dict_learning(X, n_components=15, alpha=0.1, random_state=42)
        U2, V2, errors2, n_iter = mod.dict_learning(X, 15, alpha=0.1, random_state=42,
                                                    max_iter=10, return_n_iter=True,
                                                    method="cd", method_max_iter=500)
        return U, V, errors, U2.shape, V2.shape, len(errors2), n_iter

    ref, ours = both(run)
    assert ref[0].shape == ours[0].shape and ref[1].shape == ours[1].shape
    assert ours[2][-1] <= ref[2][-1] * (1 + 1e-6)
    assert l1_objective(X, ours[0], ours[1], 0.1) <= \
        l1_objective(X, ref[0], ref[1], 0.1) * (1 + 1e-6)
    assert ref[3:] == ours[3:]


def test_dictionary_learning_docstring_example(signals):
    X = signals[0]

    def run(mod):
        dict_learner = mod.DictionaryLearning(
            n_components=15, transform_algorithm="lasso_lars", transform_alpha=0.1,
            random_state=42)
        X_transformed = dict_learner.fit(X).transform(X)
        codes = dict_learner.fit_transform(X)
        return (X_transformed, dict_learner.components_, codes, dict_learner.error_,
                dict_learner.n_iter_, dict_learner.n_features_in_)

    ref, ours = both(run)
    assert ours[0].shape == ref[0].shape == (30, 15)
    assert ours[1].shape == ref[1].shape == (15, 20)
    assert ours[2].shape == ref[2].shape
    # the learned model is at least as good (DictionaryLearning's alpha is 1)
    assert l1_objective(X, ours[2], ours[1], 1.0) <= \
        l1_objective(X, ref[2], ref[1], 1.0) * (1 + 1e-6)
    assert ours[3][-1] <= ref[3][-1] * (1 + 1e-6)
    assert ours[5] == ref[5] == 20
    # the docstring's sparsity and reconstruction figures
    assert np.mean(ours[0] == 0) > 0.5
    err = np.mean(np.sum((ours[0] @ ours[1] - X) ** 2, axis=1) / np.sum(X ** 2, axis=1))
    assert err < 0.1


@pytest.mark.parametrize("fit_algorithm", ["lars", "cd"])
def test_dictionary_learning_same_model_from_the_same_start(signals, fit_algorithm):
    X = signals[0]
    D0 = X[:8].copy()
    C0 = np.zeros((30, 8))  # scikit-learn uses dict_init only together with code_init

    def run(mod):
        est = mod.DictionaryLearning(8, alpha=0.5, max_iter=20, tol=1e-10,
                                     fit_algorithm=fit_algorithm, dict_init=D0,
                                     code_init=C0,
                                     transform_algorithm="omp",
                                     transform_n_nonzero_coefs=2, random_state=0)
        code = est.fit_transform(X)
        return code, est.components_, est.transform(X)

    ref, ours = both(run)
    assert l1_objective(X, ours[0], ours[1], 0.5) <= \
        l1_objective(X, ref[0], ref[1], 0.5) * (1 + 1e-5)
    np.testing.assert_allclose(ours[1], ref[1], atol=1e-4)
    assert np.all(np.count_nonzero(ours[2], axis=1) <= 2)


def test_minibatch_docstring_example(signals):
    X = signals[0]

    def run(mod):
        dict_learner = mod.MiniBatchDictionaryLearning(
            n_components=15, batch_size=3, transform_algorithm="lasso_lars",
            transform_alpha=0.1, max_iter=20, random_state=42)
        X_transformed = dict_learner.fit_transform(X)
        return (X_transformed, dict_learner.components_, dict_learner.n_steps_,
                dict_learner.n_iter_, dict_learner.n_features_in_)

    ref, ours = both(run)
    assert ours[0].shape == ref[0].shape == (30, 15)
    assert ours[1].shape == ref[1].shape == (15, 20)
    assert ours[4] == ref[4] and ours[2] > 0 and ours[3] >= 1
    # an online model: compare the l1 objective of the transform codes loosely
    f_ours = l1_objective(X, ours[0], ours[1], 0.1)
    f_ref = l1_objective(X, ref[0], ref[1], 0.1)
    assert f_ours <= f_ref * 1.25


def test_minibatch_denoising_gallery_pattern():
    # plot_image_denoising: fit on patches, then transform with several algorithms
    rng = np.random.RandomState(0)
    data = rng.normal(size=(200, 16))
    data -= np.mean(data, axis=0)
    data /= np.std(data, axis=0)
    D0 = data[:12].copy()

    def run(mod):
        dico = mod.MiniBatchDictionaryLearning(
            n_components=12, batch_size=20, alpha=1.0, max_iter=2, dict_init=D0,
            shuffle=False, random_state=0, tol=0, max_no_improvement=None)
        V = dico.fit(data).components_
        out = [V]
        for algo, kw in [("omp", {"transform_n_nonzero_coefs": 1}),
                         ("omp", {"transform_n_nonzero_coefs": 2}),
                         ("lars", {"transform_n_nonzero_coefs": 5}),
                         ("threshold", {"transform_alpha": 0.1})]:
            dico.set_params(transform_algorithm=algo, **kw)
            code = dico.transform(data[:20])
            out.append(code @ V)
        return out

    ref, ours = both(run)
    np.testing.assert_allclose(ours[0], ref[0], atol=1e-8)
    for a, b in zip(ref[1:], ours[1:]):
        np.testing.assert_allclose(b, a, atol=1e-6)


def test_minibatch_partial_fit_pattern(signals):
    X = signals[0]

    def run(mod):
        est = mod.MiniBatchDictionaryLearning(n_components=6, batch_size=10, alpha=0.5,
                                              random_state=0, dict_init=X[:6].copy())
        for chunk in np.array_split(X, 3):
            est.partial_fit(chunk)
        return est.components_, est.n_steps_

    ref, ours = both(run)
    np.testing.assert_allclose(ours[0], ref[0], atol=1e-8)
    assert ours[1] == ref[1] == 3


def test_dict_learning_online_docstring_example(signals):
    X = signals[0]

    def run(mod):
        U, V = mod.dict_learning_online(X, n_components=15, alpha=0.2, max_iter=20,
                                        batch_size=3, random_state=42)
        V2 = mod.dict_learning_online(X, return_code=False, method="cd",
                                      method_max_iter=500, max_iter=2, random_state=0)
        return U, V, V2.shape

    ref, ours = both(run)
    assert ours[0].shape == ref[0].shape == (30, 15)
    assert ours[1].shape == ref[1].shape == (15, 20)
    assert ours[2] == ref[2] == (2, 20)  # n_components defaults to 2, as scikit-learn
    f_ours = l1_objective(X, ours[0], ours[1], 0.2)
    f_ref = l1_objective(X, ref[0], ref[1], 0.2)
    assert f_ours <= f_ref * 1.25


@MODULES
def test_verbose_shows_progress(mod, signals, capsys):
    # scikit-learn prints its own lines; sparsopt a progress bar (tqdm) or plain lines
    X = signals[0]
    mod.DictionaryLearning(4, max_iter=3, verbose=True, random_state=0).fit(X)
    mod.MiniBatchDictionaryLearning(4, max_iter=1, batch_size=10, verbose=True,
                                    random_state=0).fit(X)
    out = capsys.readouterr()
    assert (out.out + out.err).strip()


@MODULES
def test_get_params_round_trip(mod, signals):
    # every scikit-learn parameter name exists in sparsopt's estimators
    for name in ("SparseCoder", "DictionaryLearning", "MiniBatchDictionaryLearning"):
        args = (signals[1],) if name == "SparseCoder" else ()
        sk_names = set(getattr(skd, name)(*args).get_params())
        assert sk_names <= set(getattr(mod, name)(*args).get_params())
