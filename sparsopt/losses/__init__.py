"""Data-fit terms ``loss(y, z)`` of a linear prediction ``z = A x``.

Each loss has ``value(y, z)`` (a sum over samples), ``grad(y, z)`` (gradient with
respect to ``z``), ``lipschitz`` (curvature bound of one sample's loss in ``z``)
and :meth:`Loss.lipschitz_constant` for the composite ``x -> loss(y, A x)``.
"""

from ._base import Loss
from .glm import Huber, Logistic, Multinomial, Squared, get_loss

__all__ = ["Huber", "Logistic", "Loss", "Multinomial", "Squared", "get_loss"]
