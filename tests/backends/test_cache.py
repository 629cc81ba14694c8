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
