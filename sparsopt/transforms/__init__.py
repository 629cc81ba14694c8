"""Walsh-Hadamard transforms: the dense ``fwht`` and the sparse SPRIGHT.

:func:`fwht` / :func:`ifwht` transform along an axis in natural (Hadamard) order.
"""

from ._fwht import fwht, ifwht

__all__ = ["fwht", "ifwht"]
