"""What `atomsets` does with errors that are not its own input errors."""
import importlib

import pytest

cli = importlib.import_module("torch_atomsets.cli.main")


def _raising(exc):
    def run(argv):
        raise exc

    return run


def test_a_missing_optional_package_is_one_line_and_exit_2(monkeypatch, capsys):
    message = "Neither `tensorboard` nor `tensorboardX` is available. Try `pip install`ing either."
    monkeypatch.setattr(cli, "_run", _raising(ModuleNotFoundError(message)))
    assert cli.main(["train", "--trainer.logger", "TensorBoardLogger"]) == 2
    assert capsys.readouterr().err == f"error: {message}\n"


def test_a_broken_import_of_our_own_keeps_its_traceback(monkeypatch):
    broken = ModuleNotFoundError("No module named 'torch_atomsets.gone'", name="torch_atomsets.gone")
    monkeypatch.setattr(cli, "_run", _raising(broken))
    with pytest.raises(ModuleNotFoundError):
        cli.main(["predict", "x.cif"])
