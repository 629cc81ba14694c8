"""scikit-learn style parameter protocol for small objects (penalties, losses)."""

from __future__ import annotations

import inspect

import numpy as np


class ParamsMixin:
    """``get_params``/``set_params``/``repr``/equality from the ``__init__`` signature.

    Subclasses store each constructor argument unchanged under its own name (so
    :func:`sklearn.base.clone` works) and implement ``_validate``, called by
    ``set_params`` after updating the attributes.
    """

    @classmethod
    def _get_param_names(cls):
        sig = inspect.signature(cls.__init__)
        return sorted(
            p.name
            for p in sig.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        )

    def get_params(self, deep=True):
        """Constructor parameters as a dict (scikit-learn protocol)."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params):
        """Set parameters, re-validate them and return ``self``."""
        valid = self._get_param_names()
        for key in params:
            if key not in valid:
                raise ValueError(
                    f"Invalid parameter {key!r} for {type(self).__name__}; valid: {valid}."
                )
        old = {key: getattr(self, key) for key in params}
        for key, value in params.items():
            setattr(self, key, value)
        try:
            self._validate()
        except (TypeError, ValueError):
            for key, value in old.items():  # leave the object as it was
                setattr(self, key, value)
            raise
        return self

    def _validate(self):
        """Check the parameters; subclasses raise ValueError/TypeError naming the parameter."""

    def __repr__(self):
        args = ", ".join(f"{k}={_short_repr(v)}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        a, b = self.get_params(), other.get_params()
        return all(_param_equal(a[k], b[k]) for k in a)

    __hash__ = object.__hash__


def _short_repr(v):
    if isinstance(v, np.ndarray):
        return f"array(shape={v.shape})" if v.size > 6 else np.array2string(v, separator=", ")
    return repr(v)


def _param_equal(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        try:
            return np.array_equal(np.asarray(a), np.asarray(b))
        except Exception:
            return False
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_param_equal(x, y) for x, y in zip(a, b))
    return a == b
