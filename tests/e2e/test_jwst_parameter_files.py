"""Parameter files written by jwst 3.0.0 itself load and run unchanged.

The corpus in ``tests/data/jwst_parameter_files`` was written by jwst 3.0.0's own
``export_config`` and ``strun --save-parameters`` (see the README there): the
Detector1 pipeline with all 20 steps and every parameter, each step on its own,
and non-default variants. Every file must load, name a step steppe provides,
set only parameters steppe knows, and run.
"""

from __future__ import annotations

from pathlib import Path

import asdf
import numpy as np
import pytest

from builtin_steps.pipelines.detector1 import STEP_ORDER, Detector1Pipeline
from pipeline_core import Step
from pipeline_core.config.parfile import read_parameter_file
from tests.e2e._samples import STEM, UNCAL, cli_overrides, step_overrides

CORPUS = Path(__file__).resolve().parents[1] / "data" / "jwst_parameter_files"
FILES = sorted(CORPUS.glob("*.asdf"))
STEP_FILES = [f for f in FILES if f.stem in STEP_ORDER]
samples = pytest.mark.skipif(not UNCAL["level1b"].exists(), reason="JWST sample files not available")


def _tree(path: Path) -> dict:
    with asdf.open(path, lazy_load=False) as af:
        return {k: v for k, v in af.tree.items() if k in ("class", "name", "parameters", "steps")}


def test_the_corpus_has_the_pipeline_and_every_step():
    assert {f.stem for f in STEP_FILES} == set(STEP_ORDER)
    steps = _tree(CORPUS / "calwebb_detector1.asdf")["steps"]
    assert [s["name"] for s in steps] == list(STEP_ORDER)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_jwst_file_builds_the_step_it_names(path):
    tree = _tree(path)
    step = Step.from_config_file(path)
    assert tree["class"] in (type(step).class_path(), *type(step).legacy_class_paths)
    for name, value in tree["parameters"].items():
        if name in ("input_dir", "output_ext", "output_use_model", "output_use_index", "search_output_file"):
            continue
        assert hasattr(step, name), f"{path.name}: parameter {name} is not known"
    for entry in tree.get("steps", ()):
        sub = getattr(step, entry["name"])
        for name, value in entry["parameters"].items():
            assert hasattr(sub, name), f"{path.name}: {entry['name']}.{name} is not known"
        assert sub.skip is entry["parameters"]["skip"]


@pytest.mark.parametrize("path", STEP_FILES, ids=lambda p: p.stem)
def test_each_step_has_jwst_parameters_and_defaults(path):
    """Every parameter jwst 3.0 exports for a step exists in steppe with the same default."""
    tree = _tree(path)
    cls = type(Step.from_config_file(path))
    defaults = cls()
    different = {}
    for name, value in tree["parameters"].items():
        if name in ("input_dir", "output_ext", "output_use_model", "output_use_index", "search_output_file"):
            continue
        ours = getattr(defaults, name)
        if name == "maximum_cores":
            # jwst writes '1'; steppe's default 'none' is the same single process
            assert str(ours).lower() in ("none", "1"), ours
            continue
        if ours != value and not (ours in (None, "") and value in (None, "")):
            different[name] = (value, ours)
    assert not different, f"{cls.class_alias}: defaults differ from jwst 3.0 (jwst, steppe): {different}"
    own = set(cls.param_specs()) - set(tree["parameters"])
    own -= {f"override_{r}" for r in cls.reference_file_types}
    assert own <= {"maximum_cores"}, f"{cls.class_alias}: parameters jwst 3.0 does not have: {own}"


def test_the_default_file_configures_the_default_pipeline():
    from_file = Step.from_config_file(CORPUS / "calwebb_detector1.asdf")
    assert isinstance(from_file, Detector1Pipeline)
    coded = Detector1Pipeline()
    for name in STEP_ORDER:
        ours, theirs = getattr(coded, name).get_pars(), getattr(from_file, name).get_pars()
        assert theirs.pop("input_dir") in ("", None)  # jwst writes '' for the default None
        ours.pop("input_dir")
        if "maximum_cores" in ours:  # jwst's '1' and steppe's 'none' both mean one process
            assert str(theirs.pop("maximum_cores")) == "1" and ours.pop("maximum_cores") == "none"
        assert theirs == ours, name


def _overrides() -> dict:
    steps = step_overrides()
    steps.setdefault("ipc", {})["override_ipc"] = "N/A"
    steps.setdefault("refpix", {})["override_sirskernel"] = "N/A"
    steps["saturation"]["override_superbias"] = steps["superbias"]["override_superbias"]
    return steps


@samples
def test_the_jwst_detector1_file_runs_unchanged(tmp_path):
    path = CORPUS / "calwebb_detector1.asdf"
    rate = Detector1Pipeline.call(
        str(UNCAL["level1b"]), config_file=str(path), steps=_overrides(),
        save_results=True, output_dir=str(tmp_path),
    )
    plain = Detector1Pipeline.call(str(UNCAL["level1b"]), steps=_overrides())
    np.testing.assert_array_equal(rate.data, plain.data)
    np.testing.assert_array_equal(rate.dq, plain.dq)
    cal = rate.meta.cal_step
    # off by default in jwst 3.0, or MIRI only: skipped, as jwst records them
    assert (cal.ipc, cal.persistence, cal.charge_migration, cal.clean_flicker_noise) == ("SKIPPED",) * 4
    assert (cal.jump, cal.ramp_fit, cal.superbias, cal.refpix) == ("COMPLETE",) * 4
    assert (tmp_path / f"{STEM}_rate.fits").exists() and (tmp_path / f"{STEM}_rateints.fits").exists()


@samples
@pytest.mark.parametrize(
    "name",
    ["calwebb_detector1_variant_jump5_norefpix_likely_flicker", "calwebb_detector1_variant_miri_style",
     "strun_calwebb_detector1", "strun_calwebb_detector1_variant"],
)
def test_jwst_variant_files_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a variant saves the calibrated ramp
    path = CORPUS / f"{name}.asdf"
    rate = Detector1Pipeline.call(str(UNCAL["level1b"]), config_file=str(path), steps=_overrides())
    assert rate.data.shape == (64, 64)
    assert np.isfinite(rate.data).mean() > 0.9


@samples
def test_jwst_parameter_file_runs_from_the_command_line(tmp_path):
    from pipeline_core.cli.main import run_cli

    path = CORPUS / "calwebb_detector1.asdf"
    extra = ["--steps.ipc.override_ipc=N/A", "--steps.refpix.override_sirskernel=N/A",
             f"--steps.saturation.override_superbias={step_overrides()['superbias']['override_superbias']}"]
    argv = ["run", str(path), str(UNCAL["level1b"]), "--save-results", "--output-dir", str(tmp_path)]
    assert run_cli(argv + cli_overrides() + extra) == 0
    assert (tmp_path / f"{STEM}_rate.fits").exists()


@samples
def test_a_jwst_steps_dict_is_accepted():
    """The ``steps=`` keys jwst 3.0 users pass, including the new reference overrides."""
    steps = _overrides()
    steps["refpix"].update({"refpix_algorithm": "sirs", "siglimit": 3.0})
    steps["jump"].update({"expand_large_events": True, "find_showers": False})
    steps["clean_flicker_noise"] = {"skip": False, "fit_method": "median"}
    rate = Detector1Pipeline.call(str(UNCAL["level1b"]), steps=steps)
    assert rate.meta.cal_step.clean_flicker_noise == "COMPLETE"


def test_read_parameter_file_keeps_every_step_of_the_jwst_file():
    config = read_parameter_file(CORPUS / "calwebb_detector1.asdf")
    assert [s.name for s in config.steps] == list(STEP_ORDER)
