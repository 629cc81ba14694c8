"""Report versions of sparsopt, its dependencies, backends and devices."""

from __future__ import annotations

import importlib
import platform
import sys


def _version(mod):
    try:
        return importlib.import_module(mod).__version__
    except Exception:
        return None


def show_versions(file=None):
    """Print (and return) versions, backends and devices; paste this in bug reports.

    Parameters
    ----------
    file : file-like, default=None
        Where to print (``sys.stdout`` by default).

    Returns
    -------
    report : dict

    Examples
    --------
    >>> import io, sparsopt
    >>> report = sparsopt.show_versions(file=io.StringIO())
    >>> report["backends"]["numpy"]["available"]
    True
    """
    from . import __version__
    from ._config import get_config
    from .backends import backend_info

    report = {
        "sparsopt": __version__,
        "python": sys.version.replace("\n", " "),
        "platform": platform.platform(),
        "dependencies": {
            m: _version(m)
            for m in ("numpy", "scipy", "numba", "sklearn", "cupy", "dask", "threadpoolctl")
        },
        "backends": backend_info(),
        "config": get_config(),
    }
    out = file or sys.stdout
    print(f"sparsopt {report['sparsopt']}", file=out)
    print(f"python   {report['python']}", file=out)
    print(f"platform {report['platform']}", file=out)
    print("\ndependencies:", file=out)
    for k, v in report["dependencies"].items():
        print(f"  {k:<14}{v or 'not installed'}", file=out)
    print("\nbackends:", file=out)
    for k, v in report["backends"].items():
        extra = ", ".join(f"{a}={b}" for a, b in v.items() if a != "available")
        print(f"  {k:<8}{'yes' if v['available'] else 'no ':<5}{extra}", file=out)
    print(f"\nconfig: {report['config']}", file=out)
    return report
