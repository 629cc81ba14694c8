"""Learned (unfolded) ISTA and IHT, and the LISTA family, trained with hand-derived gradients."""

from ._du import DUIHT, DUISTA
from ._estimators import UnfoldedIHT, UnfoldedISTA
from ._losses import loss_and_grad, nmse_db, objective
from ._train import Adam, train_unfolded

__all__ = [
    "Adam",
    "DUIHT",
    "DUISTA",
    "UnfoldedIHT",
    "UnfoldedISTA",
    "loss_and_grad",
    "nmse_db",
    "objective",
    "train_unfolded",
]

# the LISTA estimators need the LISTA models (``_lista.py``, the other half of the family)
try:
    from . import _lista  # noqa: F401
except ImportError:  # pragma: no cover - before the two halves are merged
    pass
else:
    from ._estimators import LIHT, LISTA

    __all__ += ["LIHT", "LISTA"]
