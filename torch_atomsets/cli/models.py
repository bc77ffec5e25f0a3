"""``atomsets models``: the parents (published and registered here) and the child models."""
from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser("models", help="list the parents (published, registered here) and the child models")
    p.add_argument("--weights-dir", default=None, help="also list parents registered in this folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..hub.parents import registered_parents
    from ..hub.published import DEFAULT_PARENT, REGISTRY
    from ..levels import level_names
    from ..models.registry import MODELS

    print("parents (published):")
    for entry in REGISTRY.values():
        default = " (default)" if entry.name == DEFAULT_PARENT else ""
        print(f"  {entry.name}{default}  aliases: {', '.join(entry.aliases)}\n      {entry.description}\n"
              f"      {entry.url(entry.weights_file)}")
    registered = registered_parents(args.weights_dir)
    if registered:
        print("parents (registered here):")
        for name, path in registered:
            print(f"  {name}\n      {path}")
    print("models (atomsets train --model NAME):")
    for spec in MODELS.values():
        level = f" [{spec.level}]" if spec.level else ""
        print(f"  {spec.name:14s}{level:12s} {spec.description}")
    print("  AtomSets-<levels>, MLP-<levels>: any levels joined with +, e.g. AtomSets-V0+V1, AtomSets-V1+f, MLP-u3+f,")
    print("  AtomSets-V0+E, MLP-V0-stats+E-stats; levels: " + ", ".join(level_names()))
    print("  (E, E-stats: tabulated element properties and their statistics; no parent needed)")
    print("  GBT-<levels>: gradient-boosted trees on per-structure levels, e.g. GBT-V0-stats+E-stats, GBT-f")
    print("  (--learning_rate is the boosting shrinkage, default 0.05; --patience and --max_epochs count rounds)")
    from ..training.presets import PRESETS, preset

    print("presets (atomsets train --preset NAME):")
    for name in sorted(PRESETS):
        print(f"  {name:24s} " + ", ".join(f"{k}={v}" for k, v in preset(name).items()))
    return 0
