"""Walsh-Hadamard transforms: the dense ``fwht`` and the sparse SPRIGHT.

:func:`fwht` / :func:`ifwht` transform along an axis in natural (Hadamard) order.
"""

from ._estimator import SparseWHT
from ._fwht import fwht, ifwht
from ._spright import SprightResult, spright
from ._walsh import pack_bits, unpack_bits, walsh_expansion, walsh_features

__all__ = ["fwht", "ifwht"]
__all__ += ["SparseWHT", "SprightResult", "pack_bits", "spright", "unpack_bits", "walsh_expansion",
            "walsh_features"]
