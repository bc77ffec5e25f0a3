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
