"""OutlierDetectionStep: flag outliers in imaging exposures against their resampled median.

The imaging mode of jwst's step: every exposure group (the detectors of one
exposure) is drizzled alone onto one output grid (``resample_data``), the
median of those is blotted back onto each exposure and compared
(:mod:`builtin_steps.outlier_detection.imaging`). Outliers get
``DO_NOT_USE | OUTLIER`` in DQ and NaN in the data, errors and variances; the
pipeline saves the flagged exposures as ``crf`` products.

Memory follows the library, as in jwst: with an in-memory library the
resampled groups are stacked in memory; with an on-disk library
(``in_memory=False``) each exposure is read when it is drizzled, the resampled
groups go to temporary files a band of rows per file, and the median is taken
one band at a time (:class:`~builtin_steps.outlier_detection.median.MedianStack`),
so memory does not grow with the number of exposures.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from builtin_steps.library import as_library
from builtin_steps.outlier_detection.imaging import blot, outlier_mask, parse_pair
from builtin_steps.outlier_detection.median import MedianStack
from builtin_steps.resample.drizzle_images import VARIANCES, DrizzleAccumulator, DrizzleInput, unsubtracted_sky
from builtin_steps.resample.output_wcs import output_grid
from pipeline_core import Step
from pipeline_core.datamodels.dqflags import pixel as PIXEL
from pipeline_core.errors import ParameterError

__all__ = ["OutlierDetectionStep"]


class OutlierDetectionStep(Step):
    """Flag outliers (cosmic rays left by jump detection, hot pixels) of imaging exposures.

    Input: a :class:`~builtin_steps.library.ModelLibrary`, an Image3
    association or a list of calibrated images with a WCS. Output: the
    library, its models flagged (``meta.cal_step.outlier_detection``).
    """

    class_alias = "outlier_detection"
    legacy_class_paths = ("jwst.outlier_detection.outlier_detection_step.OutlierDetectionStep",)
    default_suffix = "crf"
    spec = """
        weight_type = option('ivm','exptime',default='ivm')  # Weighting of the resampled exposures: inverse variance or exposure time
        pixfrac = float(min=0.0, max=1.0, default=1.0)  # Pixel shrinkage factor
        kernel = option('square','point','turbo',default='square')  # Flux distribution kernel
        fillval = string(default='NAN')  # Value of output pixels no input covers
        maskpt = float(default=0.7)  # Fraction of the median weight below which output pixels are masked
        snr = string(default='5.0 4.0')  # Signal-to-noise thresholds: for the pixel and for its neighbours
        scale = string(default='1.2 0.7')  # Scale factors of the derivative term: for the pixel and for its neighbours
        backg = float(default=0.0)  # Background level added to the blotted median
        kernel_size = string(default='7 7')  # Box of the spectroscopic (IFU) detection; accepted for compatibility
        threshold_percent = float(default=99.8)  # Percentile threshold of the IFU detection; accepted for compatibility
        rolling_window_width = integer(default=25)  # Integrations in the rolling median of time-series data; accepted for compatibility
        ifu_second_check = boolean(default=False)  # Second IFU check; accepted for compatibility
        save_intermediate_results = boolean(default=False)  # Save the median and blotted images
        resample_data = boolean(default=True)  # Resample the exposures before taking the median (False: median of the input frames)
        good_bits = string(default="~DO_NOT_USE")  # DQ flags to allow
        search_output_file = boolean(default=False)  # Accepted for compatibility with jwst; has no effect
        in_memory = boolean(default=True) # in_memory flag ignored if run within the pipeline; set at pipeline level instead
        pixmap_stepsize = float(default=1.0)  # Interpolation step size for pixel map; interpolation is used for stepsize > 1
        pixmap_order = integer(default=1)  # Spline order for pixel mapping, must be 1 or 3
    """

    def process(self, step_input: Any) -> Any:
        """Flag the outliers of every exposure.

        Parameters
        ----------
        step_input : ModelLibrary, association file or list of images
            Calibrated images with a WCS.

        Returns
        -------
        ModelLibrary
            The exposures, flagged.
        """
        try:
            snr = parse_pair(self.snr, "snr")
            scale = parse_pair(self.scale, "scale")
        except ValueError:
            raise ParameterError(
                f"step '{self.name}': snr = {self.snr!r}, scale = {self.scale!r}: each must be one or "
                "two numbers separated by a space, e.g. snr='5.0 4.0', scale='1.2 0.7'."
            ) from None
        library = as_library(step_input, on_disk=not self.in_memory)
        if len(library) < 2:
            self.log.warning("Outlier detection needs at least two exposures; step skipped")
            for _, model in library.models():
                model.meta.cal_step.outlier_detection = "SKIPPED"
            return library
        wcs_list, shapes, info = [], [], None
        for _, model in library.models(modify=False):
            wcs_list.append(model.meta.wcs)
            shapes.append(model.shape)
            if info is None:
                info = model.meta.wcsinfo.to_dict()
        grid = output_grid(wcs_list, shapes, info or {})
        del wcs_list
        median = self._median(library, grid)
        if self.save_intermediate_results:
            self.log.info("save_intermediate_results: the median image is not written by steppe")
        total = 0
        for _, model in library.models():
            total += self._flag(model, median, grid.wcs, snr, scale)
        self.log.info("%d pixels flagged as outliers", total)
        return library

    def _groups(self, library: Any) -> list[list[int]]:
        """Member indices of each exposure group, in order of first appearance."""
        groups: dict[str, list[int]] = {}
        for index, group in enumerate(library.group_ids()):
            groups.setdefault(group, []).append(index)
        return list(groups.values())

    def _singles(self, library: Any, grid: Any, groups: list[list[int]]) -> Iterator[np.ndarray]:
        """Each exposure group drizzled alone onto the grid, low-weight pixels set to NaN."""
        bad = PIXEL["DO_NOT_USE"] | PIXEL["NON_SCIENCE"]
        for indices in groups:
            accumulator = DrizzleAccumulator(
                grid.wcs, grid.shape, n_inputs=len(indices), pixfrac=self.pixfrac, kernel=self.kernel,
                fillval="NAN", weight_type=self.weight_type, bad_bits=bad, enable_ctx=False, enable_var=False,
                pixmap_stepsize=self.pixmap_stepsize, pixmap_order=self.pixmap_order,
            )
            for index in indices:
                model = library[index]
                accumulator.add(DrizzleInput(
                    data=model.data, dq=model.dq, wcs=model.meta.wcs,
                    exposure_time=model.meta.exposure.exposure_time,
                    measurement_time=model.meta.exposure.measurement_time,
                    variances={"var_rnoise": getattr(model, "var_rnoise", None)} if self.weight_type == "ivm" else {},
                    sky_level=unsubtracted_sky(model),
                ))
                library.shelve(index, model, modify=False)
                del model
            result = accumulator.result()
            data = np.array(result.data, np.float32)
            wht = np.asarray(result.wht)
            covered = wht[wht > 0]
            limit = self.maskpt * float(np.median(covered)) if covered.size else np.inf
            data[~(wht >= limit) | (wht <= 0)] = np.nan
            yield data

    def _median(self, library: Any, grid: Any) -> np.ndarray:
        """Median of the resampled groups: stacked in memory, or in files for an on-disk library."""
        groups = self._groups(library)
        in_memory = not library.on_disk
        with MedianStack(len(groups), grid.shape, in_memory=in_memory) as stack:
            if not in_memory:
                self.log.info("Median of %d resampled exposure groups in %d bands of %d rows (on disk)",
                              len(groups), len(stack.bands), stack.rows)
            for single in self._singles(library, grid, groups):
                stack.add(single)
            return stack.median()

    def _flag(self, model: Any, median: np.ndarray, wcs_median: Any, snr: tuple[float, float],
              scale: tuple[float, float]) -> int:
        blotted = blot(median, wcs_median, model.meta.wcs, model.data.shape)
        data = np.asarray(model.data)
        err = np.asarray(model.err) if model.err is not None and model.err.shape == data.shape else np.sqrt(
            np.abs(data))
        # the median is of sky-subtracted images: a level skymatch left in the data goes back on
        sky = unsubtracted_sky(model)
        mask = outlier_mask(data, err, blotted, snr=snr, scale=scale, backg=self.backg if sky is None else sky)
        mask &= (np.asarray(model.dq) & np.uint32(PIXEL["DO_NOT_USE"])) == 0
        dq = np.array(model.dq, np.uint32)
        dq[mask] |= np.uint32(PIXEL["DO_NOT_USE"] | PIXEL["OUTLIER"])
        model.dq = dq
        for name in ("data", "err", *VARIANCES):
            array = getattr(model, name, None)
            if array is not None and array.shape == data.shape:
                array = np.array(array)
                array[mask] = np.nan
                setattr(model, name, array)
        model.meta.cal_step.outlier_detection = "COMPLETE"
        return int(mask.sum())
