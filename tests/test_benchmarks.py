"""The benchmark scripts run (tiny sizes), so that they cannot rot unnoticed.

They are not timed tests: each one checks its own answers against numpy before timing.
"""
import pathlib
import subprocess
import sys

import pytest

BENCH = pathlib.Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.parametrize("script, args", [
    ("bench_core.py", ["--rows", "256", "--cols", "384", "--chunks", "64", "128", "--repeat", "1"]),
    ("bench_beyond.py", ["--rows", "256", "--cols", "384", "--chunks", "64", "128", "--repeat", "1"]),
    ("bench_topk.py", ["--rows", "256", "--cols", "384", "--chunks", "64", "128", "--repeat", "1"]),
])
def test_benchmark_script_runs(script, args, tmp_path):
    out = tmp_path / "result.json"
    proc = subprocess.run([sys.executable, str(BENCH / script), *args, "--json", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ooc" in proc.stdout and out.stat().st_size > 0
