"""Provenance of every results file, and helpers the benchmark scripts share.

``provenance()`` says how a number was made: the full command (absolute paths made
repository-relative, or ``<path>/name`` outside it), the commit (``git describe``, ``-dirty`` for changed code), the
machine (CPU model, cores, platform), the torch thread count, and the versions of Python,
torch, PyTorch Geometric, Lightning and the rest. ``write_results`` adds it to a payload.
"""
import datetime
import gzip
import json
import os
import platform
import resource
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
VERSIONED = ("torch", "torch_geometric", "pytorch_lightning", "torchmetrics", "numpy", "pymatgen", "torch_atomsets")


def shared_dir():
    return os.environ.get("TORCH_ATOMSETS_HOME") or os.path.join(ROOT, "..", "shared")


def load_split_json(path):
    """matbench 'split' layout -> (index, columns, rows)."""
    with gzip.open(path, "rt") as handle:
        table = json.load(handle)
    return table["index"], table["columns"], table["data"]


def structure_dicts(task, count=None):
    """The first ``count`` structure dicts of a matbench task file in ../shared/data/matbench."""
    path = os.path.join(shared_dir(), "data", "matbench", f"{task}.json.gz")
    _, columns, rows = load_split_json(path)
    column = columns.index("structure")
    rows = rows if count is None else rows[:count]
    return [row[column] for row in rows]


def peak_rss_mib():
    """Peak resident memory of this process so far (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def git_describe(path=None):
    """``git describe --always`` of this checkout, or of the one at ``path`` (a baseline
    measured beside it), with ``-dirty`` when a tracked file outside ``benchmarks/results/``
    differs from that commit (a report rewriting its own results files does not make the
    code dirty); ``None`` outside a git checkout."""
    try:
        out = subprocess.run(["git", "describe", "--always"], cwd=path or ROOT, capture_output=True, text=True,
                             timeout=30)
        changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                  ":(exclude)benchmarks/results"], cwd=path or ROOT, capture_output=True, text=True,
                                 timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    if not commit:
        return None
    return commit + ("-dirty" if changed.stdout.strip() else "")


def package_checkout(module) -> str:
    """Which checkout an imported package came from, fit for a results file: the commit of
    its git checkout (``git describe``), else its version."""
    path = os.path.dirname(os.path.dirname(os.path.abspath(module.__file__)))
    commit = git_describe(path) if os.path.exists(os.path.join(path, ".git")) else None
    return f"{module.__name__} at {commit}" if commit else f"{module.__name__} {getattr(module, '__version__', '?')}"


def versions():
    import importlib.metadata as metadata

    out = {"python": platform.python_version()}
    for name in VERSIONED:
        if name == "torch_atomsets":
            try:
                from torch_atomsets.version import __version__

                out[name] = __version__
            except ImportError:
                out[name] = None
            continue
        try:
            out[name] = metadata.version(name.replace("_", "-") if name != "torch_atomsets" else name)
        except metadata.PackageNotFoundError:
            try:
                out[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                out[name] = None
    return out


def machine():
    info = {"cpu_count": os.cpu_count(), "platform": platform.platform()}
    try:
        info["cores_available"] = len(os.sched_getaffinity(0))
    except AttributeError:
        pass
    try:  # other work on a shared machine slows absolute figures (ratios measured alternately less so)
        info["load_average_1_5_15min"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import torch

        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return info


def command():
    return " ".join(["python"] + [portable_arg(a) for a in sys.argv])


def provenance(threads=None, **extra):
    """How a result was made (see the module docstring)."""
    out = {"command": command(), "git": git_describe(), "machine": machine(), "versions": versions(),
           "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    try:
        import torch

        out["torch_threads"] = threads if threads is not None else torch.get_num_threads()
    except ImportError:
        out["torch_threads"] = threads
    out.update(extra)
    return out


def portable_arg(arg):
    """A command-line argument fit for a committed results file: absolute paths become
    relative to the repository, or ``<path>/name`` outside it (no machine paths)."""
    flag, eq, value = arg.partition("=") if arg.startswith("--") else ("", "", arg)
    if not os.path.isabs(value):
        return arg
    rel = os.path.relpath(value, ROOT)
    value = rel if not rel.startswith("..") else os.path.join("<path>", os.path.basename(value.rstrip(os.sep)))
    return f"{flag}{eq}{value}"


def write_results(name, payload, folder=RESULTS, **provenance_extra):
    """Write ``payload`` (plus its ``provenance``) as JSON to ``folder/name``; returns the path."""
    path = os.path.join(folder, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    payload = dict(payload)
    payload["provenance"] = provenance(**provenance_extra)
    with open(path + ".tmp", "w") as handle:
        json.dump(payload, handle, indent=1, default=str)
    os.replace(path + ".tmp", path)
    return path
