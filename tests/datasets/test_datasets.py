import numpy as np
import pytest

from sparsopt.datasets import (
    generators,
    images,
    load_image_patches,
    make_sparse_coding_problem,
    make_sparse_signal,
)


def test_sparse_signal_properties():
    A, y, x = make_sparse_signal(30, 80, 7, noise=0.0, random_state=3)
    assert A.shape == (30, 80) and y.shape == (30,) and np.count_nonzero(x) == 7
    np.testing.assert_allclose(np.linalg.norm(A, axis=0), 1.0)
    np.testing.assert_allclose(y, A @ x)
    assert np.all(np.abs(x[x != 0]) >= 1.0)
    A2, y2, x2 = make_sparse_signal(30, 80, 7, noise=0.0, random_state=3)
    np.testing.assert_array_equal(y, y2)


def test_sparse_signal_dtype_and_errors():
    A, y, x = make_sparse_signal(5, 6, 2, dtype=np.float32, random_state=0)
    assert A.dtype == y.dtype == x.dtype == np.float32
    with pytest.raises(ValueError, match="n_nonzero"):
        make_sparse_signal(5, 6, 7)
    with pytest.raises(ValueError, match="noise"):
        make_sparse_signal(5, 6, 2, noise=-1.0)
    with pytest.raises(TypeError, match="n_samples"):
        make_sparse_signal(5.5, 6, 2)


def test_sparse_coding_problem_follows_spec_generator():
    X, D, C = make_sparse_coding_problem(500, 64, 256, 8, noise=0.1, random_state=0)
    assert X.shape == (500, 64) and D.shape == (256, 64) and C.shape == (500, 256)
    np.testing.assert_allclose(np.linalg.norm(D, axis=1), 1.0)
    assert np.all(np.count_nonzero(C, axis=1) == 8)
    clean = C @ D
    snr_noise = np.std(X - clean) / np.std(clean)
    assert 0.09 < snr_noise < 0.11


def test_image_patches():
    P, img = load_image_patches("flower", (6, 5), n_patches=50, return_image=True)
    assert P.shape == (50, 30) and img.ndim == 2
    np.testing.assert_allclose(P.mean(axis=1), 0.0, atol=1e-12)
    assert 0.0 <= img.min() and img.max() <= 1.0
    with pytest.raises(ValueError, match="image must be one of"):
        load_image_patches("lena")


def test_public_names_come_from_their_modules():
    assert make_sparse_signal is generators.make_sparse_signal
    assert make_sparse_coding_problem is generators.make_sparse_coding_problem
    assert load_image_patches is images.load_image_patches
