#!/usr/bin/env python
"""Parity plots (regression) and ROC curves (classification) of Table 2's runs, one PNG per
task family.

    python benchmarks/table2/plots.py [--protocol paper|matbench]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import ALL_MODELS, DEFAULT_RESULTS, collect, report_unit, summarise  # noqa: E402


def plots(results, cells, protocol):
    """Parity plots (regression) and ROC curves (classification), one PNG per task family."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no plots")
        return []
    families = {"composition": ["matbench_steels", "matbench_expt_gap", "matbench_expt_is_metal", "matbench_glass"],
                "small structures": ["matbench_jdft2d", "matbench_phonons", "matbench_dielectric"],
                "large structures": ["matbench_log_kvrh", "matbench_log_gvrh", "matbench_perovskites",
                                     "matbench_mp_gap", "matbench_mp_e_form", "matbench_mp_is_metal"]}
    paths = []
    for family, tasks in families.items():
        present = [t for t in tasks if any(k[0] == t for k in cells)]
        if not present:
            continue
        fig, axes = plt.subplots(1, len(present), figsize=(4.2 * len(present), 4.2), squeeze=False)
        for ax, task in zip(axes[0], present):
            models = [m for m in ALL_MODELS if (task, m) in cells and m != "Dummy"]
            summaries = {m: summarise(cells[(task, m)]) for m in models}
            classification = summaries[models[0]]["metric"] == "auc" if models else False
            best = sorted(models, key=lambda m: -summaries[m]["mean"] if classification else summaries[m]["mean"])[:3]
            unit, factor = report_unit(task)
            for model in best:
                run = cells[(task, model)][0]
                y = np.asarray(run["predictions"]["target"])
                p = np.asarray(run["predictions"]["prediction"])
                if classification:
                    from sklearn.metrics import roc_auc_score, roc_curve

                    fpr, tpr, _ = roc_curve(y, p)
                    ax.plot(fpr, tpr, label=f"{model} (AUC {roc_auc_score(y, p):.3f})")
                else:
                    ax.scatter(y * factor, p * factor, s=6, alpha=0.5, label=f"{model} (MAE {np.abs(y - p).mean() * factor:.3g})")
            if classification:
                ax.plot([0, 1], [0, 1], "k--", lw=0.8)
                ax.set_xlabel("false positive rate")
                ax.set_ylabel("true positive rate")
            else:
                low, high = ax.get_xlim()
                ax.plot([low, high], [low, high], "k--", lw=0.8)
                ax.set_xlabel(f"target ({unit})")
                ax.set_ylabel(f"prediction ({unit})")
            ax.set_title(f"{task.replace('matbench_', '')} ({cells[(task, best[0])][0]['split']})" if best else task)
            ax.legend(fontsize=7)
        fig.tight_layout()
        path = os.path.join(results, f"{protocol}_{family.replace(' ', '_')}.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--protocol", default="paper", choices=["paper", "matbench"])
    parser.add_argument("--results", default=DEFAULT_RESULTS)
    args = parser.parse_args()
    made = plots(args.results, collect(args.results, args.protocol), args.protocol)
    print("wrote " + ", ".join(os.path.basename(p) for p in made) if made else "no results yet")
    return 0


if __name__ == "__main__":
    sys.exit(main())
