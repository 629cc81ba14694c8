"""What the tests need to know about scikit-learn's releases, in one place.

The suite runs at the newest scikit-learn and at the declared floor (``scikit-learn>=1.6``,
``bash scripts/test.sh --floors``). sparsopt itself uses only APIs that are the same across
that range; the tests also call scikit-learn's *reference* estimators and estimator checks,
whose spelling or behaviour changed within it. Each difference is written here once.
"""

from __future__ import annotations

import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.utils.fixes import parse_version

SKLEARN_VERSION = parse_version(parse_version(sklearn.__version__).base_version)


def sk_l1_logistic(C, **kw):
    """scikit-learn's l1-penalised ``LogisticRegression``.

    scikit-learn 1.8 deprecated ``penalty`` for ``l1_ratio=1.0``; before 1.8 ``l1_ratio`` is
    ignored unless ``penalty="elasticnet"`` (an l2 fit with a warning), so ``penalty="l1"``.
    """
    if SKLEARN_VERSION >= parse_version("1.8"):
        return LogisticRegression(l1_ratio=1.0, C=C, **kw)
    return LogisticRegression(penalty="l1", C=C, **kw)


def sk_n_alphas(n):
    """The keyword of scikit-learn's ``LassoCV``/``ElasticNetCV`` for a grid of ``n`` alphas:
    ``alphas=n`` since 1.7 (``n_alphas`` deprecated), ``n_alphas=n`` before."""
    if SKLEARN_VERSION >= parse_version("1.7"):
        return {"alphas": n}
    return {"n_alphas": n}


#: checks that scikit-learn < 1.7 gets wrong for binary-only classifiers: it binarises the
#: target after shuffling the weighted copy, taking its *first* label as the negative class,
#: so the weighted and the repeated fits see different labels (scikit-learn PR 30775)
_BINARY_SAMPLE_WEIGHT_CHECKS = ("check_sample_weight_equivalence_on_dense_data",
                                "check_sample_weight_equivalence_on_sparse_data")


def expected_failed_checks(estimator):
    """``expected_failed_checks`` for scikit-learn's estimator checks: a dict
    ``{check name: reason}``, empty on the releases whose checks are right."""
    from sklearn.utils import get_tags

    if SKLEARN_VERSION >= parse_version("1.7"):
        return {}
    tags = get_tags(estimator)
    if tags.classifier_tags is not None and not tags.classifier_tags.multi_class:
        reason = ("scikit-learn < 1.7 binarises y inconsistently in this check "
                  "(scikit-learn PR 30775)")
        return dict.fromkeys(_BINARY_SAMPLE_WEIGHT_CHECKS, reason)
    return {}


#: the drop-in tests run scikit-learn 1.9 code (its docstring and gallery snippets) with
#: the import swapped: older releases spell or compute some of it differently (``alphas=``
#: ints, ``l1_ratio`` alone, ``sparse_encode``'s coordinate descent), so their reference
#: side cannot run it; sparsopt's side is tested at every release by the other modules
requires_sklearn_19 = None


def _requires_sklearn_19():
    import pytest

    return pytest.mark.skipif(
        SKLEARN_VERSION < parse_version("1.9"),
        reason="scikit-learn 1.9 snippets: the reference side needs scikit-learn >= 1.9")


requires_sklearn_19 = _requires_sklearn_19()
