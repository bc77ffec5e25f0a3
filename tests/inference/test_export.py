"""Exported programs (torch.export and ONNX) give the eager numbers on batches they were not
traced with; the parent compiles without graph breaks and runs in float16."""
import numpy as np
import pytest
import torch
from pymatgen.core import Lattice, Structure

from torch_atomsets.data.graphs import GraphBatch
from torch_atomsets.inference import export

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def other_graphs(parent_2019, small_structures):
    """Structures the example batch does not hold: other atom, bond and graph counts."""
    po = Structure(Lattice.cubic(3.36), ["Po"], [[0, 0, 0]])
    structures = small_structures[2:] + [po]
    return GraphBatch.from_arrays([parent_2019.converter.arrays(s) for s in structures])


def test_parent_exports_and_matches_eager_on_other_structures(tmp_path, parent_2019, other_graphs):
    program = export.ParentProgram(parent_2019.model)
    example = export.graph_arguments(export.example_graphs(parent_2019.model), 2)
    paths = export.export_program(program, example, export.GRAPH_INPUTS, str(tmp_path / "p.pt2"),
                                  str(tmp_path / "p.onnx"), program.outputs)
    arguments = export.graph_arguments(other_graphs, 2)
    assert arguments[0].shape != example[0].shape and arguments[3].shape != example[3].shape
    with torch.no_grad():
        eager = program(*arguments)
        loaded = torch.export.load(paths["pt2"]).module()(*arguments)
    for name, a, b in zip(program.outputs, eager, loaded):
        assert torch.allclose(a, b, atol=1e-5, rtol=0), name
    onnxruntime = pytest.importorskip("onnxruntime")
    session = onnxruntime.InferenceSession(paths["onnx"], providers=["CPUExecutionProvider"])
    outputs = session.run(None, {i.name: a.numpy() for i, a in zip(session.get_inputs(), arguments)})
    for name, a, b in zip(program.outputs, eager, outputs):
        assert np.allclose(a.numpy(), b, atol=2e-5, rtol=1e-6), name


def test_parent_compiles_without_graph_breaks_and_runs_in_float16(parent_2019, li2o):
    import copy

    import torch._dynamo as dynamo

    program = export.ParentProgram(parent_2019.model)
    arguments = export.graph_arguments(GraphBatch.from_arrays([parent_2019.converter.arrays(li2o)]), 2)
    with torch.no_grad():
        explanation = dynamo.explain(program)(*arguments)
    assert explanation.graph_break_count == 0, explanation.break_reasons
    half = copy.deepcopy(parent_2019.model).half()
    with torch.no_grad():
        out = half(arguments[0], arguments[1], arguments[2].half(), arguments[3].half(), arguments[4], 1)
    assert out.prediction.dtype == torch.float16
    assert all(torch.isfinite(t).all() for t in (out.prediction, out.f, *out.atom_features))
    assert abs(float(out.prediction) - (-2.0152957)) < 0.05


def _trained_child(tmp_path, data, model, weights_dir):
    from torch_atomsets.data.datasets import paper_split
    from torch_atomsets.inference import ChildPredictor
    from torch_atomsets.training import ChildConfig, train_model

    train_model(data, paper_split(len(data), 0), ChildConfig.of(model=model, max_epochs=2, n_neurons=16), seed=0,
                run_dir=str(tmp_path / model), weights_dir=weights_dir)
    return ChildPredictor(str(tmp_path / model / "best.ckpt"), weights_dir)


@pytest.mark.parametrize("model", ["AtomSets", "AtomSets-V0", "MLP-V0-stats", "AtomSets-V0+E", "MLP-V0-stats+E-stats",
                                   "GBT-V0-stats+E-stats",
                                   "AtomSets-E"])
def test_composition_children_export(model, tmp_path, weights_dir):
    from child_data import regression_data

    predictor = _trained_child(tmp_path, regression_data(60), model, weights_dir)
    program = export.child_program(predictor.module, predictor.model)
    paths = export.export_program(program, export.set_arguments(), export.SET_INPUTS, str(tmp_path / "c.pt2"))
    formulas = ["Fe2O3", "Cu", "LiFeO2", "NaCl", "Ni3Al"]  # elements the toy data holds
    arguments = export.set_arguments(formulas)
    with torch.no_grad():
        exported = torch.export.load(paths["pt2"]).module()(*arguments).numpy()
    expected, failures = predictor.predict(formulas)
    assert not failures and np.allclose(exported, expected, atol=1e-5)


@pytest.mark.parametrize("model", ["AtomSets-V1+f", "AtomSets-V1+E"])
def test_a_structure_child_exports_end_to_end(model, tmp_path, weights_dir, data_dir, other_graphs, small_structures):
    from torch_atomsets.data.datasets import load_task

    data = load_task("matbench_phonons", allow_download=False).subset(np.arange(60))
    predictor = _trained_child(tmp_path, data, model, weights_dir)
    program = export.child_program(predictor.module, predictor.model)
    example = export.graph_arguments(export.example_graphs(predictor.model), 2)
    paths = export.export_program(program, example, export.GRAPH_INPUTS, str(tmp_path / "v1.pt2"))
    with torch.no_grad():
        exported = torch.export.load(paths["pt2"]).module()(*export.graph_arguments(other_graphs, 2)).numpy()
    expected, failures = predictor.predict(small_structures[2:] + [Structure(Lattice.cubic(3.36), ["Po"], [[0, 0, 0]])])
    assert not failures and np.allclose(exported, expected, atol=1e-4, rtol=1e-6)


def test_export_command(tmp_path, weights_dir, capsys):
    from torch_atomsets.cli import main

    out = tmp_path / "parent"
    assert main(["export", "--output", str(out), "--formats", "pt2", "--weights-dir", weights_dir, "--offline"]) == 0
    assert (tmp_path / "parent.pt2").exists() and (tmp_path / "parent.json").exists()
    assert main(["export", "--output", str(out), "--formats", "pt2", "--weights-dir", weights_dir]) == 2
    assert "exists; use --force" in capsys.readouterr().err
