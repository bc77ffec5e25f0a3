"""Shared fixtures. Data and weights come from ../shared (or $TORCH_ATOMSETS_HOME).

When TORCH_ATOMSETS_REQUIRE_SHARED=1 (set by .ci/run), a test that cannot find them
fails instead of skipping.
"""
import os
import pathlib

import pytest
import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures"


def shared_dir() -> pathlib.Path:
    return pathlib.Path(os.environ.get("TORCH_ATOMSETS_HOME") or ROOT.parent / "shared")


def require_shared(*parts: str) -> pathlib.Path:
    """Path under the shared folder; skip (or fail, in CI) when it is not there."""
    path = shared_dir().joinpath(*parts)
    if not path.exists():
        message = f"needs {path} (set TORCH_ATOMSETS_HOME to the shared folder)"
        if os.environ.get("TORCH_ATOMSETS_REQUIRE_SHARED") == "1":
            pytest.fail(message + "; TORCH_ATOMSETS_REQUIRE_SHARED=1 forbids skipping")
        pytest.skip(message)
    return path


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _no_user_cache(tmp_path_factory, monkeypatch):
    # Never read or write the user's real cache from tests.
    monkeypatch.setenv("TORCH_ATOMSETS_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture()
def no_home(monkeypatch):
    """No shared folder configured anywhere: neither the environment variables nor the
    settings file the setup script writes into the virtual environment."""
    from torch_atomsets.utils import paths

    for name in ("TORCH_ATOMSETS_HOME", "TORCH_ATOMSETS_DATA", "TORCH_ATOMSETS_WEIGHTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(paths, "settings", lambda: {})


@pytest.fixture(scope="session")
def data_dir() -> str:
    """../shared/data; also exported as TORCH_ATOMSETS_DATA for code that looks it up."""
    path = str(require_shared("data"))
    os.environ["TORCH_ATOMSETS_DATA"] = path
    return path


@pytest.fixture(scope="session")
def weights_dir() -> str:
    return str(require_shared("models"))


@pytest.fixture(scope="session")
def parent_2019(weights_dir):
    from torch_atomsets import load_parent

    return load_parent("mp-2019.4.1", weights_dir=weights_dir, allow_download=False)


@pytest.fixture(scope="session")
def li2o():
    import pymatgen.util
    from pymatgen.core import Structure

    path = pathlib.Path(list(pymatgen.util.__path__)[0]) / "structures" / "Li2O.json"
    return Structure.from_file(str(path))


@pytest.fixture(scope="session")
def small_structures(li2o):
    """A few ordered crystals built in code (no shared data needed)."""
    from pymatgen.core import Lattice, Structure

    nacl = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    cu = Structure(Lattice.cubic(3.61), ["Cu"] * 4, [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    si = Structure.from_spacegroup("Fd-3m", Lattice.cubic(5.43), ["Si"], [[0, 0, 0]]).get_primitive_structure()
    gan = Structure.from_spacegroup("P6_3mc", Lattice.hexagonal(3.19, 5.19), ["Ga", "N"],
                                    [[1 / 3, 2 / 3, 0], [1 / 3, 2 / 3, 0.377]])
    return [li2o, nacl.get_primitive_structure(), cu, si, gan]
