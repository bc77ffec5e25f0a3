"""No host syncs in a forward or a training step: counted on the CPU, where each of the
calls below would make a GPU wait (tensor -> Python value)."""
import collections
import contextlib
import traceback

import pytest
import torch
from child_data import classification_data, regression_data

from torch_atomsets.data.datasets import paper_split
from torch_atomsets.lightning import ChildDataModule, ChildModule

CONVERSIONS = ("item", "__bool__", "__int__", "__float__", "tolist", "__index__")
#: torchmetrics checks whether scores need a sigmoid with a Python `if` on CPU only; on a
#: GPU the same function uses torch.where (no sync).
CPU_ONLY = ("torchmetrics/utilities/compute.py",)


@contextlib.contextmanager
def counted():
    calls = collections.Counter()
    originals = {name: getattr(torch.Tensor, name) for name in CONVERSIONS}

    def wrap(name):
        def call(self, *args, **kwargs):
            stack = traceback.extract_stack()[:-1]
            if not any(allowed in frame.filename for frame in stack for allowed in CPU_ONLY):
                caller = next(f for f in reversed(stack) if "test_host_syncs" not in f.filename)
                calls[f"{name} at {caller.filename.split('/')[-2]}/{caller.filename.split('/')[-1]}:{caller.lineno}"] += 1
            return originals[name](self, *args, **kwargs)
        return call

    for name in CONVERSIONS:
        setattr(torch.Tensor, name, wrap(name))
    try:
        yield calls
    finally:
        for name, original in originals.items():
            setattr(torch.Tensor, name, original)


@pytest.mark.parametrize("data", [regression_data(60), classification_data(60)], ids=["regression", "classification"])
@pytest.mark.parametrize("model", ["AtomSets", "AtomSets-V0"])
def test_child_steps_have_no_host_syncs(data, model, parent_2019):
    datamodule = ChildDataModule(data, "Z" if model == "AtomSets" else "V0", paper_split(len(data), 0), batch_size=16,
                                 parent=parent_2019)
    datamodule.setup()
    module = ChildModule(model=model, task_type=data.task_type)
    module.hparams.update(datamodule.facts())
    module.configure_model()
    batch = next(iter(datamodule.train_dataloader()))
    with counted() as calls:
        module.training_step(batch, 0).backward()
        module.validation_step(batch, 0)
        module.predict_step(batch, 0)
    assert not calls, dict(calls)


def test_parent_forward_has_no_host_syncs(parent_2019, small_structures):
    from torch_atomsets.data.graphs import GraphBatch

    graphs = GraphBatch.from_arrays([parent_2019.converter.arrays(s) for s in small_structures])
    model = parent_2019.model
    model.deduplicate_bonds = False  # what runs on a GPU (torch.unique would sync there)
    try:
        with counted() as calls, torch.no_grad():
            model(graphs.z, graphs.edge_index, graphs.edge_distance, None, graphs.batch, graphs.num_graphs)
    finally:
        model.deduplicate_bonds = True
    assert not calls, dict(calls)
