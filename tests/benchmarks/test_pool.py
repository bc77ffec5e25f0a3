"""A failing benchmark job is reported with its traceback and the jobs beside it still land."""
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "benchmarks"))


def test_a_failed_job_is_counted_and_the_others_are_recorded(capsys):
    from pool import run_jobs

    recorded = {}

    def finished(job, result):
        recorded[job] = result
        return f"job {job}: {result}"

    failed = run_jobs(math.sqrt, [4.0, -1.0, 9.0, 16.0], 2, finished, lambda job: f"sqrt of {job}")
    assert failed == 1
    assert recorded == {4.0: 2.0, 9.0: 3.0, 16.0: 4.0}  # every job after the failure still recorded
    out = capsys.readouterr()
    text = out.out + out.err
    assert "FAILED sqrt of -1.0: ValueError('math domain error')" in text
    assert "Traceback" in text and "1 of 4 runs failed" in text


def test_a_failure_while_recording_is_counted_too(capsys):
    from pool import run_jobs

    def finished(job, result):
        if job == 9.0:
            raise OSError("disk full")
        return None

    assert run_jobs(math.sqrt, [4.0, 9.0], 1, finished, str) == 1
    assert "FAILED 9.0: OSError('disk full')" in capsys.readouterr().out


def _sleep_and_report(path):
    """A worker like one in a Lightning fit: Lightning's signal connector catches SIGTERM
    (it only notes it and stops at the next batch), so SIGTERM alone does not end it."""
    import signal
    import time

    signal.signal(signal.SIGTERM, lambda *_: None)
    with open(path, "w") as handle:
        handle.write(str(os.getpid()))
    time.sleep(120)


def test_workers_die_with_a_killed_script(tmp_path):
    """A benchmark script killed with SIGTERM takes its worker processes with it (Linux), also
    a worker that catches SIGTERM, as every worker in a Lightning fit does."""
    import signal
    import subprocess
    import time

    import pytest

    if not sys.platform.startswith("linux"):
        pytest.skip("the parent-death signal is Linux's")
    marker = tmp_path / "worker.pid"
    script = (f"import sys; sys.path[:0] = [{os.path.join(HERE, '..', '..', 'benchmarks')!r}, {HERE!r}]\n"
              "from pool import run_jobs\nfrom test_pool import _sleep_and_report\n"
              f"run_jobs(_sleep_and_report, [{str(marker)!r}], 1, lambda j, r: None, str)\n")
    parent = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.time() + 60
    while not marker.exists() or not marker.read_text():
        assert time.time() < deadline and parent.poll() is None, "the worker never started"
        time.sleep(0.2)
    worker = int(marker.read_text())
    parent.send_signal(signal.SIGTERM)
    parent.wait(timeout=30)
    deadline = time.time() + 30
    while os.path.exists(f"/proc/{worker}") and open(f"/proc/{worker}/stat").read().split()[2] != "Z":
        assert time.time() < deadline, f"worker {worker} outlived its script"
        time.sleep(0.2)
