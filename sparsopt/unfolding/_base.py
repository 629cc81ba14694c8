"""The contract every unfolded model follows (DU-ISTA/IHT and the LISTA family).

A model is a small picklable object with no fitted state; its trainable parameters
live in a ``dict`` of arrays (per-layer arrays carry a leading ``n_layers`` axis), so
the optimiser (``_train.py``) and the estimators treat every variant alike.

Rows are samples: ``Y`` has shape ``(n_samples, n_measurements)``, codes ``X`` have
shape ``(n_samples, n_atoms)``, the operator ``A`` has shape
``(n_measurements, n_atoms)``, and products are written ``(Y - X A^T) A``.
"""

from __future__ import annotations


class UnfoldedModel:
    """Interface of an unfolded model (see the module docstring).

    Subclasses implement:

    ``init_params(A, n_layers, *, lam, dtype) -> dict``
        Initial parameters (the spec's initialisation).
    ``forward(params, A, Y, *, n_layers=None, cache=False) -> (xs, cache)``
        ``xs`` is the list of layer outputs ``[x_0, x_1, ..., x_T]`` (``x_0 = 0``), with
        ``T = n_layers`` (default: all layers); ``cache`` holds what ``backward`` needs
        (``None`` when ``cache=False``).
    ``backward(params, A, Y, cache, G_T, *, n_layers=None) -> dict``
        Gradients of the loss with respect to every entry of ``params`` (same keys and
        shapes; zeros for layers beyond ``n_layers``), given ``G_T = dL/dx_T``.
    ``project(params) -> None``
        Projects the parameters onto their constraints in place (steps and thresholds
        ``>= 0``, caps).
    ``objective_penalty``
        ``"l1"`` or ``"l0"``: the penalty of the model's original objective (F1 or F0)
        used by ``loss="unsupervised"``.
    """

    objective_penalty = "l1"

    def init_params(self, A, n_layers, *, lam, dtype):
        raise NotImplementedError

    def forward(self, params, A, Y, *, n_layers=None, cache=False):
        raise NotImplementedError

    def backward(self, params, A, Y, cache, G_T, *, n_layers=None):
        raise NotImplementedError

    def project(self, params):
        """Default: nothing to project."""
