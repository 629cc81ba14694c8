"""Numba's on-disk kernel cache: a writable directory, and a stamp over all the kernels' sources.

Numba keys a cached kernel on the contents of its own source file only. A kernel that
inlines a helper from another module of this folder (``_fastmath.exp_poly``,
``_wht_simd``'s intrinsics, ``prox``'s operators) would keep its stale machine code
after that helper changed (seen while developing: an edited intrinsic had no effect until
the cache files were deleted). :func:`stamp_kernel_sources` makes every kernel of this
folder depend on all the folder's ``.py`` files.
"""

import hashlib
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


def sources_digest(package_dir):
    """SHA-256 over the names and contents of the ``.py`` files of ``package_dir``."""
    h = hashlib.sha256()
    for name in sorted(os.listdir(package_dir)):
        if name.endswith(".py"):
            with open(os.path.join(package_dir, name), "rb") as f:
                h.update(name.encode())
                h.update(f.read())
    return h.hexdigest()


def stamp_kernel_sources(package_dir=None):
    """Key the cached kernels of ``package_dir`` (default: this folder) on all its sources.

    Wraps each of Numba's source-file cache locators so that, for a function defined in a
    file of ``package_dir``, the freshness stamp is Numba's own (the file's contents) plus
    :func:`sources_digest` of the folder; other functions are left to Numba's locators.
    Returns False (and changes nothing) where Numba's caching internals differ from those
    this relies on (``CacheImpl._locator_classes``).
    """
    package_dir = os.path.abspath(package_dir or os.path.dirname(os.path.abspath(__file__)))
    try:
        from numba.core import caching

        impl = caching.CacheImpl
        bases = list(impl._locator_classes)
        mixin = caching._SourceFileBackedLocatorMixin
    except (ImportError, AttributeError):
        return False
    if package_dir in getattr(impl, "_sparsopt_stamped", ()):
        return True
    digest = sources_digest(package_dir)
    prefix = os.path.join(package_dir, "")
    wrapped = []
    for base in bases:
        if (isinstance(base, type) and issubclass(base, mixin)
                and not getattr(base, "_sparsopt_stamp", False)):
            wrapped.append(_stamped_locator(base, prefix, digest))
        wrapped.append(base)
    impl._locator_classes = wrapped
    impl._sparsopt_stamped = (*getattr(impl, "_sparsopt_stamped", ()), package_dir)
    return True


def _stamped_locator(base, prefix, digest):
    class Locator(base):
        _sparsopt_stamp = True

        @classmethod
        def from_function(cls, py_func, py_file):
            if not os.path.abspath(py_file).startswith(prefix):
                return None
            return super().from_function(py_func, py_file)

        def get_source_stamp(self):
            return (super().get_source_stamp(), digest)

    Locator.__name__ = Locator.__qualname__ = f"SparsoptStamped{base.__name__}"
    return Locator
