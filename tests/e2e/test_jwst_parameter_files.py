"""Existing JWST parameter files run unchanged on the sample exposure.

``JWST_DETECTOR1`` below is a ``calwebb_detector1`` parameter file in the layout
JWST 3.x writes (``strun --save-parameters`` / ``export_config``, or a CRDS
``pars-detector1pipeline`` file): JWST class paths, the stpipe common parameters
of every step, and every step of JWST's Detector1 with all of its parameters,
including the steps steppe does not provide (MIRI-only ones, ipc, persistence,
charge_migration, picture_frame, clean_flicker_noise) and the reference-pixel
parameters of algorithms steppe does not implement.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from builtin_steps.pipelines.detector1 import Detector1Pipeline
from pipeline_core.errors import ParameterError
from tests.e2e._samples import STEM, UNCAL, cli_overrides, step_overrides

pytestmark = pytest.mark.skipif(not UNCAL["level1b"].exists(), reason="JWST sample files not available")

COMMON = (
    "pre_hooks: [], post_hooks: [], output_file: null, output_dir: null, output_ext: .fits, "
    "output_use_model: false, output_use_index: true, save_results: false, suffix: null, "
    "search_output_file: true, input_dir: ''"
)

#: (step name, JWST class path, skip, the step's own parameters as JWST 3.x writes them)
JWST_STEPS = (
    ("group_scale", "jwst.group_scale.group_scale_step.GroupScaleStep", "false", ""),
    ("dq_init", "jwst.dq_init.dq_init_step.DQInitStep", "false", "user_supplied_dq: null"),
    ("emicorr", "jwst.emicorr.emicorr_step.EmiCorrStep", "false",
     "algorithm: joint, nints_to_phase: null, nbins: null, scale_reference: true, onthefly_corr_freq: null, "
     "use_n_cycles: 3, fit_ints_separately: false, user_supplied_reffile: null, save_intermediate_results: false"),
    ("saturation", "jwst.saturation.saturation_step.SaturationStep", "false",
     "n_pix_grow_sat: 1, use_readpatt: true"),
    ("ipc", "jwst.ipc.ipc_step.IPCStep", "true", ""),
    ("superbias", "jwst.superbias.superbias_step.SuperBiasStep", "false", ""),
    ("refpix", "jwst.refpix.refpix_step.RefPixStep", "false",
     "odd_even_columns: true, use_side_ref_pixels: true, side_smoothing_length: 11, side_gain: 1.0, "
     "odd_even_rows: true, ovr_corr_mitigation_ftr: 3.0, preserve_irs2_refpix: false, "
     "irs2_mean_subtraction: false, refpix_algorithm: median, sigreject: 4.0, gaussmooth: 1.0, halfwidth: 30"),
    ("rscd", "jwst.rscd.rscd_step.RscdStep", "false", ""),
    ("firstframe", "jwst.firstframe.firstframe_step.FirstFrameStep", "false", "bright_use_group1: true"),
    ("lastframe", "jwst.lastframe.lastframe_step.LastFrameStep", "false", ""),
    ("linearity", "jwst.linearity.linearity_step.LinearityStep", "false", ""),
    ("dark_current", "jwst.dark_current.dark_current_step.DarkCurrentStep", "false",
     "dark_output: null, average_dark_current: null"),
    ("reset", "jwst.reset.reset_step.ResetStep", "false", ""),
    ("persistence", "jwst.persistence.persistence_step.PersistenceStep", "true",
     "save_persistence: null, persistence_time: null, persistence_array_file: null, persistence_dnu: false"),
    ("charge_migration", "jwst.charge_migration.charge_migration_step.ChargeMigrationStep", "true",
     "signal_threshold: 25000.0"),
    ("jump", "jwst.jump.jump_step.JumpStep", "false",
     "rejection_threshold: 4.0, three_group_rejection_threshold: 6.0, four_group_rejection_threshold: 5.0, "
     "maximum_cores: '1', flag_4_neighbors: true, max_jump_to_flag_neighbors: 1000.0, "
     "min_jump_to_flag_neighbors: 10.0, after_jump_flag_dn1: 0.0, after_jump_flag_time1: 0.0, "
     "after_jump_flag_dn2: 0.0, after_jump_flag_time2: 0.0, expand_large_events: false, min_sat_area: 1.0, "
     "min_jump_area: 5.0, expand_factor: 2.0, use_ellipses: false, sat_required_snowball: true, "
     "min_sat_radius_extend: 2.5, sat_expand: 2, edge_size: 25, mask_snowball_core_next_int: true, "
     "snowball_time_masked_next_int: 4000, find_showers: false, max_shower_amplitude: 4.0, "
     "extend_snr_threshold: 1.2, extend_min_area: 90, extend_inner_radius: 1.0, extend_outer_radius: 2.6, "
     "extend_ellipse_expand_ratio: 1.1, time_masked_after_shower: 15.0, min_diffs_single_pass: 10, "
     "max_extended_radius: 200, minimum_groups: 3, minimum_sigclip_groups: 100, only_use_ints: true"),
    ("picture_frame", "jwst.picture_frame.picture_frame_step.PictureFrameStep", "true",
     "n_sigma: 2.0, save_mask: false, save_correction: false"),
    ("clean_flicker_noise", "jwst.clean_flicker_noise.clean_flicker_noise_step.CleanFlickerNoiseStep", "true",
     "autoparam: false, fit_method: median, fit_by_channel: false, background_method: median, "
     "background_box_size: null, mask_science_regions: false, apply_flat_field: false, n_sigma: 2.0, "
     "fit_histogram: false, single_mask: true, user_mask: null, save_mask: false, save_background: false, "
     "save_noise: false"),
    ("ramp_fit", "jwst.ramp_fitting.ramp_fit_step.RampFitStep", "false",
     "algorithm: OLS_C, int_name: '', save_opt: false, opt_name: '', suppress_one_group: true, "
     "firstgroup: null, lastgroup: null, maximum_cores: '1'"),
    ("gain_scale", "jwst.gain_scale.gain_scale_step.GainScaleStep", "false", ""),
)

HEADER = """\
#ASDF 1.0.0
#ASDF_STANDARD 1.5.0
%YAML 1.1
%TAG ! tag:stsci.edu:asdf/
--- !core/asdf-1.1.0
asdf_library: !core/software-1.0.0 {author: The ASDF Developers, homepage: 'http://github.com/asdf-format/asdf',
  name: asdf, version: 3.5.0}
history:
  extensions:
  - !core/extension_metadata-1.0.0
    extension_class: asdf.extension._manifest.ManifestExtension
    extension_uri: asdf://asdf-format.org/core/extensions/core-1.5.0
    manifest_software: !core/software-1.0.0 {name: asdf_standard, version: 1.1.1}
    software: !core/software-1.0.0 {name: asdf, version: 3.5.0}
class: jwst.pipeline.calwebb_detector1.Detector1Pipeline
meta:
  author: <SPECIFY>
  date: '2025-06-02T14:21:07'
  description: Parameters for calibration step jwst.pipeline.calwebb_detector1.Detector1Pipeline
  instrument: {name: <SPECIFY>}
  origin: <SPECIFY>
  pedigree: <SPECIFY>
  reftype: <SPECIFY>
  telescope: <SPECIFY>
  useafter: <SPECIFY>
name: Detector1Pipeline
parameters: {COMMON, skip: false, save_calibrated_ramp: false}
steps:
"""

NOT_PROVIDED = ("emicorr", "ipc", "rscd", "firstframe", "lastframe", "reset", "persistence",
                "charge_migration", "picture_frame", "clean_flicker_noise")


def jwst_detector1_text(**changes: str) -> str:
    """Return the parameter file's text; ``changes`` replaces a step's ``skip``."""
    lines = [HEADER.replace("COMMON", COMMON)]
    for name, class_path, skip, own in JWST_STEPS:
        skip = changes.get(name, skip)
        parameters = ", ".join(part for part in (COMMON, f"skip: {skip}", own) if part)
        lines.append(f"- class: {class_path}\n  name: {name}\n  parameters: {{{parameters}}}\n")
    lines.append("...\n")
    return "".join(lines)


@pytest.fixture
def jwst_file(tmp_path):
    path = tmp_path / "jwst_detector1.asdf"
    path.write_text(jwst_detector1_text())
    return path


def test_the_file_lists_every_jwst_detector1_step(jwst_file):
    from pipeline_core.config.parfile import read_parameter_file

    config = read_parameter_file(jwst_file)
    assert config.class_name == "jwst.pipeline.calwebb_detector1.Detector1Pipeline"
    names = {step.name for step in config.steps}
    assert names == set(Detector1Pipeline.step_defs) | set(NOT_PROVIDED)
    assert set(Detector1Pipeline.omitted_steps) == set(NOT_PROVIDED)


def test_jwst_parameter_file_runs_unchanged(jwst_file, tmp_path, caplog):
    with caplog.at_level("INFO", logger="steppe"):
        rate = Detector1Pipeline.call(
            str(UNCAL["level1b"]), config_file=str(jwst_file), steps=step_overrides(),
            save_results=True, output_dir=str(tmp_path),
        )
    plain = Detector1Pipeline.call(str(UNCAL["level1b"]), steps=step_overrides())
    np.testing.assert_array_equal(rate.data, plain.data)
    np.testing.assert_array_equal(rate.dq, plain.dq)
    cal = rate.meta.cal_step
    assert (cal.ipc, cal.persistence, cal.charge_migration, cal.clean_flicker_noise) == ("SKIPPED",) * 4
    assert (cal.emicorr, cal.rscd, cal.firstframe, cal.picture_frame) == (None,) * 4  # MIRI / NIRSpec only
    assert "step firstframe is enabled but does not apply to NIRCAM exposures; not run" in caplog.text
    assert "step clean_flicker_noise is not provided" in caplog.text
    assert "Step refpix ignores parameters it does not implement: ovr_corr_mitigation_ftr=3.0" in caplog.text
    block = rate.meta.steppe.to_dict()
    assert set(block["not_provided"]["steps"]) == set(NOT_PROVIDED)
    assert block["not_provided"]["parameters"]["refpix"]["refpix_algorithm"] == "median"
    assert (tmp_path / f"{STEM}_rate.fits").exists() and (tmp_path / f"{STEM}_rateints.fits").exists()


def test_jwst_parameter_file_runs_from_the_command_line(jwst_file, tmp_path):
    from pipeline_core.cli.main import run_cli

    argv = ["run", str(jwst_file), str(UNCAL["level1b"]), "--save-results", "--output-dir", str(tmp_path)]
    assert run_cli(argv + cli_overrides()) == 0
    assert (tmp_path / f"{STEM}_rate.fits").exists()


def test_a_file_enabling_a_step_steppe_does_not_provide_is_refused(tmp_path):
    path = tmp_path / "flicker.asdf"
    path.write_text(jwst_detector1_text(clean_flicker_noise="false"))
    with pytest.raises(ParameterError, match=re.escape("step 'clean_flicker_noise' is enabled (skip = False)")):
        Detector1Pipeline.call(str(UNCAL["level1b"]), config_file=str(path), steps=step_overrides())


def test_a_refpix_algorithm_steppe_does_not_implement_is_refused(jwst_file):
    with pytest.raises(ParameterError, match=re.escape("parameter 'refpix_algorithm' = 'sirs' asks for")):
        Detector1Pipeline.call(
            str(UNCAL["level1b"]), config_file=str(jwst_file), steps={"refpix": {"refpix_algorithm": "sirs"}}
        )
