"""AssignWcsStep: build the imaging WCS of an exposure and store it in ``meta.wcs``."""

from __future__ import annotations

from typing import Any

from builtin_steps._common import mark_skipped
from builtin_steps.assign_wcs import imaging, pointing
from builtin_steps.assign_wcs.references import filter_offset, read_distortion
from pipeline_core import Step
from pipeline_core.datamodels import CubeModel, ImageModel, open_model
from pipeline_core.errors import StepError

__all__ = ["AssignWcsStep", "IMAGING_EXP_TYPES"]

#: The exposure types with an imaging WCS (the JWST pipeline's imaging modes).
IMAGING_EXP_TYPES: dict[str, tuple[str, ...]] = {
    "NIRCAM": ("NRC_IMAGE", "NRC_TSIMAGE", "NRC_TACQ", "NRC_TACONFIRM", "NRC_CORON", "NRC_FOCUS"),
    "NIRISS": ("NIS_IMAGE", "NIS_AMI", "NIS_TACQ", "NIS_TACONFIRM", "NIS_FOCUS"),
    "MIRI": ("MIR_IMAGE", "MIR_4QPM", "MIR_LYOT", "MIR_CORONCAL", "MIR_TACQ", "MIR_TACONFIRM"),
}


class AssignWcsStep(Step):
    """Create the gwcs WCS of an imaging exposure (detector -> v2v3 -> world).

    The distortion comes from the ``distortion`` reference (full-frame pixels to
    V2/V3), shifted by the subarray's corner and the filter's offset
    (``filteroffset``); the attitude from ``meta.wcsinfo`` (``V2_REF``,
    ``V3_REF``, ``RA_REF``, ``DEC_REF``, ``ROLL_REF``) or, when the reference
    pointing is missing, from the V1 pointing ``meta.pointing`` (``RA_V1``,
    ``DEC_V1``, ``PA_V3``). Sets ``meta.wcs``, ``meta.wcsinfo.s_region`` and,
    with ``sip_approx``, the FITS TAN-SIP approximation in ``meta.wcsinfo``.
    """

    class_alias = "assign_wcs"
    legacy_class_paths = ("jwst.assign_wcs.assign_wcs_step.AssignWcsStep",)
    reference_file_types = (
        "distortion", "filteroffset", "specwcs", "regions", "wavelengthrange", "camera",
        "chromcorr", "collimator", "disperser", "fore", "fpa", "msa", "ote", "ifupost",
        "ifufore", "ifuslicer",
    )  # fmt: skip
    spec = """
        sip_approx = boolean(default=True)  # enables SIP approximation for imaging modes.
        sip_max_pix_error = float(default=0.01)  # max err for SIP fit, forward.
        sip_degree = integer(max=6, default=None)  # degree for forward SIP fit, None to use best fit.
        sip_max_inv_pix_error = float(default=0.01)  # max err for SIP fit, inverse.
        sip_inv_degree = integer(max=6, default=None)  # degree for inverse SIP fit, None to use best fit.
        sip_npoints = integer(default=12)  #  number of points for SIP
        slit_y_low = float(default=-.55)  # The lower edge of a slit (NIRSpec only).
        slit_y_high = float(default=.55)  # The upper edge of a slit (NIRSpec only).
        nrs_ifu_slice_wcs = boolean(default=False)  # For NIRSpec IFU, create a full slice-based WCS instead of a top-level coordinate-based WCS. Used for diagnostic purposes only.
    """

    def process(self, step_input: Any) -> Any:
        """Attach the WCS.

        Parameters
        ----------
        step_input : str, os.PathLike, ImageModel or CubeModel
            A count-rate image (``rate``) or cube (``rateints``).

        Returns
        -------
        ImageModel or CubeModel
            The same model with ``meta.wcs`` set (other model types: skipped).
        """
        model = open_model(step_input)
        if not isinstance(model, (ImageModel, CubeModel)):
            self.log.warning(
                "Step %s expects an ImageModel or CubeModel, got a %s; step skipped",
                self.name, type(model).__name__,
            )
            mark_skipped(self, model)
            return model
        instrument = str(model.meta.instrument.name or "").upper()
        exp_type = str(model.meta.exposure.type or "").upper()
        self._check_mode(model, instrument, exp_type)
        v2_ref, v3_ref, roll_ref, ra_ref, dec_ref = self._attitude(model)
        det2v2v3 = self._detector_to_v2v3(model, instrument)
        va_corr = pointing.dva_correction(model.meta.velocity_aberration.scale_factor, v2_ref, v3_ref)
        to_sky = pointing.v2v3_to_sky(v2_ref, v3_ref, roll_ref, ra_ref, dec_ref)
        wcs = imaging.imaging_wcs(det2v2v3, va_corr, to_sky)
        model.meta.wcs = wcs
        region = imaging.s_region(wcs)
        if region is not None:
            model.meta.wcsinfo.s_region = region
            self.log.info("assign_wcs updated S_REGION to %s", region)
        if self.sip_approx:
            self._fit_sip(model)
        model.meta.cal_step.assign_wcs = "COMPLETE"
        return model

    # ------------------------------------------------------------------ parts
    def _label(self, model: Any) -> str:
        return f"step '{self.name}': '{model.meta.filename or '<in memory>'}'"

    def _check_mode(self, model: Any, instrument: str, exp_type: str) -> None:
        modes = IMAGING_EXP_TYPES.get(instrument)
        if modes is None or exp_type not in modes:
            accepted = "; ".join(f"{i}: {', '.join(t)}" for i, t in IMAGING_EXP_TYPES.items())
            raise StepError(
                f"{self._label(model)} is a {instrument or '?'} {exp_type or '?'} exposure "
                f"(INSTRUME={instrument!r}, EXP_TYPE={exp_type!r}); this step builds imaging "
                f"WCSs only ({accepted}). Check the exposure's INSTRUME and EXP_TYPE keywords, "
                "or skip the step (steps={'assign_wcs': {'skip': True}})."
            )

    def _attitude(self, model: Any) -> tuple[float, float, float, float, float]:
        info = model.meta.wcsinfo
        v2_ref, v3_ref = info.v2_ref, info.v3_ref
        if v2_ref is None or v3_ref is None:
            raise StepError(
                f"{self._label(model)} has no reference point in the telescope frame: "
                f"meta.wcsinfo.v2_ref = {v2_ref!r}, v3_ref = {v3_ref!r} (keywords V2_REF, V3_REF "
                "of the SCI header). The WCS needs them: add the SIAF V2Ref/V3Ref (arcsec) of the "
                "exposure's aperture (APERNAME), as the JWST level-1b products carry them."
            )
        ref = (info.ra_ref, info.dec_ref, info.roll_ref)
        if all(v is not None for v in ref):
            return float(v2_ref), float(v3_ref), float(ref[2]), float(ref[0]), float(ref[1])
        v1 = (model.meta.pointing.ra_v1, model.meta.pointing.dec_v1, model.meta.pointing.pa_v3)
        if any(v is None for v in v1):
            raise StepError(
                f"{self._label(model)} has no telescope pointing: meta.wcsinfo.ra_ref/dec_ref/"
                f"roll_ref = {ref[0]!r}/{ref[1]!r}/{ref[2]!r} (RA_REF, DEC_REF, ROLL_REF) and "
                f"meta.pointing.ra_v1/dec_v1/pa_v3 = {v1[0]!r}/{v1[1]!r}/{v1[2]!r} (RA_V1, "
                "DEC_V1, PA_V3) are not all set. The WCS needs one of the two sets: add the "
                "keywords to the SCI header (the JWST level-1b products carry them), or skip "
                "assign_wcs and resample (steps={'assign_wcs': {'skip': True}, 'resample': "
                "{'skip': True}})."
            )
        ra_ref, dec_ref, roll_ref = pointing.reference_from_v1(*map(float, v1), float(v2_ref), float(v3_ref))
        info.ra_ref, info.dec_ref, info.roll_ref = ra_ref, dec_ref, roll_ref
        self.log.info(
            "Reference pointing from the V1 pointing: RA_REF=%.9f DEC_REF=%.9f ROLL_REF=%.9f",
            ra_ref, dec_ref, roll_ref,
        )
        return float(v2_ref), float(v3_ref), roll_ref, ra_ref, dec_ref

    def _detector_to_v2v3(self, model: Any, instrument: str) -> Any:
        path = self.get_reference_file(model, "distortion")
        if path == "N/A":
            raise StepError(
                f"{self._label(model)}: no DISTORTION reference file applies to these data (CRDS "
                "says N/A), and the WCS cannot be built without one. Set override_distortion to a "
                "DISTORTION reference file."
            )
        detector = str(model.meta.instrument.detector or "")
        distortion = read_distortion(self.name, path, instrument, detector)
        offset = None
        offset_path = self.get_reference_file(model, "filteroffset")
        if offset_path != "N/A":
            offset = filter_offset(
                self.name, offset_path, model.meta.instrument.filter, model.meta.instrument.pupil
            )
            if offset is None:
                self.log.info("No filter offset for FILTER=%s PUPIL=%s", model.meta.instrument.filter,
                              model.meta.instrument.pupil)
            else:
                self.log.info("Filter offsets (column, row): %s", offset)
        sub = model.meta.subarray
        return imaging.detector_to_v2v3(
            distortion,
            shape=tuple(model.data.shape[-2:]),
            xstart=int(sub.xstart or 1),
            ystart=int(sub.ystart or 1),
            filter_offset=offset,
        )

    def _fit_sip(self, model: Any) -> None:
        info = model.meta.wcsinfo
        crpix = (info.crpix1, info.crpix2)
        try:
            keywords = imaging.fits_sip_keywords(
                model.meta.wcs,
                max_pix_error=self.sip_max_pix_error,
                degree=self.sip_degree,
                max_inv_pix_error=self.sip_max_inv_pix_error,
                inv_degree=self.sip_inv_degree,
                npoints=self.sip_npoints,
                crpix=None if None in crpix else crpix,
            )
        except (ValueError, RuntimeError) as error:
            self.log.warning("Failed to update 'meta.wcsinfo' with FITS SIP approximation: %s", error)
            return
        for key in list(info):
            if key in ("cdelt1", "cdelt2", "pc1_1", "pc1_2", "pc2_1", "pc2_2") or _is_sip_key(key):
                delattr(info, key)
        for key, value in keywords.items():
            setattr(info, key, value)


def _is_sip_key(key: str) -> bool:
    parts = key.split("_")
    if key in ("a_order", "b_order", "ap_order", "bp_order"):
        return True
    return len(parts) == 3 and parts[0] in ("a", "b", "ap", "bp") and parts[1].isdigit() and parts[2].isdigit()
