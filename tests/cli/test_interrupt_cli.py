"""Ctrl-C or SIGTERM during `atomsets train`: exit 130 / 143, one line saying what was kept,
no partial split."""
import os
import signal
import subprocess
import sys
import time

import pytest

pytestmark = [pytest.mark.shared, pytest.mark.slow]


@pytest.mark.parametrize("signum,code,said", [(signal.SIGINT, 130, "interrupted"),
                                              (signal.SIGTERM, 143, "terminated (SIGTERM)")])
def test_ctrl_c_or_sigterm_during_training(tmp_path, data_dir, signum, code, said):
    results = tmp_path / "results"
    command = [sys.executable, "-m", "torch_atomsets", "train", "--task", "steels", "--model", "AtomSets",
               "--seeds", "0", "--max-epochs", "100000", "--patience", "100000", "--results-dir", str(results),
               "--quiet", "--threads", "1"]
    # A shell's background job inherits an ignored SIGINT; a user's terminal does not.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, PYTHONUNBUFFERED="1"),
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 120
    while time.time() < deadline and not list(results.rglob("*.partial/logs/metrics.csv")):
        time.sleep(0.2)
    assert list(results.rglob("*.partial")), "training did not start"
    time.sleep(1.0)
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    # SIGTERM used to end the run with status 0 and no word: Lightning's SIGTERMException is a SystemExit
    assert process.returncode == code, (out, err)
    assert err.strip().splitlines()[-1] == f"{said}: nothing of this split was kept", err
    assert "Traceback" not in err
    assert not list(results.rglob("*.partial")) and not list(results.rglob("best.ckpt"))
