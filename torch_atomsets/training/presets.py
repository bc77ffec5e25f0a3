"""Named settings for the MatBench small tasks, chosen by inner validation within each
official training fold (``benchmarks/matbench_small/selection.py``; every candidate's score
is in ``benchmarks/results/matbench_small/selection/``), used with ``--preset NAME``.

A preset is a set of options (as on the command line); options given next to it win. The
ensemble size is the study's (5 children per split). A test checks each preset against the
selection's results file, so the two cannot drift apart.
"""
from __future__ import annotations

from typing import Any, Dict, List

from ..errors import ConfigError

ENSEMBLE = 5

PRESETS: Dict[str, Dict[str, Any]] = {
    "matbench_steels": {"model": "AtomSets-V0", "loss": "huber"},
    "matbench_jdft2d": {"model": "AtomSets-V1+f"},
    "matbench_phonons": {"model": "AtomSets-V1-FT"},
    "matbench_expt_gap": {"model": "AtomSets-V0", "learning_rate": 0.001},
    "matbench_dielectric": {"model": "AtomSets-V0+V1", "target_transform": "log1p"},
    "matbench_expt_is_metal": {"model": "GBT-V0-stats+E-stats"},
    "matbench_glass": {"model": "GBT-V0-stats+E-stats"},
}


def preset(name: str) -> Dict[str, Any]:
    """The options of preset ``name`` (with the ensemble size)."""
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; presets: {', '.join(sorted(PRESETS)) or 'none yet'}")
    return dict(PRESETS[name], ensemble=ENSEMBLE)


def preset_arguments(name: str) -> List[str]:
    """A preset as command-line options (``--key=value``)."""
    return [f"--{key}={value}" for key, value in preset(name).items()]
