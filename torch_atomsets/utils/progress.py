"""A progress bar for long data jobs (featurisation, graph building)."""
from __future__ import annotations

from typing import Optional


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: Optional[int], desc: str, unit: str = "it", enable: Optional[bool] = None,
                 min_total: int = 500):
    """A tqdm bar on stderr, or a no-op.

    ``enable=None`` shows it for long jobs (``total >= min_total``) when stderr is a terminal;
    ``True`` always; ``False`` never.
    """
    if enable is False or (enable is None and (total is not None and total < min_total)):
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=None if enable is None else False, dynamic_ncols=True)
