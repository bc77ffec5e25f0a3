"""DDP on 2 CPU processes (gloo), the way CI proves multi-device training."""
import json
import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.shared, pytest.mark.slow]


def test_ddp_features_once_and_every_test_sample_counted_once(tmp_path, data_dir, weights_dir):
    script = os.path.join(os.path.dirname(__file__), "ddp_metrics_script.py")
    completed = subprocess.run([sys.executable, script, str(tmp_path)], capture_output=True, text=True,
                               timeout=900, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    assert completed.returncode == 0, completed.stderr[-3000:]
    single = json.loads((tmp_path / "single.json").read_text())
    ranks = [json.loads((tmp_path / f"ddp_rank{r}.json").read_text()) for r in (0, 1)]
    assert {r["world_size"] for r in ranks} == {2} and {r["backend"] for r in ranks} == {"gloo"}
    assert single["n_test"] == 11
    # 11 samples on 2 processes: shards of 6 and 5, no sample repeated to even them out
    assert sorted(r["shard"] for r in ranks) == [5, 6]
    for r in ranks:
        assert abs(r["test"] - single["test"]) <= 1e-6 * max(1.0, abs(single["test"])), (r["test"], single["test"])
    # the parent's features were computed by one process only
    assert sorted(r["builds"] for r in ranks) == [0, 1]
