#!/usr/bin/env python
"""Seconds per training epoch of maml's Keras AtomSets (the reference implementation), on
inputs written by our side, so both sides train on identical numbers.

Runs INSIDE the maml/Keras environment (keras/reference.py says how to build it; maml
2025.4.3 installed there with ``pip install maml==2025.4.3 --no-deps``); speed/children.py
calls it with --maml-python, one fresh process per round:

    python benchmarks/keras/maml_children.py --inputs FILE.npz --epochs N --batch-size B \
        --readout {mean,set2set} --loss {mae,mse}

FILE.npz holds
    z      int, concatenated atomic numbers (embedding model "AtomSets"), or
    x      float32 (rows, F), concatenated per-site/per-element feature rows (AtomSets-Vi),
    ptr    int64 (n + 1,) row offsets of each sample,
    weight float32 (rows,) weight of each row (1, occupancies or amounts),
    y      float32 (n,) target of each sample,
    train, val  int64 sample positions.

The model is our package's default child: 2 dense layers of 64 (relu) before the readout,
2 of 64 after, one linear output; embedding width 32 for the embedding model; Adam, lr 1e-3.
Set2Set: T = 3 and n_hidden = 64 (the width of the rows it reads, as in our
WeightedSet2Set(width, width)); maml's own default n_hidden is 512 (--s2s-hidden 512).
maml's Set2Set differs from ours (Keras 2 hard-sigmoid gates, the cell never carried), so
like-for-like speed comparisons use the weighted mean readout, identical on both sides.

An epoch is timed from Keras' on_epoch_begin to on_epoch_end (time.perf_counter), so it
includes its validation pass on `val`. TensorFlow runs on one thread (intra- and
inter-op), set before any TF op (--threads 0: TensorFlow's default).
Prints ONE JSON line.
"""
import argparse
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inputs", required=True, help=".npz with z or x, ptr, weight, y, train, val")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--readout", choices=["mean", "set2set"], default="set2set")
    parser.add_argument("--loss", choices=["mae", "mse"], default="mae")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--n-neurons", type=int, default=64)
    parser.add_argument("--n-layer-before-readout", type=int, default=2)
    parser.add_argument("--n-layer-after-readout", type=int, default=2)
    parser.add_argument("--embedding-dim", type=int, default=32)
    parser.add_argument("--embedding-vocab", type=int, default=104, help="max Z + 1 (ours: 104; maml's default 95)")
    parser.add_argument("--s2s-steps", type=int, default=3)
    parser.add_argument("--s2s-hidden", type=int, default=None,
                        help="Set2Set n_hidden (default: width of its input rows, i.e. n_neurons)")
    parser.add_argument("--threads", type=int, default=1, help="TF intra/inter-op threads (0: TF default)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    # One thread, before TensorFlow runs any op (maml's layers import TF but run nothing).
    import tensorflow as tf

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)

    import maml
    import numpy as np
    from maml.models import AtomSets

    tf.keras.utils.set_random_seed(args.seed)  # python, numpy (maml's shuffle) and TF

    data = np.load(args.inputs)
    is_embedding = "z" in data.files
    rows = data["z"] if is_embedding else data["x"]
    ptr = data["ptr"].astype(np.int64)
    weight = data["weight"].astype(np.float32)
    y = data["y"].astype(np.float32).reshape(len(ptr) - 1, -1)
    n_targets = y.shape[1]
    if is_embedding:
        rows = rows.astype(np.int32).reshape(-1, 1)  # maml takes (n_sites, 1) and uses [..., 0]
    else:
        rows = rows.astype(np.float32)

    def samples(positions):
        # maml's per-sample [features, weights] pairs (a list of two: its generator's test)
        feats = [[rows[ptr[i]:ptr[i + 1]], weight[ptr[i]:ptr[i + 1]]] for i in positions]
        return feats, [y[i] for i in positions]

    train_x, train_y = samples(data["train"])
    val_x, val_y = samples(data["val"])

    kwargs = {}
    if args.readout == "set2set":
        kwargs = dict(T=args.s2s_steps, n_hidden=args.s2s_hidden or args.n_neurons)
    model = AtomSets(
        input_dim=None if is_embedding else rows.shape[1],
        is_embedding=is_embedding,
        n_neurons=(args.n_neurons,) * args.n_layer_before_readout,
        n_neurons_final=(args.n_neurons,) * args.n_layer_after_readout,
        n_targets=n_targets,
        activation="relu",
        embedding_vcal=args.embedding_vocab,
        embedding_dim=args.embedding_dim,
        symmetry_func=args.readout,
        optimizer=tf.keras.optimizers.Adam(learning_rate=args.lr),
        loss=args.loss,
        **kwargs,
    )

    class EpochTimer(tf.keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds, self.logs = [], []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._start)
            self.logs.append({k: float(v) for k, v in (logs or {}).items()})

    timer = EpochTimer()
    start = time.perf_counter()
    model.fit(train_x, train_y, val_features=val_x, val_targets=val_y, epochs=args.epochs,
              batch_size=args.batch_size, callbacks=[timer], verbose=0)
    wall = time.perf_counter() - start
    print(json.dumps({
        "seconds_per_epoch": timer.seconds,
        "median": statistics.median(timer.seconds),
        "n_train": len(train_x), "n_val": len(val_x), "n_rows": int(ptr[-1]),
        "model": "AtomSets (embedding)" if is_embedding else f"AtomSets on {rows.shape[1]} features",
        "readout": args.readout, "loss": args.loss, "batch_size": args.batch_size, "epochs": args.epochs,
        "lr": args.lr, "set2set": kwargs or None, "n_parameters": int(model.model.count_params()),
        "last_epoch": timer.logs[-1] if timer.logs else None, "fit_wall_seconds": wall,
        "tf_threads": {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                       "inter_op": tf.config.threading.get_inter_op_parallelism_threads()},
        "maml_version": getattr(maml, "__version__", None), "tensorflow": tf.__version__,
    }))


if __name__ == "__main__":
    main()
