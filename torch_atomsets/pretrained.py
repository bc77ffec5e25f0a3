"""Published MEGNet parents: registry, local lookup, download with checksum, and the
conversion of their Keras ``.hdf5`` weights into :class:`~torch_atomsets.models.MEGNet`.

Where files are looked for, in order (first hit wins; every hit is checksum-verified):

1. ``weights_dir`` given by the caller (``--weights-dir`` on the command line),
2. ``$TORCH_ATOMSETS_WEIGHTS``,
3. ``$TORCH_ATOMSETS_HOME/models``,
4. the download cache, ``$TORCH_ATOMSETS_CACHE/models`` (default
   ``~/.cache/torch_atomsets/models``).

Inside each folder a parent's files sit at ``megnet/<version>/<file>`` (the layout of
megnet's ``mvl_models``) or ``<version>/<file>``. If no folder has them, they are
downloaded from GitHub into the cache and verified.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

from .models.megnet import MEGNet
from .utils import cache_dir, lookup_dirs, sha256sum  # noqa: F401  (cache_dir, sha256sum: public here too)


class ChecksumError(RuntimeError):
    """A weights or data file does not have the sha256 it must have."""


class WeightsNotFoundError(FileNotFoundError):
    """A pretrained model is neither in a local folder nor downloadable."""


@dataclass(frozen=True)
class PretrainedParent:
    """One published MEGNet parent."""

    name: str
    aliases: Tuple[str, ...]
    description: str
    files: Dict[str, str]  # file name -> sha256
    base_url: str
    weights_file: str = "formation_energy.hdf5"
    unit: str = "eV/atom"
    target: str = "formation energy"
    extra: Dict[str, str] = field(default_factory=dict)

    def url(self, filename: str) -> str:
        return f"{self.base_url}/{filename}"

    @property
    def sidecar_file(self) -> str:
        return self.weights_file + ".json"


_MEGNET_RAW = "https://github.com/materialsvirtuallab/megnet/raw/master/mvl_models"

REGISTRY: Dict[str, PretrainedParent] = {
    "mp-2019.4.1": PretrainedParent(
        name="mp-2019.4.1",
        aliases=("Eform_MP_2019", "2019", "eform_mp_2019"),
        description="MEGNet formation energy, 133,420 Materials Project crystals (2019.4.1); "
                    "test MAE 0.026 eV/atom; the AtomSets paper's parent",
        files={
            "formation_energy.hdf5": "51de7e372f9fdbd10a519c3fd3cbf6fcd1039cc58e092c85b0f4fef49964f57b",
            "formation_energy.hdf5.json": "8727d8d0ab2686c4ac1c06f9ed8bdba7e63abaeac1287cff2e3c7263bf0b4b5b",
        },
        base_url=f"{_MEGNET_RAW}/mp-2019.4.1",
    ),
    "mp-2018.6.1": PretrainedParent(
        name="mp-2018.6.1",
        aliases=("Eform_MP_2018", "2018", "eform_mp_2018"),
        description="MEGNet formation energy, 69,239 Materials Project crystals (2018.6.1); "
                    "test MAE 0.028 eV/atom",
        files={
            "formation_energy.hdf5": "82363f6ef74747f67bccd75fa0237dfaab5f0da519bf5f9cf8f4bcc11c53712b",
            "formation_energy.hdf5.json": "46566670b0c5ab13ebe6497ea3383fe772e90fe62517282448387694896cabd0",
        },
        base_url=f"{_MEGNET_RAW}/mp-2018.6.1",
    ),
}

DEFAULT_PARENT = "mp-2019.4.1"


def resolve_name(name: Optional[str]) -> PretrainedParent:
    """The registry entry for a version name or an alias (case-insensitive)."""
    name = name or DEFAULT_PARENT
    for entry in REGISTRY.values():
        if name == entry.name or name.lower() in {a.lower() for a in entry.aliases}:
            return entry
    known = ", ".join(f"{e.name} ({', '.join(e.aliases[:1])})" for e in REGISTRY.values())
    raise KeyError(f"unknown pretrained parent {name!r}; known: {known}")


def search_dirs(weights_dir: Optional[str] = None) -> List[str]:
    """Model folders in lookup order (see the module docstring)."""
    return lookup_dirs(weights_dir, "TORCH_ATOMSETS_WEIGHTS", "models")


def verify(path: str, expected: str) -> None:
    """Raise :class:`ChecksumError` unless ``path`` has sha256 ``expected``."""
    actual = sha256sum(path)
    if actual != expected:
        raise ChecksumError(
            f"{path}: sha256 {actual} does not match the published {expected}; the file is "
            "corrupted or not the official one. Delete it (or fix the folder) and retry.")


def download(url: str, destination: str, sha256: Optional[str] = None, timeout: float = 60.0) -> str:
    """Download ``url`` to ``destination`` atomically, verifying ``sha256`` first.

    An existing file at ``destination`` is never overwritten by a failed download.
    """
    os.makedirs(os.path.dirname(destination) or ".", exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=".download-", dir=os.path.dirname(destination) or ".")
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            shutil.copyfileobj(response, out)
        if sha256 is not None:
            actual = sha256sum(tmp)
            if actual != sha256:
                raise ChecksumError(f"download of {url}: sha256 {actual} does not match the "
                                    f"published {sha256}")
        os.replace(tmp, destination)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return destination


def locate(entry: PretrainedParent, weights_dir: Optional[str] = None,
           allow_download: bool = True) -> Dict[str, str]:
    """Paths of a parent's files, verified; downloads them when no folder has them."""
    searched = []
    for base in search_dirs(weights_dir):
        for sub in (os.path.join(base, "megnet", entry.name), os.path.join(base, entry.name)):
            searched.append(sub)
            paths = {f: os.path.join(sub, f) for f in entry.files}
            if all(os.path.isfile(p) for p in paths.values()):
                for f, p in paths.items():
                    verify(p, entry.files[f])
                return paths
            if os.path.isfile(paths[entry.weights_file]):
                missing = [f for f, p in paths.items() if not os.path.isfile(p)]
                raise WeightsNotFoundError(f"{sub}: has {entry.weights_file} but not {missing}")
    if not allow_download:
        raise WeightsNotFoundError(
            f"pretrained parent {entry.name} not found in: {', '.join(searched)}; point "
            "--weights-dir or TORCH_ATOMSETS_WEIGHTS at a folder holding "
            f"megnet/{entry.name}/{entry.weights_file}")
    target = os.path.join(cache_dir(), "models", "megnet", entry.name)
    paths = {}
    for f, sha in entry.files.items():
        try:
            paths[f] = download(entry.url(f), os.path.join(target, f), sha)
        except ChecksumError:
            raise
        except Exception as exc:
            raise WeightsNotFoundError(
                f"pretrained parent {entry.name}: not in any local folder ({', '.join(searched)}) "
                f"and the download of {entry.url(f)} failed ({exc}). Without internet, point "
                "--weights-dir or TORCH_ATOMSETS_WEIGHTS at a folder holding "
                f"megnet/{entry.name}/{entry.weights_file}") from exc
    return paths


# -- Keras hdf5 -> torch ---------------------------------------------------------------

def _read_keras_weights(h5_path: str) -> Tuple[Dict[str, np.ndarray], dict]:
    import h5py

    try:
        handle = h5py.File(h5_path, "r")
    except OSError as exc:
        raise ValueError(f"{h5_path}: not a readable HDF5 file ({exc})") from exc
    with handle:
        if "model_weights" not in handle:
            raise ValueError(f"{h5_path}: no 'model_weights' group; not a Keras model file")
        weights: Dict[str, np.ndarray] = {}

        def collect(name, obj):
            if isinstance(obj, h5py.Dataset):
                weights[name] = np.asarray(obj[()])

        handle["model_weights"].visititems(collect)
        config = handle.attrs.get("model_config")
        config = json.loads(config if isinstance(config, str) else config.decode()) if config is not None else {}
    return weights, config


def _keras_layer_configs(model_config: dict) -> Dict[str, dict]:
    layers = model_config.get("config", {}).get("layers", [])
    return {layer["config"].get("name", layer.get("name")): dict(layer["config"], class_name=layer["class_name"])
            for layer in layers}


def _var(weights: Dict[str, np.ndarray], layer: str, var: str) -> np.ndarray:
    # Keras 2 stores model_weights/<layer>/<layer>/.../<var>:0
    suffix = f"/{var}:0"
    hits = [k for k in weights if k.split("/")[0] == layer and k.endswith(suffix)]
    if len(hits) != 1:
        raise ValueError(f"Keras weights: expected one {layer}/{var}, found {hits}")
    return weights[hits[0]]


def megnet_from_keras(h5_path: str, sidecar_path: Optional[str] = None) -> Tuple[MEGNet, dict]:
    """Build a :class:`MEGNet` holding the weights of a megnet Keras ``.hdf5`` file.

    Graph settings (cutoff, Gaussian centres and width) come from the ``.json``
    sidecar; the architecture (blocks, widths, Set2Set steps, activations) from the
    model config stored in the hdf5, which is checked against what this port supports.
    Returns ``(model, metadata)``.
    """
    sidecar_path = sidecar_path or h5_path + ".json"
    try:
        with open(sidecar_path) as handle:
            sidecar = json.load(handle)
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise ValueError(f"{sidecar_path}: not a readable megnet sidecar JSON ({exc})") from exc
    try:
        graph = sidecar["graph_converter"]
        bond = graph["bond_converter"]
        centers = bond["centers"]["data"] if isinstance(bond["centers"], dict) else bond["centers"]
        width = float(bond["width"])
        cutoff = float(graph["cutoff"])
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{sidecar_path}: missing graph settings ({exc})") from exc

    weights, model_config = _read_keras_weights(h5_path)
    layers = _keras_layer_configs(model_config)
    megnet_layers = sorted((n for n, c in layers.items() if c["class_name"] == "MEGNetLayer"),
                           key=lambda n: int(n.rsplit("_", 1)[1]))
    set2sets = sorted((n for n, c in layers.items() if c["class_name"] == "Set2Set"),
                      key=lambda n: int(n.rsplit("_", 1)[1]))
    if not megnet_layers or len(set2sets) != 2:
        raise ValueError(f"{h5_path}: not a MEGNet crystal model (layers: {sorted(layers)})")
    for n in megnet_layers:
        c = layers[n]
        if c.get("activation") != "softplus2" or c.get("pool_method", "mean") != "mean":
            raise ValueError(f"{h5_path}: {n} uses {c.get('activation')}/{c.get('pool_method')}, "
                             "only softplus2 with mean pooling is supported")
    s2s = layers[set2sets[0]]
    if s2s.get("recurrent_activation") != "hard_sigmoid" or s2s.get("activation_lstm") != "tanh":
        raise ValueError(f"{h5_path}: Set2Set gates {s2s.get('recurrent_activation')}/"
                         f"{s2s.get('activation_lstm')} are not supported")

    embedding = _var(weights, "embedding_1", "embeddings")
    phi_e0 = _var(weights, megnet_layers[0], "weight_e_0")
    channels = _var(weights, megnet_layers[0], "weight_e_2").shape[1]
    state_dim = _var(weights, "dense_5", "kernel").shape[0]
    head_first = 7 + 6 * (len(megnet_layers) - 1)
    model = MEGNet(
        num_blocks=len(megnet_layers), max_z=embedding.shape[0] - 1,
        embedding_dim=embedding.shape[1], channels=channels,
        encoder_hidden=_var(weights, "dense_1", "kernel").shape[1],
        conv_hidden=[phi_e0.shape[1], _var(weights, megnet_layers[0], "weight_e_1").shape[1]],
        ff_hidden=_var(weights, "dense_7", "kernel").shape[1] if len(megnet_layers) > 1 else 64,
        gaussian_centers=centers, gaussian_width=width, cutoff=cutoff, state_dim=state_dim,
        set2set_hidden=int(s2s["n_hidden"]), set2set_steps=int(s2s["T"]),
        readout_hidden=[_var(weights, f"dense_{head_first + i}", "kernel").shape[1] for i in range(2)],
        out_dim=_var(weights, f"dense_{head_first + 2}", "kernel").shape[1],
    )

    state: Dict[str, torch.Tensor] = {}

    def dense(prefix: str, layer: str) -> None:
        state[f"{prefix}.weight"] = torch.from_numpy(_var(weights, layer, "kernel").T.copy())
        state[f"{prefix}.bias"] = torch.from_numpy(_var(weights, layer, "bias").copy())

    def mlp(prefix: str, layer_names: List[str]) -> None:
        module = model.get_submodule(prefix)
        indices = [i for i, m in enumerate(module) if isinstance(m, torch.nn.Linear)]
        for index, layer in zip(indices, layer_names):
            dense(f"{prefix}.{index}", layer)

    state["embedding.weight"] = torch.from_numpy(embedding.copy())
    state["expansion.centers"] = model.expansion.centers.clone()
    mlp("atom_encoder", ["dense_1", "dense_2"])
    mlp("bond_encoder", ["dense_3", "dense_4"])
    mlp("state_encoder", ["dense_5", "dense_6"])
    for b, keras_name in enumerate(megnet_layers):
        for part in ("e", "v", "u"):
            module = model.get_submodule(f"blocks.{b}.conv.phi_{part}")
            indices = [i for i, m in enumerate(module) if isinstance(m, torch.nn.Linear)]
            for k, index in enumerate(indices):
                prefix = f"blocks.{b}.conv.phi_{part}.{index}"
                state[f"{prefix}.weight"] = torch.from_numpy(_var(weights, keras_name, f"weight_{part}_{k}").T.copy())
                state[f"{prefix}.bias"] = torch.from_numpy(_var(weights, keras_name, f"bias_{part}_{k}").copy())
        if b > 0:
            first = 7 + 6 * (b - 1)
            mlp(f"blocks.{b}.ff_atom", [f"dense_{first}", f"dense_{first + 1}"])
            mlp(f"blocks.{b}.ff_bond", [f"dense_{first + 2}", f"dense_{first + 3}"])
            mlp(f"blocks.{b}.ff_state", [f"dense_{first + 4}", f"dense_{first + 5}"])
    for prefix, keras_name in (("atom_readout", set2sets[0]), ("bond_readout", set2sets[1])):
        state[f"{prefix}.memory.weight"] = torch.from_numpy(_var(weights, keras_name, "x_to_m_weight").T.copy())
        state[f"{prefix}.memory.bias"] = torch.from_numpy(_var(weights, keras_name, "x_to_m_bias").copy())
        state[f"{prefix}.recurrent.weight"] = torch.from_numpy(_var(weights, keras_name, "recurrent_kernel").T.copy())
        state[f"{prefix}.recurrent.bias"] = torch.from_numpy(_var(weights, keras_name, "recurrent_bias").copy())
    mlp("head", [f"dense_{head_first + i}" for i in range(3)])
    state["target_mean"] = model.target_mean.clone()  # no target scaler in the published models
    state["target_std"] = model.target_std.clone()
    model.load_state_dict(state, strict=True)
    n_keras = sum(int(np.prod(w.shape)) for w in weights.values())
    n_torch = sum(p.numel() for p in model.parameters())
    if n_keras != n_torch:
        raise ValueError(f"{h5_path}: {n_keras} Keras parameters but {n_torch} were mapped")
    metadata = dict(sidecar.get("metadata") or {})
    metadata.setdefault("unit", "eV/atom")
    metadata["source"] = os.path.abspath(h5_path)
    return model.eval(), metadata


def load_pretrained(name: Optional[str] = None, weights_dir: Optional[str] = None,
                    allow_download: bool = True) -> Tuple[MEGNet, dict]:
    """A published parent (default: the 2019 formation-energy model) as a
    :class:`MEGNet` in eval mode, with its metadata. See the module docstring for
    where files are looked for."""
    entry = resolve_name(name)
    paths = locate(entry, weights_dir, allow_download)
    model, metadata = megnet_from_keras(paths[entry.weights_file], paths[entry.sidecar_file])
    metadata.update(name=entry.name, description=entry.description, unit=entry.unit,
                    target=entry.target, sha256=entry.files[entry.weights_file])
    return model, metadata
