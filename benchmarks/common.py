"""Helpers shared by the benchmark scripts (no torch_atomsets internals)."""
import gzip
import json
import os
import platform
import resource
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")


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


def machine():
    info = {"python": platform.python_version(), "cpu_count": os.cpu_count(), "platform": platform.platform()}
    try:
        import torch

        info.update(torch=torch.__version__, torch_threads=torch.get_num_threads())
    except ImportError:
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
        info["git_commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                            capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    info["command"] = " ".join([os.path.basename(sys.executable)] + [portable_arg(a) for a in sys.argv])
    return info


def portable_arg(arg):
    """A command-line argument fit for a committed results file: absolute paths become
    relative to the repository, or ``<path>/name`` outside it (no machine paths)."""
    flag, eq, value = arg.partition("=") if arg.startswith("--") else ("", "", arg)
    if not os.path.isabs(value):
        return arg
    rel = os.path.relpath(value, ROOT)
    value = rel if not rel.startswith("..") else os.path.join("<path>", os.path.basename(value.rstrip(os.sep)))
    return f"{flag}{eq}{value}"


def write_results(name, payload):
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, name)
    with open(path, "w") as handle:
        json.dump(payload, handle, indent=1)
    return path
