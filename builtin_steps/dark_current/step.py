"""DarkCurrentStep: subtract the dark reference, matched to the science readout."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from builtin_steps._common import load_reference, mark_skipped, open_ramp, reference_cutout
from builtin_steps.dark_current.subtract import (
    average_frames,
    frames_needed,
    group_frames,
    or_dark_dq,
    subtract_group,
)
from pipeline_core import Step

__all__ = ["DarkCurrentStep"]


class DarkCurrentStep(Step):
    """Subtract the DARK reference, frame-averaged to the science NFRAMES/GROUPGAP.

    Skipped when the dark holds fewer frames than the science readout spans,
    or when its NFRAMES or GROUPGAP exceed the science ones. ``dark_output``
    saves the (averaged) dark actually subtracted. The average dark current
    (``average_dark_current``, else the reference's AVDRKCUR) is recorded in
    ``meta.exposure.average_dark_current`` for the ramp fit's Poisson noise.
    """

    class_alias = "dark_current"
    cal_step_key = "dark_sub"
    legacy_class_paths = ("jwst.dark_current.dark_current_step.DarkCurrentStep",)
    reference_file_types = ("dark",)
    spec = """
        dark_output = output_file(default=None) # file name for the dark actually subtracted
        average_dark_current = float(default=None) # average dark current (DN/s) for the Poisson noise
    """

    def process(self, step_input: Any) -> Any:
        """Subtract the dark in place.

        The dark reference is read one science group at a time (only the
        frames averaged into that group), so the step never holds the whole
        dark cube; with ``dark_output`` the matched dark is kept to be saved.

        Parameters
        ----------
        step_input : str, os.PathLike or RampModel
            The ramp.

        Returns
        -------
        RampModel
            The dark-subtracted (or unchanged, skipped) ramp.
        """
        model = open_ramp(self, step_input)
        ref = load_reference(self, model, "dark", lazy=True)
        if ref is None:
            return model
        exp, dexp = model.meta.exposure, ref.meta.exposure
        ngroups = model.data.shape[1]
        nframes, groupgap = int(exp.nframes or 1), int(exp.groupgap or 0)
        d_nframes, d_groupgap = int(dexp.nframes or 1), int(dexp.groupgap or 0)
        dark_frames = ref.shape[-3]
        needed = frames_needed(ngroups, nframes, groupgap)
        if needed > frames_needed(dark_frames, d_nframes, d_groupgap):
            self.log.warning(
                "Dark reference holds %d frames but the science readout spans %d; step skipped", dark_frames, needed
            )
            mark_skipped(self, model)
            return model
        if d_nframes > nframes or d_groupgap > groupgap:
            self.log.warning(
                "Dark NFRAMES/GROUPGAP (%d/%d) exceed the science ones (%d/%d); step skipped",
                d_nframes, d_groupgap, nframes, groupgap,
            )
            mark_skipped(self, model)
            return model
        dark_dq = reference_cutout(self, model, ref, ref.dq, "dark")
        matched = self._subtract_by_group(model, ref, nframes, groupgap, keep=bool(self.dark_output))
        or_dark_dq(model.pixeldq, dark_dq)
        average = self.average_dark_current
        if average is None:
            average = dexp.average_dark_current
        if average is not None:
            model.meta.exposure.average_dark_current = float(average)
        if matched is not None:
            self._save_dark(ref, matched, dark_dq, nframes, groupgap)
        return model

    def _subtract_by_group(
        self, model: Any, ref: Any, nframes: int, groupgap: int, *, keep: bool
    ) -> np.ndarray | None:
        """Read, average and subtract the dark group by group; return it if ``keep``."""
        data = model.data
        nints, ngroups = data.shape[:2]
        ny, nx = data.shape[-2:]
        dark_ints = ref.shape[0] if len(ref.shape) == 4 else None
        used_ints = 1 if dark_ints is None else min(nints, dark_ints)
        matched = None
        if keep:
            shape = (ngroups, ny, nx) if dark_ints is None else (used_ints, ngroups, ny, nx)
            matched = np.empty(shape, dtype=np.float32)
        for g in range(ngroups):
            frames = group_frames(g, nframes, groupgap, ref.shape[-3])
            for d in range(used_ints):
                key = (frames,) if dark_ints is None else (d, frames)
                section = reference_cutout(self, model, ref, ref.read_section("data", key), "dark")
                plane = average_frames(section)
                # the last integration of the dark serves the science integrations after it
                ints = range(d, d + 1) if d < used_ints - 1 else range(d, nints)
                subtract_group(data, g, plane, None if dark_ints is None else ints)
                if matched is not None:
                    matched[(g,) if dark_ints is None else (d, g)] = plane
                del section, plane  # free this plane before the next one is read
        return matched

    def _save_dark(self, ref: Any, matched: Any, dark_dq: Any, nframes: int, groupgap: int) -> None:
        from pipeline_core.datamodels import DarkModel

        out = DarkModel(data=matched, dq=None if dark_dq is None else dark_dq.copy())
        out.meta.reftype = "DARK"
        out.meta.instrument.name = ref.meta.instrument.name
        out.meta.instrument.detector = ref.meta.instrument.detector
        out.meta.exposure.nframes = nframes
        out.meta.exposure.groupgap = groupgap
        out.meta.exposure.ngroups = matched.shape[-3]
        path = self._dark_output_path()
        self.check_product_path(path)
        self.log.info("Saving the subtracted dark to %s", path)
        out.save(path)

    def _dark_output_path(self) -> str:
        path = self.dark_output
        if self.output_dir and not os.path.isabs(path):
            path = os.path.join(self.output_dir, path)
        return path

    def planned_products(self) -> list[str]:
        """Return the paths of the products the step saves: its result's, and ``dark_output``.

        Returns
        -------
        list of str
        """
        paths = super().planned_products()
        if self.dark_output:
            paths.append(self._dark_output_path())
        return paths
