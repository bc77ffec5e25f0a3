"""The conversion of megnet's Keras ``.hdf5`` weights into a
:class:`~torch_atomsets.models.MEGNet`, exactly (``../shared/docs/MEGNET_PORT.md``)."""
from __future__ import annotations

import json
import os
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

from ..errors import CheckpointError
from ..models.megnet import MEGNet


def _read_keras_weights(h5_path: str) -> Tuple[Dict[str, np.ndarray], dict]:
    import h5py

    try:
        handle = h5py.File(h5_path, "r")
    except OSError as exc:
        raise CheckpointError(f"{h5_path}: not a readable HDF5 file ({exc})") from exc
    with handle:
        if "model_weights" not in handle:
            raise CheckpointError(f"{h5_path}: no 'model_weights' group; not a Keras model file")
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
        raise CheckpointError(f"Keras weights: expected one {layer}/{var}, found {hits}")
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
        raise CheckpointError(f"{sidecar_path}: no such file; a megnet .hdf5 needs its .json sidecar (the graph "
                              "settings) beside it") from None
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{sidecar_path}: not a readable megnet sidecar JSON ({exc})") from exc
    try:
        graph = sidecar["graph_converter"]
        bond = graph["bond_converter"]
        centers = bond["centers"]["data"] if isinstance(bond["centers"], dict) else bond["centers"]
        width = float(bond["width"])
        cutoff = float(graph["cutoff"])
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"{sidecar_path}: missing graph settings ({exc})") from exc

    weights, model_config = _read_keras_weights(h5_path)
    layers = _keras_layer_configs(model_config)
    megnet_layers = sorted((n for n, c in layers.items() if c["class_name"] == "MEGNetLayer"),
                           key=lambda n: int(n.rsplit("_", 1)[1]))
    set2sets = sorted((n for n, c in layers.items() if c["class_name"] == "Set2Set"),
                      key=lambda n: int(n.rsplit("_", 1)[1]))
    if not megnet_layers or len(set2sets) != 2:
        raise CheckpointError(f"{h5_path}: not a MEGNet crystal model (layers: {sorted(layers)})")
    for n in megnet_layers:
        c = layers[n]
        if c.get("activation") != "softplus2" or c.get("pool_method", "mean") != "mean":
            raise CheckpointError(f"{h5_path}: {n} uses {c.get('activation')}/{c.get('pool_method')}, "
                             "only softplus2 with mean pooling is supported")
    s2s = layers[set2sets[0]]
    if s2s.get("recurrent_activation") != "hard_sigmoid" or s2s.get("activation_lstm") != "tanh":
        raise CheckpointError(f"{h5_path}: Set2Set gates {s2s.get('recurrent_activation')}/"
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
        raise CheckpointError(f"{h5_path}: {n_keras} Keras parameters but {n_torch} were mapped")
    metadata = dict(sidecar.get("metadata") or {})
    metadata.setdefault("unit", "eV/atom")
    metadata["source"] = os.path.abspath(h5_path)
    return model.eval(), metadata
