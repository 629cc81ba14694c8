"""Collection rules for the whole checkout (``pytest --doctest-modules sparsopt tests``).

``sparsopt.dask`` is an optional extra: without Dask and distributed installed its modules
cannot be imported, so their doctests are not collected (``tests/dask`` skips on its own).
"""

import importlib.util

collect_ignore = []
if importlib.util.find_spec("dask") is None or importlib.util.find_spec("distributed") is None:
    collect_ignore.append("sparsopt/dask")
