"""Choose a writable directory for Numba's on-disk kernel cache."""

import os
import sys
import tempfile


def _writable(path):
    try:
        os.makedirs(path, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=path, prefix=".sparsopt-probe-", delete=True)
        probe.close()
        return True
    except OSError:
        return False


def choose_cache_dir(package_dir, environ=None):
    """Return the Numba cache directory sparsopt should use, or ``None`` for Numba's default.

    ``None`` means the package directory is writable and Numba will cache next to
    the sources (its default). If ``NUMBA_CACHE_DIR`` is already set it wins. Otherwise
    the first writable of ``$SPARSOPT_CACHE_DIR``, ``$XDG_CACHE_HOME/sparsopt/numba``,
    ``~/.cache/sparsopt/numba`` and a folder in the system temporary directory is used.

    Parameters
    ----------
    package_dir : str
        Directory holding the kernel sources.
    environ : mapping, optional
        Environment to read (defaults to ``os.environ``).
    """
    env = os.environ if environ is None else environ
    if env.get("NUMBA_CACHE_DIR"):
        return env["NUMBA_CACHE_DIR"]
    if os.access(package_dir, os.W_OK) and _writable(os.path.join(package_dir, "__pycache__")):
        return None
    candidates = []
    if env.get("SPARSOPT_CACHE_DIR"):
        candidates.append(env["SPARSOPT_CACHE_DIR"])
    xdg = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    candidates.append(os.path.join(xdg, "sparsopt", "numba"))
    candidates.append(os.path.join(tempfile.gettempdir(), "sparsopt-numba-cache"))
    for c in candidates:
        if _writable(c):
            return c
    return None


def configure_cache():
    """Set ``NUMBA_CACHE_DIR`` (and Numba's live config) before kernels are compiled."""
    path = choose_cache_dir(os.path.dirname(os.path.abspath(__file__)))
    if path is None:
        return None
    os.environ["NUMBA_CACHE_DIR"] = path
    cfg = sys.modules.get("numba.core.config")
    if cfg is not None:
        cfg.CACHE_DIR = path
    return path
