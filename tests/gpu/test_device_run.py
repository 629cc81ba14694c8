"""``gpu/device_run.sh`` and ``gpu/run_gpu_tests.sh`` checked on a CPU machine.

``bash -n`` parses both; ``CUDA=none`` runs ``device_run.sh`` end to end without a GPU (no
nvidia-smi, no CuPy: the GPU tests skip and the benchmark is the array_api_strict dry run),
which is the same sequence of steps a GPU machine runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GPU = os.path.join(ROOT, "gpu")

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


@pytest.mark.parametrize("script", ["device_run.sh", "run_gpu_tests.sh"])
def test_scripts_parse(script):
    subprocess.run(["bash", "-n", os.path.join(GPU, script)], check=True, timeout=30)


def test_help_and_bad_option():
    proc = subprocess.run(["bash", os.path.join(GPU, "device_run.sh"), "--help"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0 and "--budget SECONDS" in proc.stdout
    proc = subprocess.run(["bash", os.path.join(GPU, "device_run.sh"), "--nope"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "unknown option" in proc.stderr


def test_device_run_without_cuda_dry_run(tmp_path):
    pytest.importorskip("array_api_strict")
    out = tmp_path / "out"
    env = dict(os.environ, CUDA="none", OUT=str(out), PYTHON=sys.executable,
               PYTHONPATH=ROOT)
    proc = subprocess.run(
        ["bash", os.path.join(GPU, "device_run.sh"), "--no-venv", "--budget", "240",
         "--repeat", "1", "--", "--only", "selftest", "--threads", "1"],
        capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    for name in ("device_run.log", "bench.txt", "bench.json"):
        assert (out / name).is_file()
    log = (out / "device_run.log").read_text()
    for step in ("1/4 the device", "2/4 Python environment", "3/4 gpu/run_gpu_tests.sh",
                 "== 2/3 GPU tests", "== 3/3 GPU benchmark", "--budget"):
        assert step in log
    assert "DRY RUN" in (out / "bench.txt").read_text()
    cases = json.loads((out / "bench.json").read_text())["cases"]
    assert [(c["case"], c["status"]) for c in cases] == [("selftest", "ok")]
