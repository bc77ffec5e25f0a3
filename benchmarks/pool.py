"""Benchmark jobs in worker processes, each one's failure kept to itself.

Every heavy benchmark script (Table 2 runs, selection, final models, figure cells) hands its
jobs to ``run_jobs``: ``workers`` spawned processes, results handled in the parent as each
job finishes, and a job that raises is printed with its worker's traceback and counted while
the others go on (a failure must neither stop nor waste the work of the jobs beside it).
"""
import ctypes
import multiprocessing
import signal
import sys
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Callable, Iterable, Optional

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Worker initializer: on Linux, the kernel kills the worker when the script that started
    it dies, however it dies (killed, SIGTERM, a crash); otherwise a killed script's workers
    would train on, unseen, for hours. SIGKILL, not SIGTERM: Lightning's signal connector
    catches SIGTERM inside a fit (a killed grid script's worker trained on). Nothing a
    script saved is harmed: results are written atomically when a run ends; a killed run
    leaves at most its temporary training folder (``atomsets-run-*`` in the system's temp
    directory)."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except OSError:
            pass


def run_jobs(work: Callable, jobs: Iterable, workers: int, finished: Callable, describe: Callable,
             unit: str = "run") -> int:
    """Run ``work(job)`` for every job on ``workers`` processes. ``finished(job, result)`` runs in
    the parent as each job ends (it writes the job's results) and returns the line to print;
    ``describe(job)`` names a job in a failure message. Returns the number of failed jobs."""
    from tqdm import tqdm

    jobs = list(jobs)
    failed = 0
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_die_with_parent)
    try:
        futures = {pool.submit(work, job): job for job in jobs}
        with tqdm(total=len(jobs), unit=unit) as bar:
            for future in as_completed(futures):
                job = futures[future]
                try:
                    line: Optional[str] = finished(job, future.result())
                    if line:
                        bar.write(line)
                except Exception as exc:  # reported with its traceback and counted; the other jobs go on
                    failed += 1
                    bar.write(f"FAILED {describe(job)}: {exc!r}\n" + "".join(traceback.format_exception(exc)))
                bar.update(1)
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    if failed:
        print(f"{failed} of {len(jobs)} {unit}s failed (tracebacks above)")
    return failed
