"""Shared set-up of the MLPPruner and sparse-soup tests: the spec's digits protocol (4.9).

``load_digits``, stratified 75/25 split (random_state=0), StandardScaler, a 64-256-128-10
scikit-learn ``MLPClassifier`` (ReLU, Adam lr 1e-3, alpha 1e-4, batch 64), one BLAS thread.
"""

import functools

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits


@functools.cache
def digits_split():
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y,
                                              random_state=0)
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), scaler.transform(X_te), y_tr, y_te


def digits_mlp(max_iter=60, **params):
    """The spec's dense network, unfitted."""
    return MLPClassifier(hidden_layer_sizes=(256, 128), batch_size=64, alpha=1e-4,
                         learning_rate_init=1e-3, max_iter=max_iter, random_state=0,
                         **params)


@functools.cache
def dense_digits_mlp():
    """The dense network trained on the digits split (one thread; cached per session)."""
    X_tr, _, y_tr, _ = digits_split()
    with threadpool_limits(1):
        return digits_mlp().fit(X_tr, y_tr)


def exact_density(masks, prunable=None):
    prunable = [True] * len(masks) if prunable is None else prunable
    kept = sum(int(np.count_nonzero(m)) for m, p in zip(masks, prunable) if p)
    return kept / sum(m.size for m, p in zip(masks, prunable) if p)
