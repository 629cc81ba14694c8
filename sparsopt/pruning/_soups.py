"""Sparse model soups: average pruned networks that share one mask (spec 4.6).

Networks pruned to the same mask and retrained from the same starting point with different
batch orders or learning rates can be averaged weight by weight: the average keeps the
shared mask, hence exactly the same sparsity, and is often as good as or better than the
ingredients (Zimmer, Spiegel and Pokutta, ICLR 2024).
"""

from __future__ import annotations

import copy

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["sparse_soup"]


def _parts(est):
    """``(holder, coefs, intercepts, masks)`` of a fitted pruned network.

    ``holder`` is the object whose ``coefs_``/``intercepts_`` hold the weights: the
    estimator itself, or ``estimator_`` for an :class:`~sparsopt.pruning.MLPPruner`.
    ``masks`` are the estimator's ``masks_`` when it has them, else the nonzero pattern.
    """
    if not hasattr(est, "fit"):
        raise TypeError(f"estimators must be fitted estimators, got {type(est).__name__}.")
    check_is_fitted(est)
    holder = est.estimator_ if hasattr(est, "estimator_") and hasattr(
        est.estimator_, "coefs_") else est
    if not hasattr(holder, "coefs_") or not hasattr(holder, "intercepts_"):
        raise TypeError(
            "estimators must be fitted MLPs with coefs_ and intercepts_ (MLPPruner, "
            f"SparseMLPClassifier/Regressor, MLPClassifier/MLPRegressor), got "
            f"{type(est).__name__}.")
    masks = getattr(est, "masks_", None)
    if masks is None:
        masks = [c != 0 for c in holder.coefs_]
    return holder, holder.coefs_, holder.intercepts_, [np.asarray(m, bool) for m in masks]


def _average(target, members):
    """Write the uniform average of ``members``' (coefs, intercepts) into ``target``'s
    arrays, in place, then re-zero the pruned weights."""
    holder, coefs, intercepts, masks = target
    for layer in range(len(coefs)):
        coefs[layer][...] = np.mean([m[1][layer] for m in members], axis=0)
        coefs[layer][~masks[layer]] = 0
        intercepts[layer][...] = np.mean([m[2][layer] for m in members], axis=0)


def _new_soup(template):
    """A deep copy of ``template`` (the first ingredient) to hold the soup's weights, with
    its optimizer state dropped (a later ``partial_fit`` starts a fresh optimizer)."""
    soup = copy.deepcopy(template)
    holder = _parts(soup)[0]
    for obj in {id(soup): soup, id(holder): holder}.values():
        if hasattr(obj, "_optimizer"):  # scikit-learn's MLP: recreated by partial_fit
            del obj._optimizer
    engine = getattr(holder, "_engine", None)  # SparseMLP*: reset its optimizer's state
    if engine is not None and hasattr(getattr(engine, "optimizer", None), "reset"):
        engine.optimizer.reset(list(engine.coefs) + list(engine.intercepts))
    return soup


def _sync_engine(holder):
    """SparseMLP*: its training engine keeps the weights a later ``partial_fit`` continues
    from; they are the published ``coefs_`` arrays themselves except under SR-STE (a dense
    shadow), where the soup's averaged weights are copied in."""
    engine = getattr(holder, "_engine", None)
    if engine is None:
        return
    for dst, src in zip(list(engine.coefs) + list(engine.intercepts),
                        list(holder.coefs_) + list(holder.intercepts_)):
        if dst is not src:
            dst[...] = src


def sparse_soup(estimators, *, method="uniform", X_val=None, y_val=None,
                return_ingredients=False):
    """Average fitted sparse networks that share one mask (a sparse model soup).

    Parameters
    ----------
    estimators : list of fitted estimators
        The ingredients, all of one type: :class:`~sparsopt.pruning.MLPPruner`,
        ``SparseMLPClassifier``/``SparseMLPRegressor`` or scikit-learn MLPs pruned by one
        (their mask is then their nonzero pattern). They must have the same architecture,
        the same classes and the same masks.
    method : {"uniform", "greedy"}, default="uniform"
        ``"uniform"`` averages all ingredients. ``"greedy"`` ranks them by their score on
        ``(X_val, y_val)`` and adds each, best first, only if the soup's validation score
        does not drop (Wortsman et al.'s greedy soup).
    X_val : array-like of shape (n_samples, n_features), default=None
        Validation data; required by ``method="greedy"``.
    y_val : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
        Validation targets; required by ``method="greedy"``.
    return_ingredients : bool, default=False
        Also return the indices of the ingredients in the soup.

    Returns
    -------
    soup : estimator
        A new fitted estimator of the ingredients' type whose weights are the average of
        the chosen ingredients' weights and biases, with the shared mask (exact zeros
        elsewhere, so exactly the ingredients' density). Its optimizer state is dropped.
    ingredients : list of int
        Indices (into ``estimators``) of the averaged ingredients; only when
        ``return_ingredients=True``.

    Raises
    ------
    ValueError
        When ``estimators`` is empty, mixes types, architectures or classes, or when the
        masks differ; when ``method`` is unknown or ``"greedy"`` lacks validation data.

    References
    ----------
    .. [1] M. Zimmer, C. Spiegel and S. Pokutta, "Sparse Model Soups: A Recipe for Improved
       Pruning via Model Averaging", ICLR 2024.
    .. [2] M. Wortsman et al., "Model soups: averaging weights of multiple fine-tuned models
       improves accuracy without increasing inference time", ICML 2022.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.neural_network import MLPClassifier
    >>> from sparsopt.pruning import MLPPruner, sparse_soup
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16.0
    >>> dense = MLPClassifier(hidden_layer_sizes=(64,), max_iter=30, random_state=0).fit(X, y)
    >>> pruned = MLPPruner(dense, density=0.3, refit_estimator=False, finetune_epochs=0,
    ...                    random_state=0).fit(X, y)
    >>> ingredients = [MLPPruner(pruned.estimator_, density=0.3, refit_estimator=False,
    ...                          finetune_epochs=2, random_state=seed).fit(X, y)
    ...                for seed in range(3)]
    >>> soup = sparse_soup(ingredients)
    >>> round(soup.density_, 3), soup.score(X, y) > 0.9
    (0.3, True)
    """
    if method not in ("uniform", "greedy"):
        raise ValueError(f"method must be 'uniform' or 'greedy', got {method!r}.")
    estimators = list(estimators)
    if not estimators:
        raise ValueError("estimators must hold at least one fitted estimator.")
    kinds = {type(e) for e in estimators}
    if len(kinds) > 1:
        raise ValueError("estimators must all be of one type, got "
                         f"{sorted(k.__name__ for k in kinds)}.")
    parts = [_parts(e) for e in estimators]
    ref = parts[0]
    ref_classes = getattr(estimators[0], "classes_", None)
    for i, p in enumerate(parts[1:], start=1):
        shapes = [c.shape for c in p[1]] + [b.shape for b in p[2]]
        if shapes != [c.shape for c in ref[1]] + [b.shape for b in ref[2]]:
            raise ValueError(f"estimators[{i}] has another architecture than estimators[0].")
        if ref_classes is not None and not np.array_equal(estimators[i].classes_,
                                                          ref_classes):
            raise ValueError(f"estimators[{i}] has other classes_ than estimators[0].")
        if not all(np.array_equal(a, b) for a, b in zip(p[3], ref[3])):
            raise ValueError(
                f"estimators[{i}] has another mask than estimators[0]: a soup averages "
                "networks that share one mask (retrain copies of one pruned network).")

    if method == "uniform":
        chosen = list(range(len(estimators)))
    else:
        if X_val is None or y_val is None:
            raise ValueError("method='greedy' needs X_val and y_val (validation data).")
        scores = [e.score(X_val, y_val) for e in estimators]
        ranked = sorted(range(len(estimators)), key=lambda i: -scores[i])
        chosen = [ranked[0]]
        best = scores[ranked[0]]
        trial = _new_soup(estimators[0])
        trial_parts = _parts(trial)
        for i in ranked[1:]:
            _average(trial_parts, [parts[j] for j in chosen + [i]])
            score = trial.score(X_val, y_val)
            if score >= best:
                chosen.append(i)
                best = score
    soup = _new_soup(estimators[0])
    soup_parts = _parts(soup)
    _average(soup_parts, [parts[j] for j in chosen])
    _sync_engine(soup_parts[0])
    shadow = getattr(soup, "_shadow", None)  # MLPPruner under SR-STE: its dense weights
    if shadow is not None:
        for dst, src in zip(shadow, soup_parts[1]):
            dst[...] = src
    return (soup, sorted(chosen)) if return_ingredients else soup
