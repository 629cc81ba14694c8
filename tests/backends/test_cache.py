import os
import subprocess
import sys

from sparsopt.backends._numba._cache import choose_cache_dir


def test_env_var_wins(tmp_path):
    assert choose_cache_dir(str(tmp_path), {"NUMBA_CACHE_DIR": "/x"}) == "/x"


def test_writable_package_dir_keeps_numba_default(tmp_path):
    assert choose_cache_dir(str(tmp_path), {}) is None


def test_read_only_package_dir_gets_user_cache(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    os.chmod(pkg, 0o555)
    try:
        if os.access(pkg, os.W_OK):  # running as root: permissions are not enforced
            env = {"SPARSOPT_CACHE_DIR": str(tmp_path / "c")}
            # emulate a read-only directory with a path that cannot be created
            got = choose_cache_dir("/proc/sparsopt-not-writable", env)
        else:
            env = {"SPARSOPT_CACHE_DIR": str(tmp_path / "c")}
            got = choose_cache_dir(str(pkg), env)
    finally:
        os.chmod(pkg, 0o755)
    assert got == str(tmp_path / "c")
    assert os.path.isdir(got)


def test_xdg_fallback(tmp_path):
    got = choose_cache_dir("/proc/sparsopt-not-writable", {"XDG_CACHE_HOME": str(tmp_path)})
    assert got == os.path.join(str(tmp_path), "sparsopt", "numba")


def test_kernels_cache_to_chosen_dir(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    code = "import numpy as np; from sparsopt.penalties import L1; L1(1.0).prox(np.ones(4))"
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    files = [f for _, _, fs in os.walk(tmp_path) for f in fs]
    assert any(f.endswith(".nbi") for f in files)


def _run_kernel(pkg, cache, stamp):
    code = ("import sys; sys.path.insert(0, sys.argv[2]);"
            "from sparsopt.backends._numba._cache import stamp_kernel_sources;"
            f"{'stamp_kernel_sources(sys.argv[2]);' if stamp else ''}"
            "import kern; print(kern.f(1.0))")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    out = subprocess.run([sys.executable, "-c", code, "-", str(pkg)], env=env,
                         check=True, capture_output=True, text=True)
    return float(out.stdout.split()[-1])


def test_cached_kernel_follows_an_edited_helper_module(tmp_path):
    """A cached kernel that inlines a helper from another file of the folder is recompiled
    when only the helper changes (Numba alone keys the cache on the kernel's own file)."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "helper.py").write_text(
        "from numba import njit\n@njit(inline='always')\ndef g(x):\n    return x + 1.0\n")
    (pkg / "kern.py").write_text(
        "from numba import njit\nfrom helper import g\n"
        "@njit(cache=True)\ndef f(x):\n    return g(x)\n")
    cache = tmp_path / "cache"
    assert _run_kernel(pkg, cache, stamp=True) == 2.0
    assert _run_kernel(pkg, cache, stamp=True) == 2.0  # loaded from the cache
    (pkg / "helper.py").write_text(
        "from numba import njit\n@njit(inline='always')\ndef g(x):\n    return x + 10.0\n")
    assert _run_kernel(pkg, cache, stamp=True) == 11.0


def test_sources_digest_and_locators(tmp_path):
    from numba.core import caching

    from sparsopt.backends._numba import _cache

    (tmp_path / "a.py").write_text("x = 1\n")
    d1 = _cache.sources_digest(str(tmp_path))
    (tmp_path / "notes.txt").write_text("not a source")
    assert _cache.sources_digest(str(tmp_path)) == d1
    (tmp_path / "a.py").write_text("x = 2\n")
    assert _cache.sources_digest(str(tmp_path)) != d1
    # the package's kernels are stamped (sparsopt.backends._numba calls it at import)
    import sparsopt.backends._numba  # noqa: F401
    names = [c.__name__ for c in caching.CacheImpl._locator_classes]
    stamped = [n for n in names if n.startswith("SparsoptStamped")]
    assert stamped and all(n.removeprefix("SparsoptStamped") in names for n in stamped)
