"""The shipped presets are what the committed selection results choose."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "benchmarks"))


def test_presets_equal_the_selection_results():
    from matbench_small.common import TASKS
    from matbench_small.selection import choice

    from torch_atomsets.training.presets import PRESETS

    checked = 0
    for task in TASKS:
        chosen = choice(task)
        complete = bool(chosen) and chosen["complete_candidates"] == chosen["all_candidates"]
        if task in PRESETS:
            assert complete, f"{task}: a preset without a finished selection"
            assert PRESETS[task] == chosen["options"], (task, PRESETS[task], chosen["options"])
            checked += 1
    assert checked == len(PRESETS) >= 1


def test_preset_on_the_command_line(tmp_path, capsys):
    from torch_atomsets.cli.train import expand_preset

    argv = expand_preset(["--task", "steels", "--preset", "matbench_steels", "--loss", "mae"])
    assert argv[:3] == ["--model=AtomSets-V0", "--loss=huber", "--ensemble=5"] and argv[-2:] == ["--loss", "mae"]
    from torch_atomsets.cli import main

    assert main(["train", "--task", "steels", "--preset", "nope"]) == 2
    assert "unknown preset 'nope'" in capsys.readouterr().err
    pytest.importorskip("jsonargparse")


def test_every_preset_parses(tmp_path):
    """Each shipped preset expands to options the train command accepts."""
    pytest.importorskip("jsonargparse")
    from torch_atomsets.cli.train import parse, train_parser
    from torch_atomsets.training.presets import ENSEMBLE, PRESETS

    parser, classes = train_parser()
    for name in PRESETS:
        config = parse(parser, ["--task", name.replace("matbench_", ""), "--preset", name], classes)
        for key, value in dict(PRESETS[name], ensemble=ENSEMBLE).items():
            assert config[key] == value, (name, key, config[key])
