"""Learned (unfolded) ISTA and IHT, and the LISTA family, trained with hand-derived gradients."""

from ._du import DUIHT, DUISTA
from ._estimators import LIHT, LISTA, UnfoldedIHT, UnfoldedISTA
from ._lista import LIHTModel, LISTAModel, alista_weight
from ._losses import loss_and_grad, nmse_db, objective
from ._train import Adam, train_unfolded

__all__ = [
    "Adam",
    "DUIHT",
    "DUISTA",
    "LIHT",
    "LIHTModel",
    "LISTA",
    "LISTAModel",
    "UnfoldedIHT",
    "UnfoldedISTA",
    "alista_weight",
    "loss_and_grad",
    "nmse_db",
    "objective",
    "train_unfolded",
]
