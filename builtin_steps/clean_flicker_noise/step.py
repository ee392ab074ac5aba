"""CleanFlickerNoiseStep: fit and remove 1/f (flicker) noise from ramps or rates."""

from __future__ import annotations

from typing import Any

import numpy as np

from builtin_steps._common import reference_cutout
from builtin_steps.clean_flicker_noise.clean import CleanSettings, clean_data
from builtin_steps.clean_flicker_noise.draft_rate import DRAFT_REFERENCE_TYPES, draft_rate
from builtin_steps.clean_flicker_noise.intermediate import intermediate_model, open_science
from builtin_steps.clean_flicker_noise.mesh_background import MeshBackgroundError, mesh_background
from builtin_steps.clean_flicker_noise.scene_mask import create_mask
from pipeline_core import Step
from pipeline_core.datamodels import RampModel, dqflags, open_model
from pipeline_core.errors import ParameterError

__all__ = ["CleanFlickerNoiseStep", "FFT_EXP_TYPES", "axis_to_correct"]

#: Exposure types the 'fft' fit applies to.
FFT_EXP_TYPES = ("NRS_MSASPEC", "NRS_IFU", "NRS_FIXEDSLIT", "NRS_BRIGHTOBJ")


def axis_to_correct(exp_type: str, slowaxis: Any, instrument: str) -> int:
    """Return the axis the median stripes run along (``abs(SLOWAXIS)``; 1 for MIRI).

    Parameters
    ----------
    exp_type : str
        Exposure type.
    slowaxis : int or None
        ``meta.subarray.slowaxis``; when missing, 1 for NIRSpec and 2 otherwise.
    instrument : str
        Instrument name.

    Returns
    -------
    int
        1 or 2.
    """
    if exp_type.startswith("MIR"):
        return 1
    if slowaxis is None:
        return 1 if instrument == "NIRSPEC" else 2
    return abs(int(slowaxis))


class CleanFlickerNoiseStep(Step):
    """Fit and subtract 1/f (flicker) noise, group by group, from the background pixels."""

    class_alias = "clean_flicker_noise"
    legacy_class_paths = ("jwst.clean_flicker_noise.clean_flicker_noise_step.CleanFlickerNoiseStep",)
    reference_file_types = ("flat", "pastasoss", *DRAFT_REFERENCE_TYPES)
    spec = """
        autoparam = boolean(default=False) # Automatically select some fit and background parameters for the input data.
        fit_method = option('fft', 'median', default='median')  # Noise fitting algorithm.
        fit_by_channel = boolean(default=False)  # Fit noise separately by amplifier (NIR only).
        background_method = option('median', 'model', 'median_image', None, default='median') # Background fit.
        background_box_size = int_list(min=2, max=2, default=None)  # Background box size.
        mask_science_regions = boolean(default=False)  # Mask known science regions.
        apply_flat_field = boolean(default=False)  # Apply a flat correction before fitting.
        n_sigma = float(default=2.0)  # Clipping level for non-background signal.
        fit_histogram = boolean(default=False)  # Fit a value histogram to derive sigma.
        single_mask = boolean(default=True)  # Make a single mask for all integrations.
        user_mask = string(default=None)  # Path to user-supplied mask
        save_mask = boolean(default=False)  # Save the created mask
        save_background = boolean(default=False)  # Save the fit background
        save_noise = boolean(default=False)  # Save the fit noise
        skip = boolean(default=True)  # By default, skip the step.
    """  # noqa: E501

    def process(self, step_input: Any) -> Any:
        """Clean the input in place and set ``meta.cal_step.clean_flicker_noise``.

        Parameters
        ----------
        step_input : str, os.PathLike, RampModel, ImageModel or CubeModel
            A ramp (between jump and ramp fitting) or a rate image / cube.

        Returns
        -------
        DataModel
            The cleaned model, or the input unchanged with status FAILED when the
            exposure type or mask does not allow cleaning.
        """
        model = open_science(self, step_input)
        if self.autoparam:
            raise ParameterError(
                f"step {self.name}: autoparam=True (automatic choice of background_method and "
                "fit_by_channel for NRC_IMAGE / NIS_IMAGE) is not available; accepted: False. Set "
                "background_method and fit_by_channel explicitly"
            )
        background_method = self.background_method
        if str(background_method).lower() == "none":
            background_method = None
        if background_method == "median_image":
            raise ParameterError(
                f"step {self.name}: background_method='median_image' (a median image across "
                "integrations, for time series) is not available; accepted: 'median', 'model' or None"
            )
        meta = model.meta
        exp_type = str(meta.exposure.type or "").upper()
        instrument = str(meta.instrument.name or "").upper()
        subarray = str(meta.subarray.name or "").upper()
        detector = str(meta.instrument.detector or "").upper()
        self.log.info("Input exposure type is %s, detector=%s", exp_type, detector)
        if not self._applicable(exp_type):
            meta.cal_step.clean_flicker_noise = "FAILED"
            return model
        fit_by_channel = self.fit_by_channel
        if fit_by_channel and (subarray != "FULL" or exp_type.startswith("MIR")):
            self.log.warning("Fit by channel can only be used for full-frame NIR data; setting it to False.")
            fit_by_channel = False
        user_mask = None if str(self.user_mask).lower() == "none" else self.user_mask
        flat = self._read_flat(model) if self.apply_flat_field else None

        background_mask = self._scene_mask(model, user_mask, flat, exp_type)
        if not self._mask_matches(model, background_mask):
            meta.cal_step.clean_flicker_noise = "FAILED"
            return model
        if self.save_mask:
            mask_model = intermediate_model(model, background_mask.astype(np.float32), ramp=False)
            self.save_model(mask_model, suffix="mask", force=True)

        box = tuple(self.background_box_size) if self.background_box_size else None
        settings = CleanSettings(
            fit_method=self.fit_method,
            background_method=background_method,
            background_box_size=box,  # type: ignore[arg-type]
            n_sigma=self.n_sigma,
            axis_to_correct=axis_to_correct(exp_type, meta.subarray.slowaxis, instrument),
            fit_by_channel=fit_by_channel,
            detector=detector,
        )
        original = model.data
        is_ramp = isinstance(model, RampModel)
        self.log.info("Cleaning image %s", meta.filename)
        cleaned, background = clean_data(
            original,
            background_mask,
            settings,
            groupdq=model.groupdq if is_ramp else None,
            flat=flat,
            keep_background=self.save_background,
            unusable=dqflags.group["DO_NOT_USE"] | dqflags.group["JUMP_DET"],
        )
        model.data = cleaned
        if self.save_background and background is not None:
            self.save_model(intermediate_model(model, background), suffix="flicker_bkg", force=True)
        if self.save_noise:
            noise = cleaned - original
            self.save_model(intermediate_model(model, noise), suffix="flicker_noise", force=True)
        meta.cal_step.clean_flicker_noise = "COMPLETE"
        return model

    # ------------------------------------------------------------------ helpers
    def _applicable(self, exp_type: str) -> bool:
        message = None
        if exp_type.startswith("MIR") and exp_type != "MIR_IMAGE":
            message = f"EXP_TYPE {exp_type} is not supported"
        if self.fit_method == "fft" and exp_type not in FFT_EXP_TYPES:
            message = f"Fit method 'fft' cannot be applied to exp_type {exp_type}"
        if message is None:
            return True
        self.log.warning("%s; step %s will be skipped (status FAILED)", message, self.name)
        return False

    def _read_flat(self, model: Any) -> np.ndarray | None:
        path = self.get_reference_file(model, "flat")
        if path == "N/A":
            self.log.warning(
                "Flat correction is not available for exposure type %s without a user-supplied flat.",
                model.meta.exposure.type,
            )
            return None
        self.log.info("Using FLAT reference file: %s", path)
        ref = open_model(path)
        flat = np.array(reference_cutout(self, model, ref, ref.data, "flat"), dtype=np.float32)
        bad = (flat == 0) | ~np.isfinite(flat)
        if np.any(bad):
            try:
                smooth: np.ndarray | float = mesh_background(flat, ~bad, _box_size(flat.shape))
            except MeshBackgroundError:
                smooth = float(np.median(flat[~bad])) if np.any(~bad) else 1.0
            flat[bad] = smooth[bad] if isinstance(smooth, np.ndarray) else smooth
        return flat

    def _scene_mask(self, model: Any, user_mask: str | None, flat: np.ndarray | None, exp_type: str) -> np.ndarray:
        if user_mask is not None:
            try:
                with open_model(user_mask) as mask_model:
                    return np.asarray(mask_model.data).astype(bool)
            except Exception as exc:  # noqa: BLE001 - any unreadable file is the same user error
                raise ParameterError(
                    f"step {self.name}: user_mask '{user_mask}' cannot be read as a mask image "
                    f"({type(exc).__name__}: {exc}); give a FITS image whose SCI array is True/1 "
                    "for background pixels"
                ) from exc
        if isinstance(model, RampModel):
            rate, dq = draft_rate(self, model, per_integration=not self.single_mask)
        else:
            rate, dq = np.array(model.data, dtype=np.float32), model.dq
        if flat is not None:
            rate = rate / flat
        self.log.info("Creating mask")
        return create_mask(
            rate, dq, exp_type,
            mask_science_regions=self.mask_science_regions,
            n_sigma=self.n_sigma,
            fit_histogram=self.fit_histogram,
            single_mask=self.single_mask,
            msa_failed_open=dqflags.pixel["MSA_FAILED_OPEN"],
            do_not_use=dqflags.pixel["DO_NOT_USE"],
            non_science=dqflags.pixel["NON_SCIENCE"],
        )

    def _mask_matches(self, model: Any, mask: np.ndarray) -> bool:
        data = model.data
        ok = mask.shape[-2:] == data.shape[-2:]
        if ok and mask.ndim == 3:
            ok = data.ndim > 2 and mask.shape[0] == data.shape[0]
        if not ok:
            self.log.warning(
                "Mask shape %s does not match data shape %s. Step will be skipped.", mask.shape, data.shape
            )
        return ok


def _box_size(shape: tuple[int, ...]) -> tuple[int, int]:
    sizes = np.arange(1, 33)
    return int(sizes[shape[0] % sizes == 0][-1]), int(sizes[shape[1] % sizes == 0][-1])
