import os
import shutil

import pytest

from torch_atomsets import load_parent
from torch_atomsets.errors import CheckpointError, ChecksumError, ConfigError, WeightsNotFoundError
from torch_atomsets.hub import published as pretrained
from torch_atomsets.hub.parents import load_parent_model
from torch_atomsets.utils.files import download

LI2O_2019 = -2.0152957  # megnet's own unit test value (tests/test_models.py)


@pytest.mark.shared
def test_li2o_2019_alone_and_batched(parent_2019, li2o, small_structures):
    alone = parent_2019.predict([li2o])
    assert abs(alone[0] - LI2O_2019) < 1e-5
    batched = parent_2019.predict(small_structures[1:3] + [li2o] + small_structures[3:], batch_size=3)
    assert abs(batched[2] - LI2O_2019) < 1e-5


@pytest.mark.shared
def test_2018_parent_loads_with_its_own_graph_settings(weights_dir, li2o):
    parent = load_parent("Eform_MP_2018", weights_dir=weights_dir, allow_download=False)
    assert parent.model.cutoff == 4.0 and parent.model.config["set2set_steps"] == 3
    centres = parent.model.expansion.centers
    assert centres.numel() == 100 and abs(centres[-1].item() - 5.0) < 1e-6
    assert -2.2 < parent.predict([li2o])[0] < -1.9


@pytest.mark.shared
def test_conversion_maps_every_keras_weight(weights_dir):
    model, metadata = load_parent_model("mp-2019.4.1", weights_dir, allow_download=False)
    assert sum(p.numel() for p in model.parameters()) == 167761
    assert metadata["unit"] == "eV/atom" and model.cutoff == 5.0
    assert metadata["key"] == "mp-2019.4.1-" + metadata["sha256"][:12]
    assert not model.training


def test_registry_names_and_aliases():
    assert pretrained.resolve_name(None).name == "mp-2019.4.1"
    assert pretrained.resolve_name("Eform_MP_2019").name == "mp-2019.4.1"
    assert pretrained.resolve_name("eform_mp_2018").name == "mp-2018.6.1"
    entry = pretrained.REGISTRY["mp-2019.4.1"]
    assert entry.url("formation_energy.hdf5") == (
        "https://github.com/materialsvirtuallab/megnet/raw/master/mvl_models/mp-2019.4.1/formation_energy.hdf5")
    with pytest.raises(ConfigError, match="unknown pretrained parent 'mp-1999'"):
        pretrained.resolve_name("mp-1999")


@pytest.mark.shared
def test_env_variable_and_layouts(tmp_path, monkeypatch, weights_dir):
    # <dir>/<version>/<file> layout via TORCH_ATOMSETS_WEIGHTS
    source = os.path.join(weights_dir, "megnet", "mp-2019.4.1")
    shutil.copytree(source, tmp_path / "mp-2019.4.1")
    monkeypatch.setenv("TORCH_ATOMSETS_WEIGHTS", str(tmp_path))
    monkeypatch.delenv("TORCH_ATOMSETS_HOME", raising=False)
    paths = pretrained.locate(pretrained.resolve_name("mp-2019.4.1"), allow_download=False)
    assert paths["formation_energy.hdf5"].startswith(str(tmp_path))


@pytest.mark.shared
def test_checksum_mismatch_is_an_error(tmp_path, weights_dir):
    target = tmp_path / "megnet" / "mp-2019.4.1"
    shutil.copytree(os.path.join(weights_dir, "megnet", "mp-2019.4.1"), target)
    weights = target / "formation_energy.hdf5"
    os.chmod(weights, 0o644)
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match="formation_energy.hdf5: sha256 .* does not match"):
        load_parent("mp-2019.4.1", weights_dir=str(tmp_path), allow_download=False)


def test_missing_weights_offline_names_the_places(tmp_path, no_home):
    with pytest.raises(WeightsNotFoundError, match="not found in: .*empty"):
        load_parent("mp-2019.4.1", weights_dir=str(tmp_path / "empty"), allow_download=False)


@pytest.mark.shared
def test_download_verifies_and_caches(tmp_path, monkeypatch, weights_dir, no_home):
    """The download path, served from a file:// URL (no internet needed)."""
    monkeypatch.setenv("TORCH_ATOMSETS_CACHE", str(tmp_path / "cache"))
    entry = pretrained.resolve_name("mp-2019.4.1")
    local = pretrained.PretrainedParent(
        name=entry.name, aliases=entry.aliases, description=entry.description, files=entry.files,
        base_url="file://" + os.path.join(os.path.abspath(weights_dir), "megnet", entry.name))
    monkeypatch.setitem(pretrained.REGISTRY, entry.name, local)
    parent = load_parent("mp-2019.4.1")
    assert (tmp_path / "cache" / "models" / "megnet" / entry.name / "formation_energy.hdf5").exists()
    assert parent.model.cutoff == 5.0

    corrupt = pretrained.PretrainedParent(
        name="mp-2019.4.1", aliases=(), description="", base_url=local.base_url,
        files={"formation_energy.hdf5": "0" * 64, "formation_energy.hdf5.json": entry.files["formation_energy.hdf5.json"]})
    with pytest.raises(ChecksumError, match="download of .* does not match"):
        download(corrupt.url("formation_energy.hdf5"), str(tmp_path / "x.hdf5"), "0" * 64)
    assert not (tmp_path / "x.hdf5").exists()


def test_keras_file_that_is_not_hdf5(tmp_path):
    fake = tmp_path / "model.hdf5"
    fake.write_bytes(b"junk")
    (tmp_path / "model.hdf5.json").write_text('{"graph_converter": {"cutoff": 5, "bond_converter": {"centers": [0, 1], "width": 0.5}}}')
    with pytest.raises(CheckpointError, match="model.hdf5: not a readable HDF5 file"):
        load_parent(str(fake))
    (tmp_path / "model.hdf5.json").unlink()
    with pytest.raises(CheckpointError, match=r"model.hdf5.json: no such file; a megnet .hdf5 needs its .json sidecar"):
        load_parent(str(fake))


def test_a_missing_model_file_is_named_not_taken_for_a_name(tmp_path):
    with pytest.raises(CheckpointError, match="nothere.ckpt: no such file"):
        load_parent("nothere.ckpt")
    with pytest.raises(CheckpointError, match="no such file"):
        load_parent(str(tmp_path / "parent.pt"))
