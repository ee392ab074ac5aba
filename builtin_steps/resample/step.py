"""ResampleStep: drizzle calibrated images onto a distortion-free sky grid (``i2d``)."""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from builtin_steps.resample.drizzle_images import VARIANCES, DrizzleAccumulator, DrizzleInput, unsubtracted_sky
from builtin_steps.resample.output_wcs import OutputGrid, load_custom_wcs, output_grid
from pipeline_core import Step
from pipeline_core.datamodels import ImageModel
from pipeline_core.datamodels.dqflags import pixel as PIXEL
from pipeline_core.errors import ParameterError, StepError

__all__ = ["ResampleStep"]

_REMOVED_WCSINFO = ("v2_ref", "v3_ref", "ra_ref", "dec_ref", "roll_ref", "v3yangle", "vparity")


def _is_sip_or_cd(key: str) -> bool:
    parts = key.split("_")
    if key in ("a_order", "b_order", "ap_order", "bp_order", "sipmxerr", "sipiverr"):
        return True
    if len(parts) == 2 and parts[0] in ("cd1", "cd2"):
        return True
    return len(parts) == 3 and parts[0] in ("a", "b", "ap", "bp") and parts[1].isdigit() and parts[2].isdigit()


class ResampleStep(Step):
    """Resample images with the drizzle algorithm onto one undistorted TAN grid.

    The inputs need a WCS (``assign_wcs``). The output (suffix ``i2d``) is an
    ImageModel with the resampled data (surface brightness is kept: a flat sky
    keeps its value), the weight image ``wht``, the context image ``con`` (which
    inputs contributed to each pixel), the resampled variances and their error,
    its WCS in ``meta.wcs`` and its FITS TAN keywords in ``meta.wcsinfo``.
    Pixels flagged ``DO_NOT_USE`` or ``NON_SCIENCE`` get no weight.
    """

    class_alias = "resample"
    legacy_class_paths = ("jwst.resample.resample_step.ResampleStep",)
    default_suffix = "i2d"
    spec = """
        pixfrac = float(min=0.0, max=1.0, default=1.0)  # Pixel shrinkage factor
        kernel = option('square','gaussian','point','turbo','lanczos2','lanczos3',default='square')  # Flux distribution kernel
        fillval = string(default='NAN')  # Output value for pixels with no weight or flux
        weight_type = option('ivm', 'exptime', None, default='ivm')  # Input image weighting type
        output_shape = int_list(min=2, max=2, default=None)  # [x, y] order
        crpix = float_list(min=2, max=2, default=None)  # 0-based image coordinates of the reference pixel
        crval = float_list(min=2, max=2, default=None)  # world coordinates of the reference pixel
        rotation = float(default=None)  # Output image Y-axis PA relative to North
        pixel_scale_ratio = float(default=1.0)  # Ratio of output to input pixel scale.
        pixel_scale = float(default=None)  # Absolute pixel scale in arcsec
        output_wcs = string(default='')  # Custom output WCS. Overrides other WCS parameters if provided.
        single = boolean(default=False)  # Resample each input to its own output grid
        blendheaders = boolean(default=True)  # Blend metadata from inputs into output
        in_memory = boolean(default=True)  # Keep images in memory
        enable_ctx = boolean(default=True)  # Compute and report the context array
        enable_err = boolean(default=True)  # Compute and report the err array
        report_var = boolean(default=True)  # Report the variance array
        propagate_dq = boolean(default=False)  # propagate DQ during resampling
        pixmap_stepsize = float(default=1.0)  # Interpolation step size for pixel map; interpolation is used for stepsize > 1
        pixmap_order = integer(default=1)  # Spline order for pixel mapping, must be 1 or 3
    """

    def process(self, step_input: Any) -> Any:
        """Resample.

        Parameters
        ----------
        step_input : str, os.PathLike, ImageModel, list of those, ModelLibrary or association file
            Calibrated images with a WCS; an association's ``science`` members.

        Returns
        -------
        ImageModel or list of ImageModel
            The resampled image (``single``: one per input).

        Notes
        -----
        The inputs are held in a :class:`~builtin_steps.library.ModelLibrary`
        (a library given is used as it is; otherwise one is made with
        ``on_disk = not in_memory``). They are read twice, one at a time: once
        for their WCS and metadata, once to be drizzled into the output; an
        on-disk library holds only the exposure being added.
        """
        library = self._library(step_input)
        self._check_parameters()
        exposures = self._survey(library)
        if self.single:
            return [self._resample(library, [index], [exposures[index]]) for index in range(len(library))]
        return self._resample(library, list(range(len(library))), exposures)

    # ------------------------------------------------------------------ inputs
    def _library(self, step_input: Any) -> Any:
        from builtin_steps.library import ModelLibrary

        if isinstance(step_input, ModelLibrary):
            return step_input
        if isinstance(step_input, (list, tuple)):
            items = list(step_input)
        elif isinstance(step_input, (str, os.PathLike)) and os.fspath(step_input).lower().endswith(".json"):
            from builtin_steps.association import load_level2

            items = [m for p in load_level2(step_input).products for m in p.of_type("science")]
        else:
            items = [step_input]
        if not items:
            raise StepError(f"step '{self.name}': the input is an empty list; give calibrated images.")
        return ModelLibrary(items, on_disk=not self.in_memory)

    def _survey(self, library: Any) -> list[_Exposure]:
        """Check each input and keep what the output grid and metadata need (not the arrays)."""
        exposures = []
        for index, model in library.models(modify=False):
            name = model.meta.filename or "<in memory>"
            shape = model.shape
            if not isinstance(model, ImageModel) or shape is None or len(shape) != 2:
                raise StepError(
                    f"step '{self.name}': input '{name}' is a {type(model).__name__}; resample takes "
                    "2-D images (ImageModel, e.g. 'cal' products). Give calibrated images."
                )
            if model.meta.wcs is None or not callable(model.meta.wcs):
                raise StepError(
                    f"step '{self.name}': input '{name}' has no WCS (meta.wcs); run assign_wcs on it "
                    "first (the Image2 pipeline does), or skip resample."
                )
            exposures.append(_Exposure.of(model, keep_meta=index == 0 or self.single))
        return exposures

    def _check_parameters(self) -> None:
        if self.pixmap_order not in (1, 3):
            raise ParameterError(
                f"step '{self.name}': pixmap_order = {self.pixmap_order!r} is not accepted; give 1 "
                "(linear) or 3 (cubic)."
            )
        if self.pixel_scale_ratio <= 0 or (self.pixel_scale is not None and self.pixel_scale <= 0):
            raise ParameterError(
                f"step '{self.name}': pixel_scale_ratio = {self.pixel_scale_ratio!r}, pixel_scale = "
                f"{self.pixel_scale!r}: the scale must be positive; give e.g. pixel_scale_ratio=1.0."
            )
        if self.output_shape is not None and min(self.output_shape) < 1:
            raise ParameterError(
                f"step '{self.name}': output_shape = {list(self.output_shape)} is not accepted; give "
                "two positive sizes [nx, ny]."
            )
        if self.fillval.strip().upper() not in ("", "INDEF", "NAN"):
            try:
                float(self.fillval)
            except ValueError:
                raise ParameterError(
                    f"step '{self.name}': fillval = {self.fillval!r} is not accepted; give a number, "
                    "'NAN' or 'INDEF'."
                ) from None

    # ------------------------------------------------------------------ work
    def _grid(self, exposures: list[_Exposure]) -> OutputGrid:
        shape = None if self.output_shape is None else (self.output_shape[1], self.output_shape[0])
        if self.output_wcs:
            try:
                return load_custom_wcs(self.output_wcs, shape)
            except (OSError, ValueError) as error:
                raise ParameterError(
                    f"step '{self.name}': output_wcs = {self.output_wcs!r} cannot be used: {error}. "
                    "Give an ASDF file whose 'wcs' entry is a gwcs WCS with array_shape or "
                    "bounding_box (or output_shape)."
                ) from error
        try:
            return output_grid(
                [e.wcs for e in exposures],
                [e.shape for e in exposures],
                exposures[0].wcsinfo,
                pixel_scale_ratio=self.pixel_scale_ratio,
                pixel_scale=self.pixel_scale,
                rotation=self.rotation,
                shape=shape,
                crpix=self.crpix,
                crval=self.crval,
            )
        except ValueError as error:
            raise ParameterError(
                f"step '{self.name}': the output grid cannot be built ({error}) with output_shape="
                f"{self.output_shape}, crpix={self.crpix}, crval={self.crval}, pixel_scale="
                f"{self.pixel_scale}, pixel_scale_ratio={self.pixel_scale_ratio}; check these values."
            ) from error

    def _resample(self, library: Any, indices: list[int], exposures: list[_Exposure]) -> Any:
        grid = self._grid(exposures)
        ref = exposures[0]
        ratio = grid.pixel_scale / ref.input_scale if ref.input_scale else self.pixel_scale_ratio
        accumulator = DrizzleAccumulator(
            grid.wcs, grid.shape, n_inputs=len(indices),
            pixfrac=self.pixfrac, kernel=self.kernel, fillval=self.fillval,
            weight_type=self.weight_type, bad_bits=PIXEL["DO_NOT_USE"] | PIXEL["NON_SCIENCE"],
            pixel_scale_ratio=ratio, enable_ctx=self.enable_ctx, enable_var=self.enable_err,
            propagate_dq=self.propagate_dq, pixmap_stepsize=self.pixmap_stepsize,
            pixmap_order=self.pixmap_order,
        )
        for index in indices:
            model = library[index]
            accumulator.add(DrizzleInput(
                data=model.data, dq=model.dq, wcs=model.meta.wcs,
                variances={name: getattr(model, name) for name in VARIANCES},
                exposure_time=model.meta.exposure.exposure_time,
                measurement_time=model.meta.exposure.measurement_time,
                sky_level=unsubtracted_sky(model),
            ))
            library.shelve(index, model, modify=False)
            del model
        return self._output_model(exposures, grid, accumulator.result(), ratio)

    def _output_model(self, exposures: list[_Exposure], grid: OutputGrid, result: Any, ratio: float) -> Any:
        out = ImageModel()
        out.meta = copy.deepcopy(exposures[0].meta)
        out.data = result.data
        out.wht = result.wht
        if result.con is not None:
            out.con = result.con
        if result.dq is not None:
            out.dq = result.dq
        else:
            out.dq = np.zeros(grid.shape, np.uint32)
        if result.err is not None:
            out.err = result.err
        elif out.meta.bunit_err is not None:
            del out.meta.bunit_err
        if self.enable_err and self.report_var:
            for name, array in result.variances.items():
                setattr(out, name, array)
        out.meta.wcs = grid.wcs
        self._update_wcsinfo(out, grid)
        scale_rad = np.deg2rad(grid.pixel_scale / 3600.0)
        out.meta.photometry.pixelarea_steradians = float(scale_rad**2)
        out.meta.photometry.pixelarea_arcsecsq = float(grid.pixel_scale**2)
        res = out.meta.resample
        res.pointings = len({e.group for e in exposures})
        res.pixel_scale_ratio = float(ratio)
        res.pixfrac = float(self.pixfrac)
        res.kernel = self.kernel
        res.fillval = self.fillval
        res.weight_type = self.weight_type
        self._update_times(out, exposures)
        out.meta.cal_step.resample = "COMPLETE"
        return out

    def _update_wcsinfo(self, out: Any, grid: OutputGrid) -> None:
        info = out.meta.wcsinfo
        for key in list(info):
            if _is_sip_or_cd(key) or key in _REMOVED_WCSINFO:
                delattr(info, key)
        transform = grid.wcs.forward_transform
        crpix = getattr(transform, "crpix", None)
        if crpix is not None:
            info.crpix1, info.crpix2 = float(crpix[0]) + 1.0, float(crpix[1]) + 1.0
            info.cdelt1, info.cdelt2 = (float(c) for c in transform.cdelt)
            info.crval1, info.crval2 = (float(c) for c in transform.crval)
            pc = np.asarray(transform.pc)
            info.pc1_1, info.pc1_2 = float(pc[0][0]), float(pc[0][1])
            info.pc2_1, info.pc2_2 = float(pc[1][0]), float(pc[1][1])
            info.ctype1, info.ctype2 = "RA---TAN", "DEC--TAN"
            info.cunit1 = info.cunit2 = "deg"
            info.wcsaxes = 2
            out.meta.coordinates.reference_frame = "ICRS"
        from builtin_steps.assign_wcs.imaging import s_region

        region = s_region(grid.wcs)
        if region is not None:
            info.s_region = region

    def _update_times(self, out: Any, exposures: list[_Exposure]) -> None:
        groups: dict[Any, _Exposure] = {}
        for e in exposures:
            groups.setdefault(e.group, e)
        firsts = list(groups.values())

        def total(attr: str) -> float | None:
            values = [e.times[attr] for e in firsts]
            return None if any(v is None for v in values) else float(sum(values))

        exp = out.meta.exposure
        exp.exposure_time = total("exposure_time")
        exp.effective_exposure_time = exp.exposure_time
        exp.measurement_time = total("measurement_time")
        exp.duration = total("duration")
        exp.elapsed_exposure_time = exp.duration
        starts = [e.times["start_time"] for e in firsts if e.times["start_time"] is not None]
        ends = [e.times["end_time"] for e in firsts if e.times["end_time"] is not None]
        exp.start_time = min(starts) if starts else None
        exp.end_time = max(ends) if ends else None


_TIMES = ("exposure_time", "measurement_time", "duration", "start_time", "end_time")


@dataclass
class _Exposure:
    """What the output needs of one input besides its arrays (kept for every input)."""

    shape: tuple[int, int]
    wcs: Any
    wcsinfo: dict[str, Any]
    group: Any
    times: dict[str, Any]
    input_scale: float | None
    meta: dict[str, Any] | None

    @classmethod
    def of(cls, model: Any, *, keep_meta: bool) -> _Exposure:
        """Describe ``model``; ``keep_meta``: also keep its metadata (the output's start as the first input's)."""
        area = model.meta.photometry.pixelarea_steradians
        meta = None
        if keep_meta:
            meta = model.meta.to_dict()
            meta.pop("wcs", None)
            meta.pop("model_type", None)
        return cls(
            shape=tuple(model.shape), wcs=model.meta.wcs, wcsinfo=model.meta.wcsinfo.to_dict(),
            group=_group_id(model), times={t: getattr(model.meta.exposure, t) for t in _TIMES},
            input_scale=float(3600.0 * np.rad2deg(np.sqrt(area))) if area and area > 0 else None, meta=meta,
        )


def _group_id(model: Any) -> Any:
    obs = model.meta.observation
    parts = (obs.program_number, obs.observation_number, obs.visit_number, obs.visit_group,
             obs.sequence_id, obs.activity_id, obs.exposure_number)
    return parts if any(p is not None for p in parts) else (model.meta.filename or id(model))
