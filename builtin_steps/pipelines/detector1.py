"""Detector1Pipeline: raw ramps to count-rate images (JWST ``calwebb_detector1``)."""

from __future__ import annotations

from typing import Any

from pipeline_core import Pipeline
from pipeline_core.datamodels import open_model
from pipeline_core.config.omissions import OmittedStep

__all__ = ["Detector1Pipeline", "STEP_ORDER", "step_list_path"]

#: The steps of the near-infrared Detector1 stage, in the order they run.
STEP_ORDER = (
    "group_scale",
    "dq_init",
    "saturation",
    "superbias",
    "refpix",
    "linearity",
    "dark_current",
    "jump",
    "ramp_fit",
    "gain_scale",
)


class Detector1Pipeline(Pipeline):
    """Calibrate near-infrared ramps into count rates.

    Runs group_scale, dq_init, saturation, superbias, refpix, linearity,
    dark_current, jump and ramp_fit on the ramp, then gain_scale on both
    products. The ramp is corrected in place: the steps pass one model along
    without copying it.

    Returns the rate image (``ImageModel``). With ``save_results`` the rate is
    saved with suffix ``rate`` and the per-integration rates (``CubeModel``)
    with suffix ``rateints``; with ``save_calibrated_ramp`` the ramp that
    enters ramp fitting is saved with suffix ``ramp``.
    """

    class_alias = "calwebb_detector1"
    legacy_class_paths = ("jwst.pipeline.calwebb_detector1.Detector1Pipeline",)
    default_suffix = "rate"
    spec = """
        save_calibrated_ramp = boolean(default=False) # save the calibrated ramp (suffix 'ramp') before ramp fitting
    """
    step_defs = {name: name for name in STEP_ORDER}
    #: The JWST Detector1 steps steppe does not provide, and why (see
    #: :mod:`pipeline_core.config.omissions`): a JWST parameter file naming them loads.
    omitted_steps = {
        "emicorr": OmittedStep("MIRI electromagnetic-interference correction", instruments=("MIRI",)),
        "ipc": "inter-pixel capacitance deconvolution is not provided; CRDS skips it for every instrument",
        "rscd": OmittedStep("MIRI reset-switch-charge-decay flagging", instruments=("MIRI",)),
        "firstframe": OmittedStep("MIRI first-group flagging", instruments=("MIRI",)),
        "lastframe": OmittedStep("MIRI last-group flagging", instruments=("MIRI",)),
        "reset": OmittedStep("MIRI reset-anomaly correction", instruments=("MIRI",)),
        "persistence": "persistence correction is not provided; JWST skips it by default",
        "charge_migration": "charge-migration flagging is not provided; JWST skips it by default",
        "picture_frame": OmittedStep("NIRSpec full-frame picture-frame correction", instruments=("NIRSPEC",)),
        "clean_flicker_noise": "1/f flicker-noise cleaning is not provided; JWST skips it by default",
    }

    def process(self, step_input: Any) -> Any:
        """Run the stage.

        Parameters
        ----------
        step_input : str, os.PathLike or RampModel
            Uncalibrated ramp (``_uncal``).

        Returns
        -------
        ImageModel
            The count-rate image.
        """
        model = open_model(step_input)
        for name in STEP_ORDER[:-3]:
            model = getattr(self, name).run(model)
        model = self.jump.run(model)
        if self.save_calibrated_ramp:
            self.save_model(model, suffix="ramp", force=True)
        fitted = self.ramp_fit.run(model)
        rate, rateints = _split_products(fitted)
        if rate is None:
            # every pixel was unusable: the ramp fit returns no product
            self.log.warning("Ramp fitting produced no rate product")
            return model
        rate = self.gain_scale.run(rate)
        if rateints is not None:
            rateints = self.gain_scale.run(rateints)
            self.save_model(rateints, suffix="rateints")
        return rate


def _split_products(fitted: Any) -> tuple[Any, Any]:
    """Return (rate, rateints) from ramp_fit's result (a model or a pair)."""
    if isinstance(fitted, (tuple, list)):
        rate = fitted[0] if len(fitted) > 0 else None
        ints = fitted[1] if len(fitted) > 1 else None
        return rate, ints
    return fitted, None


def step_list_path() -> str:
    """Return the path of the shipped ``calwebb_detector1.asdf`` parameter file.

    Returns
    -------
    str
        Path of the stpipe-layout ASDF file that lists the stage's steps by
        their JWST class paths.
    """
    from importlib.resources import files

    return str(files("builtin_steps.pipelines") / "calwebb_detector1.asdf")
