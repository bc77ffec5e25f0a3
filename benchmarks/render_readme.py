#!/usr/bin/env python
"""Render the README's result sections from the committed results files.

    python benchmarks/render_readme.py           # rewrite the sections in README.md
    python benchmarks/render_readme.py --check   # exit 1 if README.md is not what the results say

A section is the text between ``<!-- results:NAME -->`` and ``<!-- /results:NAME -->``; each
NAME has a renderer below that reads ``benchmarks/results/`` only, so no figure in the
README is typed by hand. A results file that is not there yet renders as "not measured
yet" with the command that makes it.
"""
import argparse
import glob
import json
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from provenance import RESULTS, ROOT  # noqa: E402

README = os.path.join(ROOT, "README.md")


def _load(relative):
    path = os.path.join(RESULTS, relative)
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return json.load(handle)


def _machine(p):
    m = (p or {}).get("machine", {})
    load = m.get("load_average_1_5_15min")
    return (f"{m.get('cpu', '?')}, {m.get('cpu_count', '?')} cores" + (f", {m['gpu']}" if m.get("gpu") else "")
            + (f", load {load[0]:.1f} when written" if load else ""))


def _made(p, command=None):
    p = p or {}
    return (f"`{command or p.get('command', '?')}` at `{p.get('git', '?')}` on {_machine(p)}, "
            f"{p.get('torch_threads', '?')} thread(s), torch {p.get('versions', {}).get('torch', '?')}")


def _missing(command):
    return f"Not measured yet: `{command}`."


def keras():
    data = _load("keras/parents-150-crystals.json")
    if data is None:
        return _missing("python benchmarks/keras/compare.py REF.json.gz --save parents-150-crystals")
    lines = ["| parent | structures | prediction | V1 | V2 | V3 | u1..u3 | v_r | f | edge cases (max) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for version, entry in data["parents"].items():
        d = entry["max_abs_difference"]

        def crystal(level, d=d):
            return d[f"matbench/{level}"]["difference"]

        edge = max(v["difference"] for k, v in d.items() if k.startswith("edge"))
        u = max(crystal(f"u{i}") for i in (1, 2, 3))
        lines.append(f"| {version} | {entry['structures']['matbench']} crystals + {entry['structures']['edge cases']} "
                     f"edge cases | {crystal('prediction'):.1e} | {crystal('V1'):.1e} | {crystal('V2'):.1e} | "
                     f"{crystal('V3'):.1e} | {u:.1e} | {crystal('v_r'):.1e} | {crystal('f'):.1e} | {edge:.1e} |")
    lines += ["", f"Largest absolute differences from the original Keras implementation (megnet 1.3.2; predictions "
                  f"in eV/atom, features reach 35-55). Made by {_made(data['provenance'])}."]
    return "\n".join(lines)


def featurize_speed():
    data = _load("speed/featurize.json")
    if data is None:
        return _missing("python benchmarks/speed/featurize.py --keras-python KERAS/bin/python --save")
    lines = ["| implementation | cold (structures/s) | warm (structures/s) | torch_atomsets is |",
             "|---|---|---|---|"]
    for name, side in data["sides"].items():
        ratio = data["speedup"].get(f"vs_{name}")
        label = {"torch_atomsets": "torch_atomsets", "keras": "original Keras (megnet 1.3.2)",
                 "baseline": f"torch_atomsets at {data.get('baseline')}"}.get(name, name)
        lines.append(f"| {label} | {side['structures_per_s_cold']:.0f} | {side['structures_per_s_warm']:.0f} | "
                     + (f"{ratio['cold']:.1f}x cold, {ratio['warm']:.1f}x warm |" if ratio else "- |"))
    lines += ["", f"{data['n_structures']:,} structures ({data['n_atoms']:,} atoms), graph + forward + every feature "
                  f"level; median of {data['rounds']} alternating rounds, fresh processes. Li2O: "
                  f"{data['li2o_prediction_eV_per_atom']:.7f} eV/atom. Made by {_made(data['provenance'])}."]
    return "\n".join(lines)


def child_speed():
    data = _load("speed/children.json")
    if data is None:
        return _missing("python benchmarks/speed/children.py --maml-python KERAS/bin/python --save")
    base = data.get("baseline")
    bare = any("bare_pytorch" in case["seconds_per_epoch"] for case in data["cases"].values())
    lines = ["| case | readout | training samples | torch_atomsets (ms/epoch) | maml (ms/epoch) | speed-up |"
             + (" bare PyTorch loop (ms/epoch) | its speed-up |" if bare else "")
             + (f" torch_atomsets at {base} (ms/epoch) |" if base else ""),
             "|---|---|---|---|---|---|" + ("---|---|" if bare else "") + ("---|" if base else "")]
    for key, case in data["cases"].items():
        name, readout = key.rsplit(" ", 1)
        s = case["seconds_per_epoch"]
        maml = f"{s['maml'] * 1000:.1f}" if "maml" in s else "-"
        speedup = f"{case['speedup_vs_maml']:.1f}x" if case.get("speedup_vs_maml") else "-"
        note = "" if case["like_for_like"] else " (not like for like: maml's Set2Set gates differ)"
        row = f"| {name} | {readout}{note} | {case['n_train']} | {s['torch_atomsets'] * 1000:.1f} | {maml} | {speedup} |"
        if bare:
            vs = f"{case['bare_pytorch_vs_maml']:.1f}x" if case.get("bare_pytorch_vs_maml") else "-"
            row += f" {s['bare_pytorch'] * 1000:.1f} | {vs} |" if "bare_pytorch" in s else " - | - |"
        lines.append(row + (f" {s['baseline'] * 1000:.1f} |" if base else ""))
    lines += ["", f"Batch {data['batch_size']}, MAE loss on both sides, {data['epochs']} epochs, median of "
                  f"{data['rounds']} alternating rounds; "
              + ("our epochs are timed whole, from one epoch's start to the next's (training, validation, logging, "
                 "the checkpoint of an improvement)." if data.get("epoch_timing") else
                 "our epochs include validation and logging, but not the checkpoint written on an improvement "
                 "(these figures predate the fix of the epoch timer, which ran before Lightning's checkpoint "
                 "callback).")
              + (" The bare PyTorch loop trains the same network on the same batches with no Lightning, metrics "
                 "or checkpoints: the model math alone, and the most a leaner training loop could give."
                 if bare else "") + f" Made by {_made(data['provenance'])}."]
    return "\n".join(lines)


def pretrain_speed():
    data = _load("speed/pretrain.json")
    if data is None:
        return _missing("python benchmarks/speed/pretrain.py --save")
    return (f"On the same {data['n_train']:,} training structures of `matbench_mp_e_form_approx` (batch "
            f"{data['batch_size']}): one MEGNet epoch takes **{data['megnet_seconds_per_epoch']:.1f} s**"
            + (f" on symmetry-compressed graphs ({data['megnet_full_graphs_seconds_per_epoch']:.1f} s on the full "
               f"graphs, measured alternately: {data['compression_speedup']:.1f}x)"
               if "compression_speedup" in data else "")
            + f", one AtomSets-V1 epoch **{data['atomsets_v1_seconds_per_epoch']:.2f} s** ({data['ratio']:.0f}x; the paper "
            f"reports ~30x on a GPU). Building the graphs took {data['graph_build_seconds']:.1f} s, the V1 features "
            f"{data['feature_build_seconds']:.1f} s. Made by {_made(data['provenance'])}.")


def device_speed():
    rows = []
    for path in sorted(glob.glob(os.path.join(RESULTS, "speed", "device-*.json"))):
        with open(path) as handle:
            d = json.load(handle)
        rows.append(f"| {d['device']} | {d['featurize']['structures_per_s']:.0f} | "
                    f"{d['child_epoch_seconds']:.2f} | {d['megnet_epoch_seconds']:.1f} | {_made(d['provenance'])} |")
    if not rows:
        return _missing("python benchmarks/speed/device.py --save")
    return "\n".join(["| device | featurisation (structures/s) | AtomSets-V1 epoch (s) | MEGNet epoch (s) | made by |",
                      "|---|---|---|---|---|"] + rows)


def matbench_small():
    data = _load("matbench_small.json")
    if data is None:
        return _missing("python benchmarks/matbench_small/evaluate.py")
    board = json.load(open(os.path.join(ROOT, "benchmarks", "matbench_small", "leaderboard.json")))
    lines = ["| task | setting (preset) | ours: mean ± std over folds | s/fold | AMMExpress | MODNet 0.1.12 | best | "
             "beats AMMExpress | within 10% of best |", "|---|---|---|---|---|---|---|---|---|"]
    for task, entry in ((k, v) for k, v in data.items() if k.startswith("matbench_")):
        b = board[task]
        higher = b["metric"] == "rocauc"
        mean = entry["mean"]
        beats = mean > b["AMMExpress"]["mean"] if higher else mean < b["AMMExpress"]["mean"]
        close = mean >= 0.95 if higher else mean <= 1.1 * b["best"]["mean"]
        if entry["n_folds"] < 5:  # no verdict from part of the folds
            beats = close = None
        digits = 4 if abs(mean) < 10 else 1
        setting = entry["setting"]
        if entry.get("reduced"):
            setting += f" (reduced: ensemble of {entry['ensemble']}, not 5)"
        if entry["n_folds"] < 5:
            setting += f" ({entry['n_folds']} of 5 folds)"
        if entry.get("next_setting"):
            nxt = entry["next_setting"]
            setting += f"; selection now chooses {nxt['setting']} ({nxt['n_folds']} of 5 folds run)"
        lines.append(f"| {task.replace('matbench_', '')} | {setting} | {mean:.{digits}f} ± {entry['std']:.{digits}f} | "
                     f"{entry['seconds_per_fold']:.0f} | {b['AMMExpress']['mean']} | {b['MODNet']['mean']} | "
                     f"{b['best']['mean']} ({b['best']['name']}) | {_verdict(beats)} | {_verdict(close)} |")
    lines += ["", "How good the ensembles' spread is as an uncertainty, on the test folds (mean over the "
                  "folds; Gaussian errors would put 68% within ±1 std and 95% within ±2 std):", "",
              "| task | one child (mean of the members) | the ensemble | Spearman(abs. error, std) | within ±1 std | "
              "within ±2 std | miscalibration area |", "|---|---|---|---|---|---|---|"]
    for task, entry in ((k, v) for k, v in data.items() if k.startswith("matbench_")):
        u = entry.get("uncertainty") or {}
        if u:
            single = sum(map(sum, entry["members_test"])) / sum(map(len, entry["members_test"]))
            lines.append(f"| {task.replace('matbench_', '')} | {single:.4g} | {entry['mean']:.4g} | {u['spearman']:.2f} | "
                         f"{u['within_1std']:.0%} | {u['within_2std']:.0%} | {u['miscalibration_area']:.2f} |")
    lines += ["", "Leaderboard: materialsproject/matbench per-task pages at "
                  f"`{board['matbench_steels']['source']['commit'][:7]}`; classification scores are ROC-AUC of hard labels "
                  "(what the leaderboard records), our probability AUC is in the results file. "
                  f"Folds trained at commit(s) {', '.join(f'`{c}`' for c in _fold_commits(data))}; "
                  f"summary made by {_made(data['provenance'])}."]
    return "\n".join(lines)


def matbench_small_paper():
    """The chosen settings on the paper's protocol (random 80/10/10, seeds 0-4) against the
    paper's best own number per task."""
    from paper_values import paper_best

    data = _load("matbench_small/paper_protocol.json")
    if data is None:
        return _missing("python benchmarks/matbench_small/evaluate.py --protocol paper")
    lines = ["| task | setting (preset) | ours: mean ± std over seeds | seeds | the paper's best (its model) | "
             "better than the paper |", "|---|---|---|---|---|---|"]
    official = _load("matbench_small.json") or {}  # the seven tasks, in MatBench's order
    tasks = [k for k in official if k.startswith("matbench_")] or [k for k in data if k.startswith("matbench_")]
    for task in tasks:
        entry = data.get(task)
        if entry is None:
            model, best = paper_best(task)
            lines.append(f"| {task.replace('matbench_', '')} | not run yet | - | 0 | {best} ({model}) | - |")
            continue
        classification = "mean_proba" in entry
        mean = entry["mean_proba"] if classification else entry["mean"]
        spread = float(np.std(entry["folds_proba"])) if classification else entry["std"]
        model, best = paper_best(task)
        better = (mean > best if classification else mean < best) if entry["n_folds"] == 5 else None
        digits = 3 if abs(mean) < 10 else 1
        members = f" (ensemble of {entry['ensemble']}, reduced)" if entry.get("reduced") else ""
        lines.append(f"| {task.replace('matbench_', '')} | {entry['setting']} | {mean:.{digits}f} ± {spread:.{digits}f}"
                     f"{' (ROC-AUC of probabilities)' if classification else ''} | {entry['n_folds']}{members} | {best} ({model}) | "
                     f"{_verdict(better)} |")
    lines += ["", "The paper's numbers are means over its five random splits, rounded as it prints them "
                  "(`benchmarks/paper_values.py`); the splits here are seeds 0-4 of the same protocol, not the paper's "
                  f"own draws. Made by {_made(data['provenance'])}."]
    return "\n".join(lines)


def _value(summary, digits):
    """``mean ± std`` of a summary over draws; the mean alone from one draw (no spread yet)."""
    return f"{summary['mean']:.{digits}f}" + (f" ± {summary['std']:.{digits}f}" if summary["n"] > 1 else "")


def _verdict(value):
    return "-" if value is None else "yes" if value else "no"


def _fold_commits(summary):
    """The commits the folds of the MatBench small-task summary were trained at (per-task files)."""
    commits = set()
    for task in summary:
        if task.startswith("matbench_"):
            per_task = _load(f"matbench_small/{task}.json") or {}
            commits |= {r["provenance"]["git"] for r in per_task.get("runs", [])}
    return sorted(commits)


def fig3():
    data = _load("fig3/fig3.json")
    if data is None or not data["cells"]:
        return _missing("python benchmarks/figures/fig3.py --jobs 2")
    lines = ["![Fig. 3](benchmarks/results/fig3/fig3.png)", "",
             "| dataset (approximate structures) | model | at 600 points: ours (draws) | the paper |", "|---|---|---|---|"]
    for row in data["cells"]:
        if row["size"] != 600:
            continue
        paper = data["paper_at_600"].get(row["dataset"], {}).get(row["model"])
        budget = "" if row["budget"] == ["paper"] else f", budget {'/'.join(row['budget'])}"
        lines.append(f"| {row['dataset'].replace('matbench_', '')} | {row['model']} | {_value(row, 3)} "
                     f"({row['n']} draw{'s' if row['n'] > 1 else ''}{budget}) | {paper if paper is not None else '-'} |")
    lines += ["", "The paper's claims on this data (counted over the (dataset, size) pairs that have both models):", ""]
    lines += [f"- {claim}: {verdict if verdict is not None else 'not run yet'}" for claim, verdict in data["claims"].items()]
    lines += ["", f"Made by {_made(data['provenance'])}; cells: `benchmarks/results/fig3/runs/`."]
    return "\n".join(lines)


def fig4():
    data = _load("fig4/fig4.json")
    if data is None or not data["cells"]:
        return _missing("python benchmarks/figures/fig4.py --jobs 2")
    lines = ["![Fig. 4](benchmarks/results/fig4/fig4.png)", "",
             "| dataset (approximate structures) | model | low-test MAE | high-test MAE (top 10%) | draws |",
             "|---|---|---|---|---|"]
    for row in data["cells"]:
        budget = "" if row["budget"] == ["paper"] else f" (budget {'/'.join(row['budget'])})"
        lines.append(f"| {row['dataset'].replace('matbench_', '')} | {row['model']} | {_value(row['low'], 4)} | "
                     f"{_value(row['high'], 4)} | {row['low']['n']}{budget} |")

    def verdict(v):
        better = "lower" if v["transfer_extrapolates_better"] else "not lower"
        if v.get("beyond_two_standard_errors") is None:
            return f"{better} on one draw each (no spread yet to tell it from noise)"
        return f"{better}, {'beyond' if v['beyond_two_standard_errors'] else 'within'} two standard errors " \
               f"over {v['draws']} draws"

    lines += [""] + [f"- {k}: high-test MAE {v['high_test_mae'][0]:.4f} vs {v['high_test_mae'][1]:.4f}: "
                     f"{verdict(v)}" for k, v in data["transfer_vs_none"].items()]
    lines += ["", f"Made by {_made(data['provenance'])}."]
    return "\n".join(lines)


def fig2():
    data = _load("fig2/fig2.json")
    if data is None or not data["cells"]:
        return _missing("python benchmarks/figures/fig2.py --jobs 2")
    datasets = sorted({c["dataset"] for c in data["cells"]})
    lines = ["![Fig. 2](benchmarks/results/fig2/fig2.png)", "",
             f"{len(data['cells'])} points on {len(datasets)} datasets (fractions "
             f"{', '.join(f'{f:g}' for f in sorted({c['fraction'] for c in data['cells']}))}); dashed lines have fewer "
             f"than 5 draws.", "", "The paper's reading of the figure, on this data (lower MAE or higher AUC):", ""]
    lines += [f"- {claim}: {verdict if verdict is not None else 'not run yet'}"
              for claim, verdict in data.get("claims", {}).items()]
    lines += ["", f"Made by {_made(data['provenance'])}; cells: `benchmarks/results/fig2/runs/`."]
    return "\n".join(lines)


def grid():
    data = _load("grid/grid.json")
    if data is None or not data["screens"]:
        return _missing("python benchmarks/figures/grid.py --jobs 2")
    lines = ["![grid](benchmarks/results/grid/grid.png)", "",
             "| screen | settings screened | best (5-fold CV MAE) | within one standard error of the best |",
             "|---|---|---|---|"]
    for screen, s in data["screens"].items():
        best = s["best"]
        setting = ", ".join(f"{k}={v}" for k, v in best["setting"].items())
        screened = f"{s['n_settings']} of {s['grid_size']}" if "grid_size" in s else f"{s['n_settings']}"
        lines.append(f"| {screen} | {screened} | {setting}: {best['mean']:.4g} ± {best['sem']:.2g} | "
                     f"{len(s['best_region'])} |")
    lines += ["", f"Made by {_made(data['provenance'])}."]
    s3 = _load("grid/table_s3.json")
    if s3 and s3["tasks"]:
        columns = ["AtomSets-V0+", "AtomSets-V1+"]
        lines += ["", "Table S3 (the best setting of each screen on every task; paper protocol, mean ± std over "
                      "seeds (their number); ours / the paper's; * reduced: fewer than 5 seeds or a reduced "
                      "budget; approximate structures marked), with our Table 2 cell of the same model at its "
                      "default setting (same protocol and seeds) beside it:", "",
                  "| task | " + " | ".join(f"{c} | {c[:-1]} default (Table 2)" for c in columns) + " |",
                  "|---|" + "---|" * 2 * len(columns)]
        for task, row in s3["tasks"].items():
            cells = []
            for column in columns:
                c = row.get(column)
                if c is None:
                    cells += ["-", "-"]
                    continue
                paper = f"{c['paper'][0]} ± {c['paper'][1]}" if c.get("paper") else "-"
                cells.append(f"{c['mean']:.3g} ± {c['std']:.2g}{'*' if c['reduced'] else ''} ({c['n']}) / {paper}")
                d = c.get("default")
                cells.append(f"{d['mean']:.3g} ± {d['std']:.2g} ({d['n']})" if d else "-")
            approx = any("approx" in row[c]["fidelity"] for c in row)
            lines.append(f"| {task}{' (approx.)' if approx else ''} | " + " | ".join(cells) + " |")
        lines += ["", f"Made by {_made(s3['provenance'])}."]
    return "\n".join(lines)


def table2_targets():
    path = os.path.join(RESULTS, "table2", "table2_paper.md")
    if not os.path.exists(path):
        return _missing("python benchmarks/table2/report.py")
    text = open(path).read()
    section = text.split("## The issue's targets", 1)[1].split("\n## ", 1)[0].strip()
    return section


RENDERERS = {"keras": keras, "featurize-speed": featurize_speed, "child-speed": child_speed,
             "pretrain-speed": pretrain_speed, "device-speed": device_speed, "matbench-small": matbench_small,
             "matbench-small-paper": matbench_small_paper,
             "table2-targets": table2_targets, "fig2": fig2, "fig3": fig3, "fig4": fig4, "grid": grid}
PATTERN = re.compile(r"(<!-- results:([a-z0-9-]+) -->\n)(.*?)(<!-- /results:\2 -->)", re.S)


def render(text):
    def replace(match):
        name = match.group(2)
        if name not in RENDERERS:
            raise SystemExit(f"README section {name!r} has no renderer")
        return match.group(1) + RENDERERS[name]().rstrip("\n") + "\n" + match.group(4)

    return PATTERN.sub(replace, text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    with open(README) as handle:
        text = handle.read()
    new = render(text)
    if args.check:
        if new != text:
            print("README.md is not what the results files say; run python benchmarks/render_readme.py")
            return 1
        return 0
    with open(README, "w") as handle:
        handle.write(new)
    print(f"rendered {len(PATTERN.findall(text))} sections of README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
