"""Parents and trained children as exported programs: ``torch.export`` (``.pt2``) and ONNX.

A *parent program* takes a batch of crystal graphs and returns the prediction and every
feature level. A *child program* takes what the child's level needs and returns the
child's predictions in the target's unit (probabilities for a classifier, calibrated):

- levels of elements only (``Z``, ``V0``, ``V0-stats``, ``E``, ``E-stats``; formulas or structures): an element
  set ``(z, weight, index, sets)``: atomic numbers, amounts, the set of each row and one
  entry per set (its values unused: its length is the number of sets);
- levels that need the parent's forward pass (``V1``.., ``u1``.., ``f``, ``v_r``, ``e_r`` and
  their sums): the crystal graphs, run through the parent inside the program.

Graph inputs are ``(z, edge_index, edge_distance, state, batch)`` as
:meth:`~torch_atomsets.data.graphs.GraphBatch` holds them (``edge_index[1]`` the centre
atom, ``state`` ``(graphs, state_dim)``). Atom, bond, set and graph counts are dynamic: one
program takes any batch.
"""
from __future__ import annotations

import json
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from ..data.features.sets import STATISTICS_OF, weighted_statistics_by_index
from ..data.graphs.batch import GraphBatch
from ..data.graphs.converter import CrystalGraphConverter
from ..errors import AtomSetsInputError
from ..data.inputs.elements import element_table
from ..levels import TABLE_SOURCES, parent_output_levels, parse_levels
from ..lightning.child import ChildModule
from ..models.megnet import MEGNet
from ..models.registry import child_input

GRAPH_INPUTS = ("z", "edge_index", "edge_distance", "state", "batch")
SET_INPUTS = ("z", "weight", "index", "sets")


class ParentProgram(nn.Module):
    """A parent as a function of graph tensors: ``(prediction, V0..Vn, u1..un, f, v_r, e_r)``."""

    def __init__(self, model: MEGNet):
        super().__init__()
        self.model = model.eval()
        self.outputs = ["prediction"] + list(parent_output_levels(model.num_blocks))

    def forward(self, z: Tensor, edge_index: Tensor, edge_distance: Tensor, state: Tensor, batch: Tensor):
        out = self.model(z, edge_index, edge_distance, state, batch, state.shape[0])
        return tuple(out.level(name) for name in self.outputs)


class ChildProgram(nn.Module):
    """A trained child, end to end from element sets or crystal graphs (module docstring)."""

    def __init__(self, module: ChildModule, parent: Optional[MEGNet] = None):
        super().__init__()
        self.module = module.eval()
        self.levels = parse_levels(module.level)
        self.parent = parent.eval() if parent is not None and self.levels.needs_forward else None
        if self.levels.needs_forward and self.parent is None:
            raise AtomSetsInputError(f"{module.hparams.model} reads {module.level}: exporting it needs its parent")
        needs_embedding = any(p.needs_parent and not p.needs_forward for p in self.levels.parts)
        if needs_embedding and not self.levels.needs_forward:  # V0, V0-stats from element sets
            if parent is None:
                raise AtomSetsInputError(f"{module.hparams.model} reads {module.level}: exporting it needs its parent")
            self.register_buffer("table", parent.embedding.weight.detach().float().clone())
        if any(p.source in TABLE_SOURCES for p in self.levels.parts):  # E, E-stats
            self.register_buffer("elements", torch.from_numpy(element_table()))
        self.inputs = GRAPH_INPUTS if self.levels.needs_forward else SET_INPUTS

    def _from_sets(self, z: Tensor, weight: Tensor, index: Tensor, sets: Tensor) -> Tensor:
        num_sets = sets.shape[0]
        network = self.module.network
        if self.levels.is_atomic_numbers:
            return network(z, index, weight, num_sets)
        blocks = []
        for part in self.levels.parts:
            source = STATISTICS_OF.get(part.source, part.source)
            rows = (self.table if source == "embedding" else self.elements)[z]
            if part.source in STATISTICS_OF:  # V0-stats, E-stats
                rows = weighted_statistics_by_index(rows, weight, index, num_sets)
                if self.levels.per == "atom":
                    rows = rows[index]
            blocks.append(rows)
        x = torch.cat(blocks, dim=1) if len(blocks) > 1 else blocks[0]
        if self.levels.per == "structure":
            return network(x)
        return network(x, index, weight, num_sets)

    def _from_graphs(self, z, edge_index, edge_distance, state, batch) -> Tensor:
        num_graphs = state.shape[0]
        out = self.parent(z, edge_index, edge_distance, state, batch, num_graphs)
        tables = {"elements": self.elements} if hasattr(self, "elements") else None
        x = child_input(out, self.levels, batch, z, tables, num_graphs)
        network = self.module.network
        if self.levels.per == "structure":
            return network(x)
        return network(x, batch, x.new_ones(x.shape[0]), num_graphs)



class SetChildProgram(ChildProgram):
    """A child of element levels, from element sets ``(z, weight, index, sets)``."""

    def forward(self, z: Tensor, weight: Tensor, index: Tensor, sets: Tensor) -> Tensor:
        return self.module.output(self._from_sets(z, weight, index, sets).squeeze(-1))


class GraphChildProgram(ChildProgram):
    """A child of parent levels, from crystal graphs through the parent."""

    def forward(self, z: Tensor, edge_index: Tensor, edge_distance: Tensor, state: Tensor, batch: Tensor) -> Tensor:
        return self.module.output(self._from_graphs(z, edge_index, edge_distance, state, batch).squeeze(-1))


def child_program(module: ChildModule, parent: Optional[MEGNet] = None) -> ChildProgram:
    """The program of a trained child: from crystal graphs when its level needs the parent's
    forward pass, from element sets otherwise."""
    needs_graphs = parse_levels(module.level).needs_forward
    return (GraphChildProgram if needs_graphs else SetChildProgram)(module, parent)


def example_graphs(model: MEGNet) -> GraphBatch:
    """Two small crystals (Li2O and rock-salt NaCl, built in code) as a graph batch."""
    from pymatgen.core import Lattice, Structure

    li2o = Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.65), ["O", "Li"], [[0, 0, 0], [0.25, 0.25, 0.25]])
    nacl = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    converter = CrystalGraphConverter.for_model(model)
    return GraphBatch.from_arrays([converter.arrays(s.get_primitive_structure(), "example") for s in (li2o, nacl)])


def graph_arguments(graphs: GraphBatch, state_dim: int) -> Tuple[Tensor, ...]:
    return (graphs.z, graphs.edge_index, graphs.edge_distance, torch.zeros(graphs.num_graphs, state_dim),
            graphs.batch)


def set_arguments(formulas: Sequence[str] = ("Fe2O3", "NaCl", "LiFePO4")) -> Tuple[Tensor, ...]:
    from ..data.inputs.compositions import element_sets

    z, weight, ptr = element_sets(list(formulas))
    counts = torch.from_numpy(ptr[1:] - ptr[:-1])
    index = torch.repeat_interleave(torch.arange(len(formulas)), counts)
    return torch.from_numpy(z), torch.from_numpy(weight), index, torch.zeros(len(formulas))


def dynamic_shapes(inputs: Sequence[str]):
    atoms, bonds, graphs = torch.export.Dim("atoms", min=1), torch.export.Dim("bonds", min=1), \
        torch.export.Dim("graphs", min=1)
    if tuple(inputs) == GRAPH_INPUTS:
        return ({0: atoms}, {1: bonds}, {0: bonds}, {0: graphs}, {0: atoms})
    rows, sets = torch.export.Dim("rows", min=1), torch.export.Dim("sets", min=1)
    return ({0: rows}, {0: rows}, {0: rows}, {0: sets})


def export_program(program: nn.Module, arguments: Tuple[Tensor, ...], inputs: Sequence[str],
                   path_pt2: Optional[str] = None, path_onnx: Optional[str] = None,
                   outputs: Optional[List[str]] = None) -> Dict[str, str]:
    """``torch.export`` a program (dynamic sizes) and write it as ``.pt2`` and/or ``.onnx``
    (the ONNX file through torch's dynamo exporter: the ``export`` extra), traced in eval mode
    (the program's own mode is restored afterwards). Returns the paths."""
    shapes = dynamic_shapes(inputs)
    was_training = program.training
    program.eval()
    try:
        return _export(program, arguments, inputs, shapes, path_pt2, path_onnx, outputs)
    finally:
        program.train(was_training)


def _export(program, arguments, inputs, shapes, path_pt2, path_onnx, outputs) -> Dict[str, str]:
    with torch.no_grad():
        exported = torch.export.export(program, arguments, dynamic_shapes=shapes)
    written = {}
    if path_pt2:
        torch.export.save(exported, path_pt2)
        written["pt2"] = path_pt2
    if path_onnx:
        try:
            import onnxscript  # noqa: F401  (the dynamo exporter needs it)
        except ImportError:
            raise AtomSetsInputError("ONNX export needs the export extra: pip install 'torch_atomsets[export]'") \
                from None
        with torch.no_grad():
            torch.onnx.export(program, arguments, path_onnx, dynamic_shapes=shapes, dynamo=True,
                              input_names=list(inputs), output_names=outputs, external_data=False, verbose=False)
        written["onnx"] = path_onnx
    return written


def describe(program: nn.Module, kind: str, metadata: dict) -> dict:
    """What the exported files take and return (written beside them as JSON)."""
    outputs = getattr(program, "outputs", ["prediction"])
    return {"kind": kind, "inputs": list(program.inputs if hasattr(program, "inputs") else GRAPH_INPUTS),
            "outputs": outputs, **metadata,
            "input_notes": {"z": "atomic numbers (int64)", "edge_index": "(2, bonds) neighbour, centre (int64)",
                            "edge_distance": "bond lengths in Angstrom (float32)",
                            "state": "(graphs, state_dim) global state (zeros for the published parents)",
                            "batch": "graph of each atom (int64)", "weight": "amount of each element (float32)",
                            "index": "set of each row (int64)", "sets": "one entry per set (its length counts)"}}


def write_description(path: str, description: dict) -> str:
    with open(path, "w") as handle:
        json.dump(description, handle, indent=1)
    return path


__all__ = ["ChildProgram", "GraphChildProgram", "ParentProgram", "SetChildProgram", "child_program", "describe", "example_graphs", "export_program", "graph_arguments",
           "set_arguments"]
