"""BackgroundStep: subtract the sigma-clipped average of background exposures."""

from __future__ import annotations

import os
from typing import Any

from builtin_steps._common import mark_skipped
from builtin_steps.association import load_level2
from builtin_steps.background.combine import Window, average_background
from pipeline_core import Step
from pipeline_core.datamodels import CubeModel, ImageModel, open_model
from pipeline_core.errors import StepError

__all__ = ["BackgroundStep"]

_MODELED = ("NIS_WFSS", "NRC_GRISM", "NRC_WFSS", "MIR_WFSS", "NIS_SOSS")


def _window(model: Any) -> Window:
    sub = model.meta.subarray
    ny, nx = model.data.shape[-2:]
    return Window(int(sub.xstart or 1) - 1, int(sub.ystart or 1) - 1, int(sub.xsize or nx), int(sub.ysize or ny))


class BackgroundStep(Step):
    """Subtract background exposures from a target exposure (image from image).

    The backgrounds are the association's ``background`` members or
    ``bkg_list``; they are placed on the target's pixels by their subarray
    windows, sigma clipped pixel by pixel and averaged, and the average is
    subtracted (its DQ ORed into the target's). With no background the step is
    skipped. The modelled backgrounds of WFSS and SOSS (``bkg`` reference) are
    not provided.
    """

    class_alias = "bkg_subtract"
    legacy_class_paths = ("jwst.background.background_step.BackgroundStep",)
    reference_file_types = ("bkg", "wavelengthrange")
    spec = """
        bkg_list = force_list(default=None)  # List of background files. Ignored for WFSS or if asn is provided
        save_combined_background = boolean(default=False)  # Save combined background image
        sigma = float(default=3.0)  # Clipping threshold
        maxiters = integer(default=None)  # Number of clipping iterations
        soss_source_percentile = float(default=35.0) # Threshold flux percentile to mask out source pixels
        soss_bkg_percentile = float_list(min=2, max=2, default=None) # Background percentiles to use; default is [25.0, 50.0]
        wfss_mmag_extract = float(default=None)  # WFSS minimum abmag to extract
        wfss_mask = string(default=None)  # WFSS source mask file
        wfss_maxiter = integer(default=5)  # WFSS iterative outlier rejection max iterations
        wfss_rms_stop = float(default=0)  # WFSS iterative outlier rejection RMS improvement threshold (percent)
        wfss_outlier_percent = float(default=1)  # WFSS outlier percentile to reject per iteration
    """

    #: Suffix of the saved combined background (``save_combined_background``).
    bkg_suffix = "combinedbackground"

    def process(self, step_input: Any) -> Any:
        """Subtract the backgrounds.

        Parameters
        ----------
        step_input : str, os.PathLike, ImageModel, CubeModel or association file
            The target exposure, or a level-2 association naming it (``science``)
            and its ``background`` members.

        Returns
        -------
        ImageModel or CubeModel
            The background-subtracted target.
        """
        asn = load_level2(step_input)
        product = asn.products[0]
        if isinstance(step_input, (str, os.PathLike)) and self.parent is None:
            # products of an association are named after the association's product
            object.__setattr__(self, "_input_name", f"{product.name}.fits")
        if len(asn.products) > 1:
            self.log.warning("Multiple products in the association; using only the first one")
        science = product.of_type("science")
        if len(science) != 1:
            self.log.warning("Wrong number of science exposures in %s; using the first one", product.name)
        model = open_model(science[0])
        if not isinstance(model, (ImageModel, CubeModel)):
            raise StepError(
                f"step '{self.name}': '{model.meta.filename or science[0]}' is a {type(model).__name__}; "
                "background subtraction takes count-rate images (rate or rateints)."
            )
        exp_type = str(model.meta.exposure.type or "").upper()
        if exp_type in _MODELED:
            raise StepError(
                f"step '{self.name}': '{model.meta.filename or '<in memory>'}' is a {exp_type} exposure, "
                "whose background is modelled with the BKG reference; that is not provided here. "
                "Skip the step (steps={'bkg_subtract': {'skip': True}})."
            )
        backgrounds = product.of_type("background") or [b for b in (self.bkg_list or []) if b]
        if not backgrounds:
            self.log.warning("No background list provided; step %s skipped", self.name)
            mark_skipped(self, model)
            return model
        avg = self._average(model, backgrounds)
        self.log.info("Subtracting the average of %d background(s) from %s", len(backgrounds),
                      model.meta.filename)
        model.data = model.data - avg.data
        model.dq = model.dq | avg.dq
        model.meta.cal_step.bkg_subtract = "COMPLETE"
        if self.save_combined_background:
            path = self.save_model(avg, suffix=self.bkg_suffix, force=True)
            self.log.info("Combined background written to %s", path)
        return model

    def _average(self, model: Any, backgrounds: list[Any]) -> Any:
        target = _window(model)
        stack = []
        for item in backgrounds:
            if isinstance(item, (str, os.PathLike)) and not os.path.exists(item):
                raise StepError(
                    f"step '{self.name}': background exposure {os.fspath(item)!r} does not exist. "
                    "Fix bkg_list or the association's background members."
                )
            bkg = open_model(item)
            if not isinstance(bkg, (ImageModel, CubeModel)):
                raise StepError(
                    f"step '{self.name}': background '{bkg.meta.filename or item}' is a "
                    f"{type(bkg).__name__}; give count-rate images (rate or rateints)."
                )
            if not _window(bkg).overlaps(target):
                self.log.debug("%s does not overlap the target", bkg.meta.filename)
            stack.append((bkg.data, bkg.err, bkg.dq, _window(bkg)))
        data, err, dq = average_background(target, stack, self.sigma, self.maxiters)
        avg = ImageModel(data=data, err=err, dq=dq)
        avg.update(model)
        return avg
