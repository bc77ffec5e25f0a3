"""How many threads torch may use, chosen so that shared machines are not oversubscribed."""
from __future__ import annotations

import os
from typing import Optional

#: How the thread count was chosen, for run banners and results files.
LAST_CHOICE: dict = {}


def available_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def choose_threads(requested: Optional[int] = None, processes: int = 1) -> int:
    """Threads per process.

    ``requested`` wins when given. Otherwise: the cores left free by other work (one-minute
    load average) shared among ``processes`` processes of this run, at least 1 and at most
    torch's own default. Alone on an idle machine that is torch's default; beside a busy
    process, or with several processes (DDP on CPU, parallel benchmark jobs), fewer: torch's
    default there spins OpenMP threads against each other and runs 4-15x slower.
    """
    import torch

    default = torch.get_num_threads() if not LAST_CHOICE else LAST_CHOICE["torch_default"]
    if requested is not None:
        if int(requested) < 1:
            from ..errors import ConfigError

            raise ConfigError(f"--threads must be at least 1, got {requested}")
        threads, reason = int(requested), "requested"
    else:
        cores = available_cores()
        try:
            busy = os.getloadavg()[0]
        except OSError:
            busy = 0.0
        free = max(1.0, cores - busy)
        threads = max(1, min(default, int(free // max(1, processes))))
        reason = f"{cores} cores, load {busy:.1f}, {processes} process(es)"
    LAST_CHOICE.update(threads=threads, reason=reason, torch_default=default)
    return threads


def set_threads(requested: Optional[int] = None, processes: int = 1) -> int:
    """:func:`choose_threads` and apply it to torch; returns the count."""
    import torch

    threads = choose_threads(requested, processes)
    torch.set_num_threads(threads)
    return threads
