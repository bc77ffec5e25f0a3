"""A parent network run over many structures: graphs built, batched, forwarded, dropped.

This is the one loop behind every use of a parent's features: featurising a dataset into
the cache, and a user's ``predict`` / ``featurize`` (:mod:`torch_atomsets.inference`). The
network is passed in (anything with the :class:`~torch_atomsets.models.MEGNet` forward
signature), so the data layer needs no model code.
"""
from __future__ import annotations

from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch

from ...utils.progress import progress_bar
from ..graphs.batch import GraphBatch, iter_graph_batches, max_bonds_for
from ..graphs.compress import forward_compressed
from ..graphs.converter import CrystalGraphConverter


def _inputs(graphs: GraphBatch):
    return graphs.z, graphs.edge_index, graphs.edge_distance, None, graphs.batch, graphs.num_graphs


def run_parent(model, structures: Sequence, labels: Sequence[str], batch_size: int = 256,
               max_bonds: Optional[int] = None, failures: Optional[List[Tuple[int, str]]] = None,
               progress: Optional[bool] = None, converter: Optional[CrystalGraphConverter] = None,
               compressed: bool = True) -> Iterator[Tuple[np.ndarray, GraphBatch, object]]:
    """Run ``model`` over ``structures`` in batches, in order, without gradients.

    Yields ``(positions, graphs, output)`` per batch, ``positions`` being the structures'
    places in the input, ``graphs`` the batch (on the model's device) and ``output`` the
    model's :class:`~torch_atomsets.models.MEGNetOutput`. Batches close at ``batch_size``
    structures or ``max_bonds`` bonds (default: by device, see
    :data:`~torch_atomsets.data.graphs.batch.MAX_BONDS`); on a GPU they are built in pinned
    memory and copied without blocking.

    With ``compressed`` (the default) each batch runs on its symmetry-compressed graph
    (:func:`~torch_atomsets.data.graphs.compress`): the same outputs, to float32 rounding,
    for about half the work; per-atom outputs are copied back to every atom.

    A structure that cannot be converted raises its error (named by ``labels[i]``); with a
    ``failures`` list it is skipped and ``(position, message)`` appended.
    """
    device = next(model.parameters()).device
    converter = converter or CrystalGraphConverter.for_model(model)
    if max_bonds is None:
        max_bonds = max_bonds_for(device)
    pin = device.type == "cuda"
    bar = progress_bar(total=len(structures), desc="featurising", unit="structure", enable=progress)
    try:
        for positions, graphs in iter_graph_batches(structures, converter, labels, batch_size, max_bonds, failures,
                                                    bar, pin_memory=pin):
            if compressed:
                with torch.inference_mode():
                    output = forward_compressed(model, graphs, device=device)
            else:
                with torch.inference_mode():
                    output = model(*_inputs(graphs.to(device)))
            yield positions, graphs.to(device), output
    finally:
        bar.close()
