"""RefPixStep: remove bias drifts using the detector's reference pixels."""

from __future__ import annotations

from typing import Any

from builtin_steps._common import mark_skipped, open_ramp, science_window
from builtin_steps.refpix.correct import RefpixOptions, correct_nir
from builtin_steps.refpix.irs2_layout import is_irs2_shape
from builtin_steps.refpix.irs2_step import run_irs2
from builtin_steps.refpix.miri import MIRI_SHAPE, correct_miri
from builtin_steps.refpix.orientation import FULL_SIZE
from builtin_steps.refpix.sirs import SirsKernels, make_kernels, read_sirs_coefficients
from pipeline_core import Step
from pipeline_core.errors import ParameterError, ReferenceFileError

__all__ = ["RefPixStep"]


class RefPixStep(Step):
    """Subtract the reference-pixel signal from ramps.

    Near-infrared full frames and subarrays read through four outputs:
    per-amplifier (even/odd column) top/bottom reference means, then the side
    reference signal (running median, or SIRS convolution kernels with
    ``refpix_algorithm='sirs'`` on full frames). Subarrays read through one
    output: the means of the reference pixels they contain. MIRI full frames:
    per-amplifier (odd/even row) means of the left and right reference
    columns. NIRSpec IRS2 readouts: interleaved reference pixels and the
    reference output, through the REFPIX Fourier weights.
    """

    class_alias = "refpix"
    legacy_class_paths = ("jwst.refpix.refpix_step.RefPixStep",)
    reference_file_types = ("refpix", "sirskernel")
    spec = """
        odd_even_columns = boolean(default=True) # Compute reference signal separately for even/odd columns
        use_side_ref_pixels = boolean(default=True) # Use side reference pixels for reference signal for each row
        side_smoothing_length = integer(default=11, min=1) # Median window smoothing height for side reference signal
        side_gain = float(default=1.0) # Multiplicative factor for side reference signal before subtracting from rows
        odd_even_rows = boolean(default=True) # Compute reference signal separately for even- and odd-numbered rows
        ovr_corr_mitigation_ftr = float(default=3.0) # Factor to avoid overcorrection of bad reference pixels for IRS2
        preserve_irs2_refpix = boolean(default=False) # Preserve reference pixels in output
        irs2_mean_subtraction = boolean(default=False) # Apply a mean offset subtraction before IRS2 correction
        refpix_algorithm = option("median", "sirs", default="median") # NIR full-frame side pixel algorithm
        sigreject = float(default=4.0) # Number of sigmas to reject as outliers
        gaussmooth = float(default=1.0) # Width of Gaussian smoothing kernel to use as a low-pass filter
        halfwidth = integer(default=30) # Half-width of convolution kernel to build
        siglimit = float(default=3.0) # Sigma-clipping limit of the reference pixel means
    """

    def process(self, step_input: Any) -> Any:
        """Correct the ramp.

        Parameters
        ----------
        step_input : str, os.PathLike or RampModel
            The ramp (after dq_init, which flags the reference pixels).

        Returns
        -------
        RampModel
            The corrected (or unchanged, skipped) ramp.
        """
        model = open_ramp(self, step_input)
        if is_irs2_shape(model.data.shape):
            return run_irs2(self, model)
        if (model.meta.instrument.name or "").upper() == "MIRI":
            return self._miri(model)
        options = RefpixOptions(
            odd_even_columns=self.odd_even_columns,
            use_side_ref_pixels=self.use_side_ref_pixels,
            side_smoothing_length=self.side_smoothing_length,
            side_gain=self.side_gain,
            siglimit=self.siglimit,
            sirs=self._sirs_kernels(model),
        )
        zeroframe = model.zeroframe if model.meta.exposure.zero_frame else None
        status = correct_nir(
            model.data,
            model.pixeldq,
            detector=model.meta.instrument.detector,
            window=science_window(model),
            noutputs=model.meta.exposure.noutputs,
            options=options,
            zeroframe=zeroframe,
        )
        if status == "does_not_fit":
            self.log.warning("Subarray %s does not fit on the detector; step skipped", science_window(model))
            mark_skipped(self, model)
        elif status == "no_reference_pixels":
            self.log.warning("No usable reference pixels in the data; step skipped")
            mark_skipped(self, model)
        return model

    def _miri(self, model: Any) -> Any:
        if model.data.shape[-2:] != MIRI_SHAPE:
            self.log.warning("Reference-pixel correction skipped for MIRI subarray data")
            mark_skipped(self, model)
            return model
        found = correct_miri(model.data, model.pixeldq, odd_even_rows=self.odd_even_rows, siglimit=self.siglimit)
        if not found:
            self.log.warning("No usable MIRI reference pixels; step skipped")
            mark_skipped(self, model)
        return model

    def _sirs_kernels(self, model: Any) -> SirsKernels | None:
        """The SIRS kernels when they apply (NIR full frame, 'sirs'), else None."""
        if self.refpix_algorithm != "sirs":
            return None
        if model.data.shape[-2:] != (FULL_SIZE, FULL_SIZE) or "FULL" not in (model.meta.subarray.name or "FULL"):
            self.log.info("Simple Improved Reference Subtraction (SIRS) not applied for subarray data.")
            return None
        if self.gaussmooth <= 0:
            raise ParameterError(
                f"step {self.name}: parameter gaussmooth = {self.gaussmooth!r} must be > 0 (the width "
                "of the Gaussian smoothing of the SIRS kernels, in rows)"
            )
        if self.halfwidth < 0:
            raise ParameterError(
                f"step {self.name}: parameter halfwidth = {self.halfwidth!r} must be >= 0 (half-width "
                "of the SIRS kernels, in rows)"
            )
        path = self.get_reference_file(model, "sirskernel")
        if path == "N/A":
            self.log.warning("No SIRSKERNEL reference file; the running median is used for the side pixels")
            return None
        detector = model.meta.instrument.detector or ""
        try:
            coefficients = read_sirs_coefficients(path, detector)
        except Exception as error:
            raise ReferenceFileError(
                f"step {self.name}: cannot read the SIRSKERNEL reference file '{path}' "
                f"({type(error).__name__}: {error}); give an ASDF file with gamma/zeta per detector"
            ) from error
        if coefficients is None:
            self.log.info("SIRS kernel coefficients not found for detector %s; running median used", detector)
            return None
        try:
            return make_kernels(*coefficients, gaussmooth=self.gaussmooth, halfwidth=self.halfwidth, sigreject=self.sigreject)
        except ValueError as error:
            raise ParameterError(f"step {self.name}: parameter halfwidth = {self.halfwidth!r}: {error}") from error
