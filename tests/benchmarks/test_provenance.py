"""The benchmark helpers keep machine paths out of committed results files."""
import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _provenance():
    spec = importlib.util.spec_from_file_location("bench_common", os.path.join(ROOT, "benchmarks", "provenance.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_portable_arg_drops_machine_paths():
    common = _provenance()
    assert common.portable_arg("/somewhere/runs/pretrain") == os.path.join("<path>", "pretrain")
    assert common.portable_arg("--output=/somewhere/runs/out/") == "--output=" + os.path.join("<path>", "out")
    inside = os.path.join(common.ROOT, "benchmarks", "results")
    assert common.portable_arg(inside) == os.path.join("benchmarks", "results")
    assert common.portable_arg("--seeds") == "--seeds"
    assert common.portable_arg("0-2") == "0-2"
    assert common.portable_arg("relative/path") == "relative/path"


def test_provenance_records_command_commit_machine_and_versions():
    record = _provenance().provenance(threads=1)
    assert record["torch_threads"] == 1 and record["command"].startswith("python")
    assert record["git"]  # git describe --always --dirty of the checkout
    assert {"torch", "torch_geometric", "pytorch_lightning", "python"} <= set(record["versions"])
    assert record["versions"]["torch"] and record["machine"]["cpu_count"] >= 1


def test_readme_results_are_rendered_from_the_results_files():
    import subprocess
    import sys

    completed = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "render_readme.py"), "--check"],
                               capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_rewritten_results_files_do_not_make_the_code_dirty(tmp_path):
    import subprocess

    git_describe = _provenance().git_describe

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    (tmp_path / "benchmarks" / "results" / "r.json").write_text("{}")
    (tmp_path / "code.py").write_text("x = 1\n")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    clean = git_describe(str(tmp_path))
    assert clean and not clean.endswith("-dirty")
    (tmp_path / "benchmarks" / "results" / "r.json").write_text('{"a": 1}')
    assert git_describe(str(tmp_path)) == clean
    (tmp_path / "code.py").write_text("x = 2\n")
    assert git_describe(str(tmp_path)) == clean + "-dirty"


def test_committed_results_hold_no_machine_paths():
    import re

    pattern = re.compile(r'"(/(?:home|root|work|tmp|Users|mnt|scratch|private|var)/[^"]*)"')
    found = []
    for folder, _, files in os.walk(os.path.join(ROOT, "benchmarks", "results")):
        for name in files:
            if name.endswith((".json", ".jsonl", ".csv")):
                with open(os.path.join(folder, name), errors="replace") as handle:
                    found += [(name, m) for m in pattern.findall(handle.read())][:1]
    assert not found, found[:5]
