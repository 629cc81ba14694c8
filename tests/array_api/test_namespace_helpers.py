"""The shared namespace helpers of sparsopt.backends: non_numpy_namespace, require_host,
host_only_error (one version for every family's host-only checks)."""

import numpy as np
import pytest
import scipy.sparse as sp

from sparsopt.backends import host_only_error, non_numpy_namespace, require_host
from tests._array_api import NAMESPACES, namespace, to_xp


def test_numpy_and_host_data_take_the_numpy_road():
    assert non_numpy_namespace() is None
    assert non_numpy_namespace(np.ones(2), None, 3.0, [1.0, 2.0]) is None
    assert non_numpy_namespace(np.float32(1.0), sp.eye(3, format="csr")) is None
    require_host("f", np.ones(2), [np.ones(3), np.ones(1)], None)  # no error


@pytest.mark.parametrize("xp_name", NAMESPACES)
def test_non_numpy_namespace(xp_name):
    xp, dev = namespace(xp_name)
    a = to_xp(np.ones(3), xp, dev)
    found = non_numpy_namespace(a, None, 2.0, [1.0])
    assert found is not None and found.__name__.endswith(xp_name)
    # a NumPy array next to it is a mixed call unless host parameters are allowed
    with pytest.raises(TypeError, match="different libraries"):
        non_numpy_namespace(a, np.ones(3))
    assert non_numpy_namespace(a, np.ones(3), allow_host=True) is found
    # lists are not looked into by non_numpy_namespace
    assert non_numpy_namespace([a]) is None


@pytest.mark.parametrize("xp_name", NAMESPACES)
def test_require_host_message(xp_name):
    xp, dev = namespace(xp_name)
    a = to_xp(np.ones(3), xp, dev)
    with pytest.raises(TypeError, match=r"^my_fn runs on NumPy arrays only \(host code\), got "
                       rf"{xp_name} arrays; convert them first \(sparsopt\.backends\.to_numpy, "
                       r"cupy\.asnumpy\), or use other_fn\.$"):
        require_host("my_fn", [1.0, 2.0], None, [a], reason="host code",
                     alternative="use other_fn")
    err = host_only_error("g: solver='x'", xp)
    assert isinstance(err, TypeError)
    assert str(err) == (f"g: solver='x' runs on NumPy arrays only, got {xp_name} arrays; "
                        "convert them first (sparsopt.backends.to_numpy, cupy.asnumpy).")
