import pytest


def pytest_collection_modifyitems(config, items):
    from sparsopt.backends import cupy_available

    if cupy_available():
        return
    skip = pytest.mark.skip(reason="needs CuPy and a CUDA device")
    for item in items:
        if item.get_closest_marker("gpu") is not None:  # the marker, not a folder named gpu
            item.add_marker(skip)
