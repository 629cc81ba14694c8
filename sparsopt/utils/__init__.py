"""Utilities: validation, estimator helpers, linear algebra.

Attributes are loaded lazily so that ``import sparsopt`` does not import
scikit-learn (estimator helpers need it, penalties and kernels do not).
"""

import importlib

_LAZY = {
    "FLOAT_DTYPES": "validation",
    "check_array": "validation",
    "check_int": "validation",
    "check_scalar": "validation",
    "spectral_norm_sq": "linalg",
    "SparsoptEstimatorMixin": "estimator",
    "check_is_fitted": "estimator",
    "penalty_constraint": "estimator",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return __all__
