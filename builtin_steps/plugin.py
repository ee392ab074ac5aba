"""The ``builtin`` plugin: registers steppe's JWST steps and pipelines.

Loaded through the ``pipeline_core.plugins`` entry point like any third-party
plugin. Registration is plain data: no step module is imported until a step is
resolved by name.
"""

from __future__ import annotations

from typing import Any

from pipeline_core import hookimpl

__all__ = ["register_steps", "default_crds_cache", "prepare_demo", "STEPS"]

#: (class path, alias, JWST class path, parallel) of every built-in step, in the
#: order of jwst's ``calwebb_detector1``.
STEPS: tuple[tuple[str, str, str, bool], ...] = (
    (
        "builtin_steps.group_scale.step.GroupScaleStep",
        "group_scale",
        "jwst.group_scale.group_scale_step.GroupScaleStep",
        False,
    ),
    (
        "builtin_steps.dq_init.step.DQInitStep",
        "dq_init",
        "jwst.dq_init.dq_init_step.DQInitStep",
        False,
    ),
    (
        "builtin_steps.emicorr.step.EmiCorrStep",
        "emicorr",
        "jwst.emicorr.emicorr_step.EmiCorrStep",
        False,
    ),
    (
        "builtin_steps.saturation.step.SaturationStep",
        "saturation",
        "jwst.saturation.saturation_step.SaturationStep",
        False,
    ),
    (
        "builtin_steps.ipc.step.IPCStep",
        "ipc",
        "jwst.ipc.ipc_step.IPCStep",
        False,
    ),
    (
        "builtin_steps.superbias.step.SuperBiasStep",
        "superbias",
        "jwst.superbias.superbias_step.SuperBiasStep",
        False,
    ),
    (
        "builtin_steps.refpix.step.RefPixStep",
        "refpix",
        "jwst.refpix.refpix_step.RefPixStep",
        False,
    ),
    (
        "builtin_steps.rscd.step.RscdStep",
        "rscd",
        "jwst.rscd.rscd_step.RscdStep",
        False,
    ),
    (
        "builtin_steps.firstframe.step.FirstFrameStep",
        "firstframe",
        "jwst.firstframe.firstframe_step.FirstFrameStep",
        False,
    ),
    (
        "builtin_steps.lastframe.step.LastFrameStep",
        "lastframe",
        "jwst.lastframe.lastframe_step.LastFrameStep",
        False,
    ),
    (
        "builtin_steps.linearity.step.LinearityStep",
        "linearity",
        "jwst.linearity.linearity_step.LinearityStep",
        False,
    ),
    (
        "builtin_steps.dark_current.step.DarkCurrentStep",
        "dark_current",
        "jwst.dark_current.dark_current_step.DarkCurrentStep",
        False,
    ),
    (
        "builtin_steps.reset.step.ResetStep",
        "reset",
        "jwst.reset.reset_step.ResetStep",
        False,
    ),
    (
        "builtin_steps.persistence.step.PersistenceStep",
        "persistence",
        "jwst.persistence.persistence_step.PersistenceStep",
        False,
    ),
    (
        "builtin_steps.charge_migration.step.ChargeMigrationStep",
        "charge_migration",
        "jwst.charge_migration.charge_migration_step.ChargeMigrationStep",
        False,
    ),
    (
        "builtin_steps.jump.step.JumpStep",
        "jump",
        "jwst.jump.jump_step.JumpStep",
        True,
    ),
    (
        "builtin_steps.picture_frame.step.PictureFrameStep",
        "picture_frame",
        "jwst.picture_frame.picture_frame_step.PictureFrameStep",
        False,
    ),
    (
        "builtin_steps.clean_flicker_noise.step.CleanFlickerNoiseStep",
        "clean_flicker_noise",
        "jwst.clean_flicker_noise.clean_flicker_noise_step.CleanFlickerNoiseStep",
        False,
    ),
    (
        "builtin_steps.ramp_fit.step.RampFitStep",
        "ramp_fit",
        "jwst.ramp_fitting.ramp_fit_step.RampFitStep",
        True,
    ),
    (
        "builtin_steps.gain_scale.step.GainScaleStep",
        "gain_scale",
        "jwst.gain_scale.gain_scale_step.GainScaleStep",
        False,
    ),
    (
        "builtin_steps.background.step.BackgroundStep",
        "bkg_subtract",
        "jwst.background.background_step.BackgroundStep",
        False,
    ),
    (
        "builtin_steps.assign_wcs.step.AssignWcsStep",
        "assign_wcs",
        "jwst.assign_wcs.assign_wcs_step.AssignWcsStep",
        False,
    ),
    (
        "builtin_steps.flat_field.step.FlatFieldStep",
        "flat_field",
        "jwst.flatfield.flat_field_step.FlatFieldStep",
        False,
    ),
    ("builtin_steps.photom.step.PhotomStep", "photom", "jwst.photom.photom_step.PhotomStep", False),
    ("builtin_steps.resample.step.ResampleStep", "resample", "jwst.resample.resample_step.ResampleStep", False),
    (
        "builtin_steps.assign_mtwcs.step.AssignMTWcsStep",
        "assign_mtwcs",
        "jwst.assign_mtwcs.assign_mtwcs_step.AssignMTWcsStep",
        False,
    ),
    ("builtin_steps.tweakreg.step.TweakRegStep", "tweakreg", "jwst.tweakreg.tweakreg_step.TweakRegStep", False),
    ("builtin_steps.skymatch.step.SkyMatchStep", "skymatch", "jwst.skymatch.skymatch_step.SkyMatchStep", False),
    (
        "builtin_steps.outlier_detection.step.OutlierDetectionStep",
        "outlier_detection",
        "jwst.outlier_detection.outlier_detection_step.OutlierDetectionStep",
        False,
    ),
    (
        "builtin_steps.source_catalog.step.SourceCatalogStep",
        "source_catalog",
        "jwst.source_catalog.source_catalog_step.SourceCatalogStep",
        False,
    ),
)

#: (class path, alias, JWST class path) of every built-in pipeline.
PIPELINES: tuple[tuple[str, str, str], ...] = (
    (
        "builtin_steps.pipelines.detector1.Detector1Pipeline",
        "calwebb_detector1",
        "jwst.pipeline.calwebb_detector1.Detector1Pipeline",
    ),
    (
        "builtin_steps.pipelines.image2.Image2Pipeline",
        "calwebb_image2",
        "jwst.pipeline.calwebb_image2.Image2Pipeline",
    ),
    (
        "builtin_steps.pipelines.image3.Image3Pipeline",
        "calwebb_image3",
        "jwst.pipeline.calwebb_image3.Image3Pipeline",
    ),
)


@hookimpl
def register_steps() -> list[dict[str, Any]]:
    """Declare the built-in steps and pipelines.

    Returns
    -------
    list of dict
        One descriptor per class: class path, alias, the JWST class path as a
        legacy name, whether it is a pipeline, whether it is parallel.
    """
    out: list[dict[str, Any]] = [
        {
            "class_path": path,
            "alias": alias,
            "legacy_class_paths": [legacy],
            "is_pipeline": False,
            "parallel": parallel,
        }
        for path, alias, legacy, parallel in STEPS
    ]
    out += [
        {
            "class_path": path,
            "alias": alias,
            "legacy_class_paths": [legacy],
            "is_pipeline": True,
            "parallel": False,
        }
        for path, alias, legacy in PIPELINES
    ]
    return out


@hookimpl
def default_crds_cache() -> str | None:
    """Return the embedded offline CRDS cache, building it on first use.

    Returns
    -------
    str
        Path of the cache folder.
    """
    from builtin_steps.refdata.cache import ensure_embedded_cache

    return ensure_embedded_cache()


@hookimpl
def prepare_demo(directory: str, instrument: str) -> dict[str, Any] | None:
    """Write the demonstration ramps and name the pipeline that processes them.

    Parameters
    ----------
    directory : str
        Folder that receives the demo inputs.
    instrument : str
        ``"nircam"`` (the ``steppe demo`` default), ``"miri"``, ``"nirspec"`` or ``"niriss"``.

    Returns
    -------
    dict
        ``{"pipeline": "calwebb_detector1", "inputs": [...], "description": ...}``;
        for NIRCam also ``"then"``: Image2 on each rate, then Image3 once on the
        association of the ``cal`` products, whose mosaic is drawn with its
        catalog's sources circled (:func:`builtin_steps.refdata.demo.prepare_demo`).
    """
    from builtin_steps.refdata.demo import prepare_demo as _prepare

    return _prepare(directory, instrument)
