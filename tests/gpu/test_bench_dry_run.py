"""``gpu/bench_gpu.py`` on the CPU: the dry run with array_api_strict in place of CuPy.

The dry run executes the benchmark's code path (data, device copies, warm-ups, timings,
comparison with the Numba run, table, JSON) at tiny sizes. Families whose public function
does not yet follow the array namespace show up as SKIPPED (a clear refusal) or FAILED (a host
round trip); the script itself must never crash, and the self-test case (a plain matrix
product in the namespace) must run and agree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "gpu", "bench_gpu.py")
CASES = ("fista", "sinkhorn", "sns", "fwht", "sbl", "mbdl")


def _run(*args, timeout=300):
    pytest.importorskip("array_api_strict")
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=timeout)


def test_dry_run_prints_a_table_and_never_crashes(tmp_path):
    out = tmp_path / "bench.json"
    proc = _run("--namespace", "array_api_strict", "--repeat", "1", "--threads", "1",
                "--only", "selftest," + ",".join(CASES), "--json", str(out))
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert "DRY RUN" in proc.stdout
    assert "sparsopt numba (CPU)" in proc.stdout  # the table
    payload = json.loads(out.read_text())
    status = {c["case"]: c["status"] for c in payload["cases"]}
    assert set(status) == {"selftest", *CASES}
    assert status["selftest"] == "ok"
    assert set(status.values()) <= {"ok", "SKIPPED", "FAILED"}
    for c in payload["cases"]:
        line = next(ln for ln in proc.stdout.splitlines() if c["label"] in ln
                    and ln.startswith(c["status"]))
        if c["status"] != "ok":
            assert c["message"] and c["message"] in line
        else:
            assert c["max_rel_diff"] <= 1e-2
    assert (proc.returncode == 1) == ("FAILED" in status.values())
    rows = {(r["case"], r["impl"]) for r in payload["rows"]}
    ok_labels = [c["label"] for c in payload["cases"] if c["status"] == "ok"]
    assert rows == {(lab, impl) for lab in ok_labels
                    for impl in ("sparsopt on device", "sparsopt numba (CPU)")}


def test_list_and_unknown_case():
    proc = _run("--list")
    assert proc.returncode == 0
    for name in CASES:
        assert name in proc.stdout
    assert "1e+06x64, 256 atoms" in proc.stdout and "fwht 2^26" in proc.stdout
    proc = _run("--only", "nope", "--namespace", "array_api_strict")
    assert proc.returncode == 2 and "unknown case" in proc.stderr
    proc = _run("--pending", "--namespace", "array_api_strict")
    assert proc.returncode == 2 and "--pending needs --namespace cupy" in proc.stderr


def test_budget_skips_the_remaining_cases(tmp_path):
    out = tmp_path / "bench.json"
    proc = _run("--namespace", "array_api_strict", "--repeat", "1", "--threads", "1",
                "--only", "selftest,selftest", "--budget", "0", "--json", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    cases = json.loads(out.read_text())["cases"]
    assert [c["status"] for c in cases] == ["ok", "SKIPPED"]
    assert "time budget" in cases[1]["message"]


def test_without_cupy_exits_zero_or_three():
    env_off = {"SPARSOPT_DISABLE_CUPY": "1"}
    for extra, code in (((), 0), (("--require-device",), 3)):
        proc = subprocess.run([sys.executable, SCRIPT, "--quick", *extra], capture_output=True,
                              text=True, cwd=ROOT, timeout=120,
                              env=dict(os.environ, **env_off, PYTHONPATH=ROOT))
        assert proc.returncode == code, proc.stderr[-2000:]
        assert "SPARSOPT_DISABLE_CUPY" in proc.stdout
