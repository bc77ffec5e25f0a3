"""Published numbers: the AtomSets paper's Table 2, Table S3 and Table S4, and the MatBench v0.1
leaderboard rows used for comparison. Values are (mean, std) or a single number (mean
over folds); ``None`` where the paper has a dash.

Units as the paper reports them: regression MAE in the task's unit (yield strength in
MPa although the paper's header says GPa; perovskites and mp_e_form in meV/atom);
classification ROC-AUC.
"""

TABLE2_MODELS = ["AtomSets", "AtomSets-V0", "AtomSets-V1", "AtomSets-V2", "AtomSets-V3", "MLP-f", "MEGNet"]
TABLES4_MODELS = ["MLP-V0-stats", "MLP-u1", "MLP-u2", "MLP-u3", "MLP-v_r", "Dummy"]

# task: {model: value}; "MEGNet" and "AutoMatminer" in Table 2 are Dunn et al.'s MatBench numbers
PAPER = {
    "matbench_steels": {"AtomSets": (109, 14), "AtomSets-V0": (90, 25), "AutoMatminer": 95,
                        "MLP-V0-stats": (107, 28), "Dummy": 230},
    "matbench_jdft2d": {"AtomSets": (52, 7), "AtomSets-V0": (51, 6), "AtomSets-V1": (40, 5), "AtomSets-V2": (48, 9),
                        "AtomSets-V3": (54, 7), "MLP-f": (55, 2), "MEGNet": 56, "AutoMatminer": 39,
                        "MLP-V0-stats": (61, 8), "MLP-u1": (47, 5), "MLP-u2": (57, 6), "MLP-u3": (62, 10),
                        "MLP-v_r": (63, 9), "Dummy": 67},
    "matbench_phonons": {"AtomSets": (63, 6), "AtomSets-V0": (52, 7), "AtomSets-V1": (54, 9), "AtomSets-V2": (106, 4),
                         "AtomSets-V3": (126, 75), "MLP-f": (154, 8), "MEGNet": 37, "AutoMatminer": 51,
                         "MLP-V0-stats": (111, 10), "MLP-u1": (120, 13), "MLP-u2": (224, 13), "MLP-u3": (233, 34),
                         "MLP-v_r": (188, 15), "Dummy": 324},
    "matbench_expt_gap": {"AtomSets": (0.45, 0.02), "AtomSets-V0": (0.43, 0.03), "AutoMatminer": 0.42,
                          "MLP-V0-stats": (0.61, 0.03), "Dummy": 1.14},
    "matbench_dielectric": {"AtomSets": (0.51, 0.05), "AtomSets-V0": (0.47, 0.05), "AtomSets-V1": (0.46, 0.03),
                            "AtomSets-V2": (0.52, 0.08), "AtomSets-V3": (0.56, 0.06), "MLP-f": (0.59, 0.05),
                            "MEGNet": 0.48, "AutoMatminer": 0.30, "MLP-V0-stats": (0.59, 0.03),
                            "MLP-u1": (0.56, 0.03), "MLP-u2": (0.65, 0.05), "MLP-u3": (0.67, 0.06),
                            "MLP-v_r": (0.55, 0.03), "Dummy": 0.81},
    "matbench_log_kvrh": {"AtomSets": (0.09, 0.00), "AtomSets-V0": (0.09, 0.00), "AtomSets-V1": (0.07, 0.00),
                          "AtomSets-V2": (0.09, 0.00), "AtomSets-V3": (0.15, 0.07), "MLP-f": (0.10, 0.00),
                          "MEGNet": 0.07, "AutoMatminer": 0.07, "MLP-V0-stats": (0.11, 0.00),
                          "MLP-u1": (0.10, 0.00), "MLP-u2": (0.15, 0.00), "MLP-u3": (0.18, 0.01),
                          "MLP-v_r": (0.12, 0.00), "Dummy": 0.29},
    "matbench_log_gvrh": {"AtomSets": (0.11, 0.00), "AtomSets-V0": (0.11, 0.00), "AtomSets-V1": (0.09, 0.00),
                          "AtomSets-V2": (0.10, 0.00), "AtomSets-V3": (0.14, 0.08), "MLP-f": (0.11, 0.00),
                          "MEGNet": 0.09, "AutoMatminer": 0.09, "MLP-V0-stats": (0.13, 0.01),
                          "MLP-u1": (0.12, 0.00), "MLP-u2": (0.16, 0.01), "MLP-u3": (0.18, 0.01),
                          "MLP-v_r": (0.13, 0.00), "Dummy": 0.29},
    "matbench_perovskites": {"AtomSets": (83, 1), "AtomSets-V0": (83, 1), "AtomSets-V1": (12, 0),
                             "AtomSets-V2": (24, 0), "AtomSets-V3": (113, 1), "MLP-f": (30, 0), "MEGNet": 8,
                             "AutoMatminer": 39, "MLP-V0-stats": (87, 2), "MLP-u1": (40, 1), "MLP-u2": (51, 1),
                             "MLP-u3": (43, 0), "MLP-v_r": (39, 1), "Dummy": 113},
    "matbench_mp_gap": {"AtomSets": (0.26, 0.00), "AtomSets-V0": (0.27, 0.00), "AtomSets-V1": (0.25, 0.01),
                        "AtomSets-V2": (0.30, 0.01), "AtomSets-V3": (0.30, 0.01), "MLP-f": (0.37, 0.00),
                        "MEGNet": 0.24, "AutoMatminer": 0.28, "MLP-V0-stats": (0.46, 0.01), "MLP-u1": (0.57, 0.01),
                        "MLP-u2": (0.60, 0.01), "MLP-u3": (0.57, 0.01), "MLP-v_r": (0.44, 0.00), "Dummy": 1.33},
    "matbench_mp_e_form": {"AtomSets": (107, 2), "AtomSets-V0": (108, 1), "AtomSets-V1": (44, 1),
                           "AtomSets-V2": (66, 0), "AtomSets-V3": (73, 1), "MLP-f": (17, 0), "MEGNet": 33,
                           "AutoMatminer": 173, "MLP-V0-stats": (157, 2), "MLP-u1": (125, 1), "MLP-u2": (180, 1),
                           "MLP-u3": (138, 2), "MLP-v_r": (79, 1), "Dummy": 1010},
    "matbench_expt_is_metal": {"AtomSets": (0.94, 0.02), "AtomSets-V0": (0.94, 0.01), "AutoMatminer": 0.92,
                               "MLP-V0-stats": (0.95, 0.01), "Dummy": 0.50},
    "matbench_glass": {"AtomSets": (0.92, 0.02), "AtomSets-V0": (0.92, 0.01), "AutoMatminer": 0.86,
                       "MLP-V0-stats": (0.92, 0.01), "Dummy": 0.50},
    "matbench_mp_is_metal": {"AtomSets": (0.95, 0.00), "AtomSets-V0": (0.95, 0.00), "AtomSets-V1": (0.96, 0.00),
                             "AtomSets-V2": (0.95, 0.00), "AtomSets-V3": (0.96, 0.00), "MLP-f": (0.96, 0.00),
                             "MEGNet": 0.98, "AutoMatminer": 0.91, "MLP-V0-stats": (0.94, 0.00),
                             "MLP-u1": (0.94, 0.00), "MLP-u2": (0.93, 0.00), "MLP-u3": (0.93, 0.00),
                             "MLP-v_r": (0.95, 0.00), "Dummy": 0.50},
}

# Table S3 (AtomSets with the best Table S2 parameters; paper protocol): task -> {column: value}
TABLE_S3 = {
    "matbench_steels": {"AtomSets-V0+": (90, 25)},
    "matbench_jdft2d": {"AtomSets-V0+": (42, 8), "AtomSets-V1+": (40, 5)},
    "matbench_phonons": {"AtomSets-V0+": (48, 5), "AtomSets-V1+": (54, 9)},
    "matbench_expt_gap": {"AtomSets-V0+": (0.42, 0.03)},
    "matbench_dielectric": {"AtomSets-V0+": (0.46, 0.05), "AtomSets-V1+": (0.44, 0.04)},
    "matbench_expt_is_metal": {"AtomSets-V0+": (0.95, 0.01)},
    "matbench_glass": {"AtomSets-V0+": (0.92, 0.01)},
    "matbench_log_kvrh": {"AtomSets-V0+": (0.08, 0.00), "AtomSets-V1+": (0.07, 0.00)},
    "matbench_log_gvrh": {"AtomSets-V0+": (0.11, 0.00), "AtomSets-V1+": (0.08, 0.00)},
    "matbench_perovskites": {"AtomSets-V0+": (83, 1), "AtomSets-V1+": (10, 0)},
    "matbench_mp_gap": {"AtomSets-V0+": (0.26, 0.00), "AtomSets-V1+": (0.23, 0.01)},
    "matbench_mp_is_metal": {"AtomSets-V0+": (0.95, 0.00), "AtomSets-V1+": (0.96, 0.00)},
    "matbench_mp_e_form": {"AtomSets-V0+": (106, 1), "AtomSets-V1+": (41, 1)},
}

# The targets (paper protocol): task -> {model: (comparison, bound)}
TARGETS = {
    "matbench_phonons": {"AtomSets-V1": ("<=", 60), "AtomSets-V0": ("<=", 58)},
    "matbench_dielectric": {"AtomSets-V1": ("<=", 0.50)},
    "matbench_jdft2d": {"AtomSets-V1": ("<=", 46)},
    "matbench_expt_gap": {"AtomSets-V0": ("<=", 0.46)},
    "matbench_expt_is_metal": {"AtomSets-V0": (">=", 0.93)},
    "matbench_glass": {"AtomSets-V0": (">=", 0.91)},
    "matbench_steels": {"AtomSets-V0": ("<=", 110)},
    "matbench_perovskites": {"AtomSets-V1": ("<=", 15)},
}

# MatBench v0.1 leaderboard (mean over the 5 official folds), from
# materialsproject/matbench docs_src/Leaderboards Per-Task/matbench_v0.1_<task>.md at the
# commits given; "best" is the top-ranked row of that page.
LEADERBOARD = {
    "matbench_phonons": {"source": "3e8421bb2fa37acb14d22082d080d646870bc5c6",
                         "best": ("MegNet (kgcnn v2.1.0)", 28.7606), "MEGNet": ("MegNet (kgcnn v2.1.0)", 28.7606),
                         "AMMExpress": ("AMMExpress v2020", 56.1706), "Dummy": ("Dummy", 323.9822)},
    "matbench_dielectric": {"source": "3e8421bb2fa37acb14d22082d080d646870bc5c6",
                            "best": ("MODNet (v0.1.12)", 0.2711), "MEGNet": ("MegNet (kgcnn v2.1.0)", 0.3391),
                            "AMMExpress": ("AMMExpress v2020", 0.3150), "Dummy": ("Dummy", 0.8088)},
    "matbench_jdft2d": {"source": "3e8421bb2fa37acb14d22082d080d646870bc5c6",
                        "best": ("MODNet (v0.1.12)", 33.1918), "MEGNet": ("MegNet (kgcnn v2.1.0)", 54.1719),
                        "AMMExpress": ("AMMExpress v2020", 39.8497), "Dummy": ("Dummy", 67.2851)},
    "matbench_steels": {"source": "bb3eebf475ceac45e257f36c05cec7773b5ebb43",
                        "best": ("TPOT-Mat", 79.9468), "AMMExpress": ("AMMExpress v2020", 97.4929),
                        "Dummy": ("Dummy", 229.7445)},
    "matbench_expt_gap": {"source": "2370a43fef5939581d1862d28b224358d754a04d",
                          "best": ("Ax/SAASBO CrabNet v1.2.7", 0.3310), "AMMExpress": ("AMMExpress v2020", 0.4161),
                          "Dummy": ("Dummy", 1.1435)},
    "matbench_expt_is_metal": {"source": "200ebec0a63d430f0bb635a0b39eb2b4dfce25e7",
                               "best": ("AMMExpress v2020", 0.9209), "AMMExpress": ("AMMExpress v2020", 0.9209),
                               "Dummy": ("Dummy", 0.4924)},
    "matbench_glass": {"source": "741718976b6ffb14b4f0dc7a663c72fc419c5d33",
                       "best": ("MODNet (v0.1.12)", 0.9603), "AMMExpress": ("AMMExpress v2020", 0.8607),
                       "Dummy": ("Dummy", 0.5005)},
}


def paper_best(task: str):
    """``(model, value)``: the best number the paper gives for ``task`` from its own models
    (AtomSets*, MLP-*, Table 2, S3 and S4; not MEGNet, AutoMatminer or the dummy)."""
    own = {m: v[0] for m, v in PAPER.get(task, {}).items()
           if isinstance(v, tuple) and not m.startswith(("MEGNet", "AutoMatminer", "Dummy"))}
    own.update({m: v[0] for m, v in TABLE_S3.get(task, {}).items()})
    if not own:
        return None
    higher = task.endswith(("is_metal", "glass"))
    model = (max if higher else min)(own, key=own.get)
    return model, own[model]
