"""DQInitStep: initialise PIXELDQ from the MASK reference file."""

from __future__ import annotations

from typing import Any

import numpy as np

from builtin_steps._common import load_reference, open_ramp
from builtin_steps.dq_init.mask import apply_mask
from pipeline_core import Step
from pipeline_core.errors import ParameterError

__all__ = ["DQInitStep"]


class DQInitStep(Step):
    """OR the bad-pixel mask into PIXELDQ (and DO_NOT_USE into every group).

    A full-frame mask is cut to the science subarray. ``user_supplied_dq``
    names a FITS file whose first image extension (or primary array) holds
    extra integer flags of the science frame's shape.
    """

    class_alias = "dq_init"
    legacy_class_paths = ("jwst.dq_init.dq_init_step.DQInitStep",)
    reference_file_types = ("mask",)
    spec = """
        user_supplied_dq = string(default=None) # FITS file of extra DQ flags for the science frame
    """

    def process(self, step_input: Any) -> Any:
        """Initialise the DQ arrays in place.

        Parameters
        ----------
        step_input : str, os.PathLike or RampModel
            The ramp.

        Returns
        -------
        RampModel
            The ramp with PIXELDQ and GROUPDQ updated (or unchanged, skipped).
        """
        model = open_ramp(self, step_input)
        ref = load_reference(self, model, "mask")
        if ref is None:
            return model
        mask = ref.dq
        user_dq = self._user_dq(model.pixeldq.shape) if self.user_supplied_dq else None
        apply_mask(model.pixeldq, model.groupdq, mask, user_dq=user_dq)
        return model

    def _user_dq(self, shape: tuple[int, ...]) -> np.ndarray:
        from astropy.io import fits

        path = self.user_supplied_dq
        try:
            with fits.open(path) as hdul:
                arrays = [h.data for h in hdul if h.data is not None and getattr(h.data, "ndim", 0) == 2]
        except OSError as exc:
            raise ParameterError(
                f"step {self.name}: parameter user_supplied_dq={path!r} cannot be read ({exc}); "
                "give a FITS file holding one 2-D integer image"
            ) from exc
        if not arrays or arrays[0].shape != shape or arrays[0].dtype.kind not in "iu":
            got = "no 2-D image" if not arrays else f"{arrays[0].dtype} {arrays[0].shape}"
            raise ParameterError(
                f"step {self.name}: parameter user_supplied_dq={path!r} holds {got}; "
                f"expected a 2-D integer image of shape {shape}"
            )
        return arrays[0]
