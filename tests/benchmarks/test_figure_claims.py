"""The paper's qualitative claims as the figure reports count them (Fig. 2 and Fig. 3)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "benchmarks"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "benchmarks", "figures"))


def _row(dataset, model, fraction, mean):
    return {"dataset": dataset, "model": model, "fraction": fraction, "mean": mean}


def test_fig2_claims_count_pairs_with_both_models_and_read_auc_as_higher_is_better():
    import fig2

    table = [
        # glass is a classification dataset: the higher AUC is ahead
        _row("matbench_glass", "AtomSets", 0.01, 0.80), _row("matbench_glass", "AtomSets-V0", 0.01, 0.85),
        _row("matbench_glass", "AtomSets", 0.1, 0.90), _row("matbench_glass", "AtomSets-V0", 0.1, 0.88),
        # expt_gap is a regression: the lower MAE is ahead; 0.02 has one model only and is not counted
        _row("matbench_expt_gap", "AtomSets", 0.01, 0.60), _row("matbench_expt_gap", "AtomSets-V0", 0.01, 0.50),
        _row("matbench_expt_gap", "AtomSets", 0.02, 0.55),
        _row("matbench_dielectric", "AtomSets-V0", 0.01, 0.70), _row("matbench_dielectric", "AtomSets-V1", 0.01, 0.60),
    ]
    claims = fig2.check_claims(table)
    assert claims["AtomSets-V0 ahead of AtomSets"] == "2 of 3 (dataset, fraction) pairs"
    assert claims["AtomSets-V1 ahead of AtomSets-V0 (structure datasets)"] == "1 of 1 (dataset, fraction) pairs"
    assert claims["MLP-f ahead of AtomSets-V0 (structure datasets)"] is None  # no MLP-f cell: not run, not "0 of 0"


def test_fig3_megnet_claim_only_counts_sizes_up_to_2000():
    import fig3

    d = "matbench_mp_gap_approx"
    table = [{"dataset": d, "model": m, "size": n, "mean": v}
             for m, n, v in [("AtomSets-V1", 600, 0.6), ("MEGNet", 600, 0.8), ("AtomSets-V1", 4000, 0.5),
                             ("MEGNet", 4000, 0.4)]]
    claims = fig3.check_claims(table)
    assert claims["AtomSets-V1 below MEGNet up to 2,000 (regression MAE)"] == "1 of 1 (dataset, size) pairs"
    assert claims["MLP-f AUC on mp_is_metal at 200 points > 0.85"] is None
