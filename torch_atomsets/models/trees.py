"""Gradient-boosted trees as a torch module: the network of a ``GBT-<levels>`` child.

The trees are grown by scikit-learn's histogram gradient boosting
(:func:`torch_atomsets.training.trees.train_trees`) and copied here into plain tensors, so a
trained GBT child is an ordinary :class:`~torch_atomsets.lightning.ChildModule`: saved in a
``weights_only`` checkpoint (no pickled estimator), predicted on CPU or GPU, and exported to
``.pt2`` / ONNX like any other child.

Each tree is a node table padded to a common size: ``feature``, ``threshold`` (go left when
``x[feature] <= threshold``), ``left`` / ``right`` (child node), ``missing_left`` (where a NaN
goes) and ``value`` (a leaf's output). A leaf points to itself, so ``depth`` steps of
"move every sample one level down" reach every sample's leaf in every tree at once.
"""
from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np
import torch
from torch import Tensor, nn


class GradientBoostedTrees(nn.Module):
    """``sum_t value_t[leaf_t(x)] + baseline`` over ``n_trees`` regression trees of at most
    ``n_nodes`` nodes and ``depth`` levels, on inputs of ``in_channels`` features. Empty
    (all leaves of value 0) until :meth:`load_trees` or a state dict fills it."""

    def __init__(self, in_channels: int, n_trees: int, n_nodes: int, depth: int):
        super().__init__()
        self.in_channels, self.n_trees, self.n_nodes, self.depth = int(in_channels), int(n_trees), int(n_nodes), int(depth)
        shape = (self.n_trees, self.n_nodes)
        self.register_buffer("feature", torch.zeros(shape, dtype=torch.long))
        self.register_buffer("threshold", torch.full(shape, float("inf")))
        self.register_buffer("left", torch.arange(self.n_nodes).repeat(self.n_trees, 1))
        self.register_buffer("right", torch.arange(self.n_nodes).repeat(self.n_trees, 1))
        self.register_buffer("missing_left", torch.ones(shape, dtype=torch.bool))
        self.register_buffer("value", torch.zeros(shape))
        self.register_buffer("baseline", torch.zeros(()))

    @staticmethod
    def shape_of(trees: Sequence) -> List[int]:
        """``[n_trees, n_nodes, depth]`` of scikit-learn ``TreePredictor`` objects."""
        n_nodes = max(len(t.nodes) for t in trees)
        depth = max(int(t.nodes["depth"].max()) for t in trees)
        return [len(trees), n_nodes, max(depth, 1)]

    def load_trees(self, trees: Sequence, baseline: float) -> "GradientBoostedTrees":
        """Copy scikit-learn ``TreePredictor`` node tables (numeric splits only) into the
        buffers. Thresholds are rounded down to float32, so ``x <= threshold`` decides the
        same for every float32 input as scikit-learn's float64 comparison."""
        shape = self.shape_of(trees)
        if len(trees) != self.n_trees or shape[1] > self.n_nodes or shape[2] > self.depth:
            raise ValueError(f"{len(trees)} trees of shape {shape} do not fit a module of "
                             f"{[self.n_trees, self.n_nodes, self.depth]}")
        n = self.n_nodes
        feature = np.zeros((self.n_trees, n), np.int64)
        threshold = np.full((self.n_trees, n), np.inf, np.float32)
        left = np.tile(np.arange(n), (self.n_trees, 1))
        right = left.copy()
        missing = np.ones((self.n_trees, n), bool)
        value = np.zeros((self.n_trees, n), np.float64)
        for t, tree in enumerate(trees):
            nodes = tree.nodes
            if "is_categorical" in nodes.dtype.names and nodes["is_categorical"].any():
                raise ValueError("categorical splits are not supported")
            k = len(nodes)
            split = ~nodes["is_leaf"].astype(bool)
            feature[t, :k] = np.where(split, nodes["feature_idx"], 0)
            t64 = nodes["num_threshold"].astype(np.float64)
            t32 = t64.astype(np.float32)
            above = t32.astype(np.float64) > t64
            t32[above] = np.nextafter(t32[above], np.float32(-np.inf))
            threshold[t, :k] = np.where(split, t32, np.inf)
            left[t, :k] = np.where(split, nodes["left"], np.arange(k))
            right[t, :k] = np.where(split, nodes["right"], np.arange(k))
            missing[t, :k] = np.where(split, nodes["missing_go_to_left"].astype(bool), True)
            value[t, :k] = np.where(split, 0.0, nodes["value"])
        with torch.no_grad():
            self.feature.copy_(torch.from_numpy(feature))
            self.threshold.copy_(torch.from_numpy(threshold))
            self.left.copy_(torch.from_numpy(left))
            self.right.copy_(torch.from_numpy(right))
            self.missing_left.copy_(torch.from_numpy(missing))
            self.value.copy_(torch.from_numpy(value.astype(np.float32)))
            self.baseline.fill_(float(baseline))
        return self

    def leaves(self, x: Tensor) -> Tensor:
        """The leaf each sample reaches in each tree, ``(B, n_trees)``."""
        offset = torch.arange(self.n_trees, device=x.device) * self.n_nodes
        feature, threshold = self.feature.flatten(), self.threshold.flatten()
        left, right, missing = self.left.flatten(), self.right.flatten(), self.missing_left.flatten()
        node = offset.expand(x.shape[0], self.n_trees)
        for _ in range(self.depth):
            values = torch.gather(x, 1, feature[node])
            go_left = (values <= threshold[node]) | (torch.isnan(values) & missing[node])
            node = torch.where(go_left, left[node], right[node]) + offset
        return node - offset

    def contributions(self, x: Tensor) -> Tensor:
        """Each tree's output per sample, ``(B, n_trees)`` (without the baseline)."""
        node = self.leaves(x) + torch.arange(self.n_trees, device=x.device) * self.n_nodes
        return self.value.flatten()[node]

    def forward(self, x: Tensor) -> Tensor:
        """Raw output ``(B, 1)``: the sum of the trees plus the baseline."""
        return (self.contributions(x.to(self.threshold.dtype)).sum(dim=1) + self.baseline).unsqueeze(-1)

    def extra_repr(self) -> str:
        return f"in_channels={self.in_channels}, n_trees={self.n_trees}, n_nodes={self.n_nodes}, depth={self.depth}"


__all__ = ["GradientBoostedTrees"]
