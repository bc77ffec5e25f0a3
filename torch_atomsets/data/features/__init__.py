"""Features for children: the parent run over datasets, the on-disk cache, and set stores."""
from .cache import FeatureCache, StoredFeatures
from .extract import run_parent
from .sets import SetBatch, SetStore, Store, VectorStore, build_store, gather_sets, weighted_statistics

__all__ = ["FeatureCache", "SetBatch", "SetStore", "Store", "StoredFeatures", "VectorStore", "build_store",
           "gather_sets", "run_parent", "weighted_statistics"]
