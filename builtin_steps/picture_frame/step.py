"""PictureFrameStep: remove the NIRSpec full-frame thermal "picture frame" pattern."""

from __future__ import annotations

from typing import Any

import numpy as np

from builtin_steps._common import load_reference, mark_skipped
from builtin_steps.clean_flicker_noise.draft_rate import DRAFT_REFERENCE_TYPES, draft_rate
from builtin_steps.clean_flicker_noise.intermediate import intermediate_model, open_science
from builtin_steps.clean_flicker_noise.scene_mask import create_mask
from builtin_steps.picture_frame.correct import picture_frame_correction, region_masks
from pipeline_core import Step
from pipeline_core.datamodels import RampModel, dqflags

__all__ = ["PictureFrameStep"]


class PictureFrameStep(Step):
    """Scale the PICTUREFRAME reference to each group's background and subtract it."""

    class_alias = "picture_frame"
    legacy_class_paths = ("jwst.picture_frame.picture_frame_step.PictureFrameStep",)
    reference_file_types = ("pictureframe", *DRAFT_REFERENCE_TYPES)
    spec = """
        mask_science_regions = boolean(default=True)  # Mask known science regions.
        n_sigma = float(default=2.0)  # Clipping level for non-background signal.
        save_mask = boolean(default=False)  # Save the created background mask.
        save_correction = boolean(default=False)  # Save the thermal correction data.
        skip = boolean(default=True)  # By default, skip the step.
    """  # noqa: E501

    def process(self, step_input: Any) -> Any:
        """Correct the input in place and set ``meta.cal_step.picture_frame``.

        Parameters
        ----------
        step_input : str, os.PathLike, RampModel, ImageModel or CubeModel
            A NIRSpec full-frame ramp (after jump, before clean_flicker_noise and
            ramp fitting) or rate image / cube.

        Returns
        -------
        DataModel
            The corrected model; unchanged and SKIPPED when the exposure is not
            NIRSpec full frame, the reference is N/A, the ramp has one group, or
            no background pixel is left in the center or edge regions.
        """
        model = open_science(self, step_input)
        instrument = str(model.meta.instrument.name or "").upper()
        subarray = str(model.meta.subarray.name or "").upper()
        if instrument != "NIRSPEC" or subarray != "FULL":
            self.log.warning(
                "Picture frame correction is only applicable to NIRSpec full frame exposures "
                "(got %s %s); step %s skipped", instrument or "?", subarray or "?", self.name,
            )
            mark_skipped(self, model)
            return model
        is_ramp = isinstance(model, RampModel)
        if is_ramp and model.data.shape[1] == 1:
            self.log.warning("Picture frame correction cannot be performed for single-group data; skipped.")
            mark_skipped(self, model)
            return model
        ref = load_reference(self, model, "pictureframe")
        if ref is None:
            return model
        pattern = np.asarray(ref.data, dtype=np.float32)

        if is_ramp:
            rate, dq = draft_rate(self, model)
        else:
            rate, dq = np.asarray(model.data, dtype=np.float32), model.dq
        background = create_mask(
            rate, dq, str(model.meta.exposure.type or ""),
            mask_science_regions=self.mask_science_regions, n_sigma=self.n_sigma, single_mask=True,
            msa_failed_open=dqflags.pixel["MSA_FAILED_OPEN"],
            do_not_use=dqflags.pixel["DO_NOT_USE"], non_science=dqflags.pixel["NON_SCIENCE"],
        )
        if self.save_mask:
            self.save_model(intermediate_model(model, background.astype(np.float32)), suffix="pctfrm_mask", force=True)
        center, edge = region_masks(background & np.isfinite(pattern))
        if not np.any(center) or not np.any(edge):
            self.log.error("No data to scale; skipping picture frame correction.")
            mark_skipped(self, model)
            return model
        if np.isnan(pattern).any():
            self.log.warning("PICTUREFRAME reference has NaN pixels; they are left uncorrected.")

        original = model.data.copy() if self.save_correction else None
        if is_ramp:
            images = model.data[:, 1:] - model.data[:, :1]
        else:
            images = model.data
        correction, scale = picture_frame_correction(images, pattern, center, edge)
        self.log.info("Picture frame scale per image: %s", np.array2string(np.asarray(scale), precision=4))
        uncorrected = np.isnan(pattern)
        if is_ramp:
            # (group - first group) + (first group - correction), in float32, as jwst adds them
            for j in range(images.shape[1]):
                images[:, j] += model.data[:, 0] - correction[:, j]
            images[..., uncorrected] = model.data[:, 1:][..., uncorrected]
            model.data[:, 1:] = images
        else:
            corrected = images - correction
            corrected[..., uncorrected] = images[..., uncorrected]
            model.data = corrected
        if original is not None:
            self.save_model(intermediate_model(model, model.data - original), suffix="pctfrm_correction", force=True)
        model.meta.cal_step.picture_frame = "COMPLETE"
        return model
