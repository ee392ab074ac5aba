"""IPCStep: remove inter-pixel capacitance by convolving with the IPC deconvolution kernel."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from builtin_steps._common import Window, mark_skipped, open_ramp, science_window, subarray_cutout
from builtin_steps.ipc.convolve import convolve_planes, prepare_pixel_kernel, reference_borders
from builtin_steps.ipc.irs2 import irs2_normal_mask, is_irs2
from pipeline_core import Step
from pipeline_core.errors import ReferenceFileError, StepError

__all__ = ["IPCStep"]

#: Planes convolved at once are kept below about this many bytes.
_BLOCK_BYTES = 64 << 20


class IPCStep(Step):
    """Correct every group for inter-pixel capacitance with the IPC reference kernel.

    The kernel is a small 2-D array used for every pixel, or a 4-D per-pixel
    kernel; reference pixels are left unchanged. NIRSpec IRS2 readouts are
    corrected on their normal pixels only. Without an IPC reference file (N/A)
    the step is skipped.
    """

    class_alias = "ipc"
    legacy_class_paths = ("jwst.ipc.ipc_step.IPCStep",)
    reference_file_types = ("ipc",)
    spec = ""

    def process(self, step_input: Any) -> Any:
        """Convolve the ramp in place.

        Parameters
        ----------
        step_input : str, os.PathLike or RampModel
            The ramp.

        Returns
        -------
        RampModel
            The corrected (or unchanged, skipped) ramp.
        """
        model = open_ramp(self, step_input)
        path = self.get_reference_file(model, "ipc")
        if isinstance(path, str) and path == "N/A":
            self.log.warning("No IPC reference file applies; step %s skipped", self.name)
            mark_skipped(self, model)
            return model
        kernel, ref_window, name = self._load_kernel(path)
        irs2_rows = self._irs2_rows(model)
        window = self._normal_window(model, irs2_rows is not None)
        borders = reference_borders(
            model.meta.instrument.name or "", window.xstart, window.ystart, window.xsize, window.ysize
        )
        self.log.debug("IPC reference pixels (bottom, top, left, right): %s", tuple(borders))
        if kernel.ndim == 4:
            kernel = self._pixel_kernel(kernel, window, ref_window, name)
        for planes in _blocks(model.data):
            if irs2_rows is None:
                convolve_planes(planes, kernel, borders)
            else:
                normal = planes[..., irs2_rows, :]
                convolve_planes(normal, kernel, borders)
                planes[..., irs2_rows, :] = normal
        return model

    # ------------------------------------------------------------------ helpers
    def _load_kernel(self, path: Any) -> tuple[np.ndarray, Window | None, str]:
        """Open the IPC reference; return its checked kernel, the window it covers, its name."""
        from pipeline_core.datamodels import IPCModel, open_model
        from pipeline_core.references import check_reference_type

        ref = open_model(path, model_class=None if hasattr(path, "meta") else IPCModel)
        check_reference_type(self, ref, "ipc")
        name = ref.meta.filename or "<in memory>"
        kernel = getattr(ref, "data", None)
        if kernel is None or kernel.ndim not in (2, 4):
            got = "no data array" if kernel is None else f"a {kernel.ndim}-D array"
            raise ReferenceFileError(
                f"step {self.name}: the IPC reference '{name}' holds {got}; an IPC kernel is 2-D "
                "(kny x knx) or 4-D (kny x knx x ny x nx). Give a valid IPC reference (override_ipc)."
            )
        kny, knx = kernel.shape[:2]
        if kny % 2 == 0 or knx % 2 == 0:
            raise ReferenceFileError(
                f"step {self.name}: the IPC kernel in '{name}' is {kny} x {knx}; its sizes must be odd "
                "so that it has a centre pixel. Give a valid IPC reference (override_ipc)."
            )
        if kernel.ndim == 2 and not np.isfinite(kernel).all():
            raise ReferenceFileError(
                f"step {self.name}: the 2-D IPC kernel in '{name}' holds NaN or infinite values; "
                "every value must be finite. Give a valid IPC reference (override_ipc)."
            )
        return kernel, _reference_window(ref, kernel), name

    def _pixel_kernel(
        self, kernel: np.ndarray, window: Window, ref_window: Window | None, name: str
    ) -> np.ndarray:
        """Cut a 4-D kernel to the data's pixels and neutralise NaN pixels."""
        cut = subarray_cutout(
            kernel, sci_window=window, ref_window=ref_window, what=f"step {self.name}: IPC reference '{name}'"
        )
        cut, bad = prepare_pixel_kernel(cut)
        if bad:
            self.log.warning("IPC kernel of %d pixel(s) holds NaN; those pixels are not corrected", bad)
        return cut

    def _irs2_rows(self, model: Any) -> np.ndarray | None:
        """The normal rows of an IRS2 readout (None for other data)."""
        if not is_irs2(model.data.shape):
            return None
        detector = (model.meta.instrument.detector or "").upper()
        if detector not in ("NRS1", "NRS2"):
            raise StepError(
                f"step {self.name}: the data are {model.data.shape[-2]} x {model.data.shape[-1]} pixels, "
                f"an IRS2 layout, but detector {detector or '(unset)'} is not NIRSpec NRS1/NRS2; "
                "only NIRSpec IRS2 readouts can be larger than 2048 pixels"
            )
        exposure = model.meta.exposure
        normal = exposure.nrs_normal if exposure.nrs_normal is not None else 16
        reference = exposure.nrs_reference if exposure.nrs_reference is not None else 4
        try:
            mask = irs2_normal_mask(model.data.shape[-2], int(normal), int(reference))
        except ValueError as exc:
            raise StepError(f"step {self.name}: cannot find the IRS2 normal rows: {exc}") from exc
        return mask[::-1] if detector == "NRS2" else mask

    @staticmethod
    def _normal_window(model: Any, irs2: bool) -> Window:
        """The detector window of the image the kernel applies to."""
        if irs2:  # full-frame readouts only: 2048 normal rows
            return Window(1, 1, int(model.data.shape[-1]), 2048)
        return science_window(model)


def _reference_window(ref: Any, kernel: np.ndarray) -> Window | None:
    """The window a 4-D kernel covers (None: full frame from pixel (1, 1))."""
    sub = ref.meta.subarray
    if kernel.ndim != 4 or sub.xstart is None or sub.ystart is None:
        return None
    ny, nx = kernel.shape[-2:]
    return Window(int(sub.xstart), int(sub.ystart), nx, ny)


def _blocks(data: np.ndarray) -> Iterator[np.ndarray]:
    """Yield views of ``data`` (``nints x ngroups x ny x nx``) of a bounded size."""
    nints, ngroups = data.shape[:2]
    plane = max(1, data[0, 0].nbytes)
    per_block = max(1, _BLOCK_BYTES // plane)
    for integration in range(nints):
        for start in range(0, ngroups, per_block):
            yield data[integration, start : start + per_block]

