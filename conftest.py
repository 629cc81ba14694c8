"""Collection rules for the whole checkout (``pytest --doctest-modules sparsopt tests``).

``sparsopt.dask`` is an optional extra: without Dask and distributed installed its modules
cannot be imported, so their doctests are not collected (``tests/dask`` skips on its own).

``SCIPY_ARRAY_API=1`` is set before anything imports SciPy: scikit-learn's
``array_api_dispatch`` (used by ``tests/array_api`` and by scikit-learn's own array API
estimator checks in ``tests/test_common.py``) refuses to run without it. The whole suite
passes with it set (checked when it was introduced).
"""

import importlib.util
import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")

collect_ignore = []
if importlib.util.find_spec("dask") is None or importlib.util.find_spec("distributed") is None:
    collect_ignore.append("sparsopt/dask")
