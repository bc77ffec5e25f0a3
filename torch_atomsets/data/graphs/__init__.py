"""Crystal graphs: the converter the parents need, inference batches, and an on-disk PyG
dataset for training a MEGNet."""
from .batch import MAX_BONDS, GraphBatch, iter_graph_batches, max_bonds_for
from .compress import CompressedBatch, colour_refinement, compress, forward_compressed
from .converter import MIN_DISTANCE, CrystalGraphConverter
from .dataset import CrystalGraphDataset, graph_dataset

__all__ = ["MAX_BONDS", "MIN_DISTANCE", "CompressedBatch", "CrystalGraphConverter", "colour_refinement", "compress", "forward_compressed", "CrystalGraphDataset", "GraphBatch",
           "graph_dataset", "iter_graph_batches", "max_bonds_for"]
