"""Fine-tuned children: frozen child first, then parent and head end to end; reload and predict."""
import json

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from torch_atomsets.data.datasets import Split, load_task
from torch_atomsets.models import model_spec
from torch_atomsets.training import ChildConfig
from torch_atomsets.training.finetune import train_finetune

pytestmark = pytest.mark.shared


def test_finetuned_child_trains_reloads_and_predicts(tmp_path, data_dir, weights_dir, capsys):
    assert model_spec("AtomSets-V1-FT").frozen.name == "AtomSets-V1"
    with pytest.raises(Exception, match="convolution levels"):
        model_spec("AtomSets-V0-FT")
    data = load_task("matbench_phonons", allow_download=False).subset(np.arange(80))
    split = Split(np.arange(0, 56), np.arange(56, 68), np.arange(68, 80), name="fixed")
    run = tmp_path / "run"
    result = train_finetune(data, split, ChildConfig.of(model="AtomSets-V1-FT", max_epochs=4, n_neurons=16), seed=0,
                            run_dir=str(run), weights_dir=weights_dir)
    assert np.isfinite(result["test"]) and np.isfinite(result["frozen_test"]) and result["n_test"] == 12
    assert {p.name for p in run.iterdir()} == {"frozen", "tuned", "metrics.json", "predictions.csv"}
    assert json.loads((run / "metrics.json").read_text())["test"] == result["test"]
    # the parent moved: its weights are not the published ones any more
    from torch_atomsets import load_parent
    from torch_atomsets.lightning import FineTuneModule

    tuned = FineTuneModule.load_from_checkpoint(run / "tuned" / "best.ckpt")
    published = load_parent("mp-2019.4.1", weights_dir=weights_dir, allow_download=False).model
    moved = [name for name, p in tuned.parent.named_parameters()
             if not np.allclose(p.detach().numpy(), published.state_dict()[name].numpy())]
    assert moved
    # predicts the test structures as the run did, from its checkpoint alone
    from torch_atomsets.inference.child import load_predictor

    predictor = load_predictor(str(run / "tuned" / "best.ckpt"))
    values, failures = predictor.predict(data.inputs[68:80] + ["Fe2O3"], names=[f"s{i}" for i in range(13)])
    structures = [Structure.from_dict(d) for d in data.inputs[68:80]]
    values2, _ = predictor.predict(structures)
    assert failures == [(12, "s12: AtomSets-V1-FT needs a crystal structure (a file), not a formula")]
    assert np.allclose(values[:12], result["predictions"]["prediction"], atol=1e-4)
    assert np.allclose(values2, values[:12])
    lonely = Structure(Lattice.cubic(9.0), ["Kr"], [[0, 0, 0]])
    _, failures = predictor.predict([lonely, structures[0]])
    assert failures and failures[0][0] == 0 and "no bond" in failures[0][1]
