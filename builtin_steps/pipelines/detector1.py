"""Detector1Pipeline: raw ramps to count-rate images (JWST ``calwebb_detector1``)."""

from __future__ import annotations

from typing import Any

from pipeline_core import Pipeline
from pipeline_core.datamodels import open_model

__all__ = ["Detector1Pipeline", "STEP_ORDER", "MIRI_ORDER", "NEAR_INFRARED_ORDER", "COMMON_TAIL", "steps_for", "step_list_path"]

#: Every step of the stage, in the order of jwst's ``calwebb_detector1`` step list.
STEP_ORDER = (
    "group_scale",
    "dq_init",
    "emicorr",
    "saturation",
    "ipc",
    "superbias",
    "refpix",
    "rscd",
    "firstframe",
    "lastframe",
    "linearity",
    "dark_current",
    "reset",
    "persistence",
    "charge_migration",
    "jump",
    "picture_frame",
    "clean_flicker_noise",
    "ramp_fit",
    "gain_scale",
)

#: The ramp corrections of MIRI exposures, in the order they run.
MIRI_ORDER = (
    "group_scale",
    "dq_init",
    "emicorr",
    "saturation",
    "ipc",
    "firstframe",
    "lastframe",
    "reset",
    "linearity",
    "rscd",
    "dark_current",
    "refpix",
)

#: The ramp corrections of near-infrared exposures (NIRCam, NIRISS, NIRSpec, FGS).
NEAR_INFRARED_ORDER = (
    "group_scale",
    "dq_init",
    "saturation",
    "ipc",
    "superbias",
    "refpix",
    "linearity",
    "dark_current",
)

#: What every detector runs after its ramp corrections, before ramp fitting.
COMMON_TAIL = ("charge_migration", "jump", "picture_frame", "clean_flicker_noise", "persistence")


def steps_for(instrument: str | None) -> tuple[str, ...]:
    """Return the ramp steps run for an instrument, in order (ramp fitting excluded).

    Parameters
    ----------
    instrument : str or None
        ``meta.instrument.name`` of the exposure.

    Returns
    -------
    tuple of str
        MIRI runs its own order (no superbias; reset, rscd and the dark after
        linearity; reference pixels last); every other detector runs the
        near-infrared order. Both end with :data:`COMMON_TAIL`.
    """
    head = MIRI_ORDER if (instrument or "").upper() == "MIRI" else NEAR_INFRARED_ORDER
    return head + COMMON_TAIL


class Detector1Pipeline(Pipeline):
    """Calibrate raw ramps into count rates, for every JWST detector.

    Runs the 20 steps of jwst's ``calwebb_detector1`` in jwst's order. A MIRI
    exposure runs group_scale, dq_init, emicorr, saturation, ipc, firstframe,
    lastframe, reset, linearity, rscd, dark_current and refpix; any other
    exposure runs group_scale, dq_init, saturation, ipc, superbias, refpix,
    linearity and dark_current. Both then run charge_migration, jump,
    picture_frame, clean_flicker_noise and persistence on the ramp, ramp_fit,
    and gain_scale on both products. Steps that do not apply to an exposure
    (a MIRI step on NIRCam data, a reference CRDS answers N/A for) skip
    themselves; emicorr, firstframe, persistence, charge_migration,
    picture_frame and clean_flicker_noise are off by default, as in jwst. The
    ramp is corrected in place: the steps pass one model along without copying
    it.

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

    def planned_products(self) -> list[str]:
        """Return the paths of the products the pipeline itself saves.

        Returns
        -------
        list of str
            With ``save_results`` (or ``output_file``), the rate and rateints
            products; with ``save_calibrated_ramp``, the ramp. The steps' own
            products are theirs to name.
        """
        paths = super().planned_products()
        if self.saves_results():
            paths.append(self.output_path(suffix="rateints", create_dir=False))
        if self.save_calibrated_ramp:
            paths.append(self.output_path(suffix="ramp", create_dir=False))
        return paths

    def _run(self, input: Any, *, owned: bool, input_name: str | None = None) -> Any:
        # With jump or ramp_fit on several worker processes (steps whose kernels need
        # them): the workers start (and load their kernels) now, and the ramp is read
        # into shared memory, which they map. The built-in steps use threads.
        from builtin_steps._shared_ramp import shared_ramp_session

        with shared_ramp_session(_parallel_workers(self), _warm_up_targets(self)):
            return super()._run(input, owned=owned, input_name=input_name)

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
        from builtin_steps._shared_ramp import share_arrays

        _warm_up_in_background(self)
        model = open_model(step_input)
        share_arrays(model)  # with parallel steps on several cores: the ramp in shared memory
        instrument = getattr(model.meta.instrument, "name", None)
        for name in steps_for(instrument):
            model = getattr(self, name).run(model)
        if self.save_calibrated_ramp:
            self.save_model(model, suffix="ramp", force=True)
        fitted = _fit_ramps_last_use(self, model)
        rate, rateints = _split_products(fitted)
        if rate is None:
            # every pixel was unusable: the ramp fit returns no product
            self.log.warning("Ramp fitting produced no rate product")
            return model
        if self.parent is None and rate is not model and rateints is not model:
            _drop_ramp(model)  # its memory is freed before the products are scaled and saved
        rate = self.gain_scale.run(rate)
        if rateints is not None:
            rateints = self.gain_scale.run(rateints)
            self.save_model(rateints, suffix="rateints")
        return rate


def _warm_up_targets(pipeline: Any) -> list[str]:
    """The warm-up functions of the compiled kernels of jump and ramp_fit, if they run."""
    return [target for name, target in (("jump", "builtin_steps.jump.blocks:warm_up"),
                                        ("ramp_fit", "builtin_steps.ramp_fit.ols:warm_up"))
            if not getattr(pipeline, name).skip]


def _warm_up_in_background(pipeline: Any) -> None:
    """Prepare, in a background thread, what later steps will need while the first ones run.

    First the CRDS client (its import and the context's rules), when a step
    that runs will look up a reference file; then the compiled kernels of jump
    and ramp_fit.
    """
    from builtin_steps._jit import warm_up_in_background

    targets = _warm_up_targets(pipeline)
    if _will_ask_crds(pipeline):
        targets.insert(0, "pipeline_core.references.crds_client:warm_up")
        # crds imports asdf, which the first steps import too to read their
        # references: two threads initialising one package at once can fail
        # ("partially initialized module"), so it is imported here first.
        import asdf  # noqa: F401
    if targets:
        warm_up_in_background(targets)


def _will_ask_crds(pipeline: Any) -> bool:
    """Whether a step that is not skipped has a reference type without an override."""
    for step in pipeline.substeps.values():
        if step.skip:
            continue
        if any(not getattr(step, f"override_{reftype}", None) for reftype in step.reference_file_types):
            return True
    return False


def _parallel_workers(pipeline: Any) -> int:
    """The most worker processes jump or ramp_fit will use (1 when the value is invalid: the step says so).

    Steps whose kernels run on threads (the built-in ones) need no process.
    """
    from pipeline_core.errors import ParameterError

    workers = 1
    for name in ("jump", "ramp_fit"):
        step = getattr(pipeline, name)
        if not step.skip and not step.parallel_threads:
            try:
                workers = max(workers, step.max_workers)
            except ParameterError:
                pass
    return workers


def _fit_ramps_last_use(pipeline: Any, model: Any) -> Any:
    """Run ramp_fit; on the pipeline's own model it may release the ramp's rows as it fits."""
    step = pipeline.ramp_fit
    if pipeline.parent is not None:
        return step.run(model)
    object.__setattr__(step, "_release_fitted_rows", True)
    try:
        return step.run(model)
    finally:
        object.__delattr__(step, "_release_fitted_rows")


def _drop_ramp(model: Any) -> None:
    """Free the ramp's 4-D arrays: once it is fitted, the stage returns only the rates.

    Called only when the pipeline runs on its own, on the model it opened or
    copied from the caller's (never on a model someone else holds).
    """
    for name in ("data", "groupdq", "err"):
        array = getattr(model, "_arrays", {}).get(name)
        if array is not None and getattr(array, "ndim", 0) == 4:
            delattr(model, name)


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
