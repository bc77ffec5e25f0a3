"""Where the package looks for the shared folder: the environment variable, then the
settings file the setup script writes into the virtual environment."""
import json

import pytest

from torch_atomsets.utils import paths


def test_the_environments_settings_file_names_home_and_the_variable_wins(tmp_path, monkeypatch):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "torch_atomsets.json").write_text(json.dumps({"home": "/data/shared"}))
    monkeypatch.setattr(paths.sys, "prefix", str(tmp_path))
    monkeypatch.delenv("TORCH_ATOMSETS_HOME", raising=False)
    assert paths.home_dir() == "/data/shared"
    monkeypatch.setenv("TORCH_ATOMSETS_HOME", "/elsewhere")
    assert paths.home_dir() == "/elsewhere"


def test_a_broken_settings_file_is_named_and_not_used(tmp_path, monkeypatch):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "torch_atomsets.json").write_text("{not json")
    monkeypatch.setattr(paths.sys, "prefix", str(tmp_path))
    monkeypatch.delenv("TORCH_ATOMSETS_HOME", raising=False)
    with pytest.warns(UserWarning, match="torch_atomsets.json: not used"):
        assert paths.home_dir() is None
