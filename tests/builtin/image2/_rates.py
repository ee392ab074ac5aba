"""Synthetic count-rate images with the metadata Image2 needs (pointing, filter, subarray)."""

from __future__ import annotations

import numpy as np

from pipeline_core.datamodels import FlatModel, ImageModel, PhotomModel, PixelAreaModel

#: (instrument, detector, exposure type, subarray name, xstart, ystart, nx, ny, filter, pupil,
#:  SIAF aperture of the subarray)
CONFIGS = {
    "nircam": ("NIRCAM", "NRCA1", "NRC_IMAGE", "SUB64P", 1, 101, 64, 64, "F200W", "CLEAR", "NRCA1_FULL"),
    "nircam160": ("NIRCAM", "NRCA1", "NRC_IMAGE", "SUB160", 1889, 1, 160, 160, "F200W", "CLEAR", "NRCA1_SUB160"),
    "niriss": ("NIRISS", "NIS", "NIS_IMAGE", "SUB80", 1, 1, 80, 80, "CLEAR", "F150W", "NIS_CEN"),
    "miri": ("MIRI", "MIRIMAGE", "MIR_IMAGE", "SUB64", 1, 779, 72, 64, "F770W", None, "MIRIM_SUB64"),
}

#: RA_REF, DEC_REF, ROLL_REF of the synthetic exposures.
POINTING = (80.4875, -69.4986, 123.0)


def aperture_values(name: str, instrument: str) -> tuple[float, float, float, int]:
    """(V2Ref, V3Ref, V3IdlYAngle, VIdlParity) of a SIAF aperture (from pysiaf)."""
    from builtin_steps.refdata.siaf import siaf_aperture

    ap = siaf_aperture(instrument, name)
    return float(ap.V2Ref), float(ap.V3Ref), float(ap.V3IdlYAngle), int(ap.VIdlParity)


def make_rate(kind: str = "nircam", *, value: float = 2.0, seed: int = 1, pointing: bool = True,
              full_frame: bool = False) -> ImageModel:
    """A flat-sky rate image (DN/s) with noise arrays and complete imaging metadata."""
    inst, det, exp_type, sub, x0, y0, nx, ny, filt, pupil, aperture = CONFIGS[kind]
    if full_frame:
        sub, x0, y0, nx, ny = "FULL", 1, 1, (1032 if inst == "MIRI" else 2048), (1024 if inst == "MIRI" else 2048)
    rng = np.random.default_rng(seed)
    data = (value + 0.01 * rng.standard_normal((ny, nx))).astype(np.float32)
    model = ImageModel(data=data)
    model.var_rnoise = np.full((ny, nx), 0.004, np.float32)
    model.var_poisson = np.full((ny, nx), 0.002, np.float32)
    model.err = np.sqrt(model.var_rnoise + model.var_poisson)
    meta = model.meta
    meta.filename = f"jw01234001001_01101_00001_{det.lower()}_rate.fits"
    meta.telescope = "JWST"
    meta.instrument.name, meta.instrument.detector = inst, det
    meta.instrument.filter = filt
    if pupil is not None:
        meta.instrument.pupil = pupil
    meta.exposure.type = exp_type
    meta.exposure.exposure_time = meta.exposure.effective_exposure_time = 100.0
    meta.exposure.measurement_time = 90.0
    meta.exposure.duration = 110.0
    meta.exposure.start_time, meta.exposure.end_time = 60500.0, 60500.0013
    meta.observation.date, meta.observation.time = "2024-09-15", "03:12:00.000"
    meta.observation.exposure_number = "00001"
    meta.subarray.name = sub
    meta.subarray.xstart, meta.subarray.ystart, meta.subarray.xsize, meta.subarray.ysize = x0, y0, nx, ny
    meta.bunit_data = meta.bunit_err = "DN/s"
    v2, v3, yangle, parity = aperture_values(aperture, inst)
    meta.wcsinfo.v2_ref, meta.wcsinfo.v3_ref = v2, v3
    meta.wcsinfo.v3yangle, meta.wcsinfo.vparity = yangle, parity
    meta.aperture.name = aperture
    if pointing:
        meta.wcsinfo.ra_ref, meta.wcsinfo.dec_ref, meta.wcsinfo.roll_ref = POINTING
    return model


def make_flat(shape: tuple[int, int], *, window: tuple[int, int] = (1, 101), seed: int = 2) -> FlatModel:
    """A FLAT reference with structure, one NaN, one zero and one NO_FLAT_FIELD pixel."""
    rng = np.random.default_rng(seed)
    flat = FlatModel(data=(1.0 + 0.05 * rng.standard_normal(shape)).astype(np.float32))
    flat.err = np.full(shape, 0.01, np.float32)
    flat.dq = np.zeros(shape, np.uint32)
    flat.data[1, 2] = np.nan
    flat.data[3, 4] = 0.0
    flat.dq[5, 6] = 1 << 18  # NO_FLAT_FIELD
    flat.meta.instrument.name, flat.meta.instrument.detector = "NIRCAM", "NRCA1"
    sub = flat.meta.subarray
    sub.name, sub.xstart, sub.ystart, sub.ysize, sub.xsize = "SUB64P", window[0], window[1], *shape
    flat.meta.reftype = "FLAT"
    return flat


def make_photom(rows: list[tuple[str, str, float]], *, pixar_sr: float = 2.3e-14) -> PhotomModel:
    """A NIRCam-style PHOTOM table (filter, pupil, photmjsr, uncertainty)."""
    table = np.zeros(len(rows), dtype=[("filter", "U12"), ("pupil", "U15"), ("photmjsr", "f4"), ("uncertainty", "f4")])
    for i, (filt, pupil, value) in enumerate(rows):
        table[i] = (filt, pupil, value, value * 0.01)
    ref = PhotomModel(phot_table=table)
    ref.meta.instrument.name = "NIRCAM"
    ref.meta.photometry.pixelarea_steradians = pixar_sr
    ref.meta.photometry.pixelarea_arcsecsq = pixar_sr / (np.pi / 180 / 3600) ** 2
    return ref


def make_area(shape: tuple[int, int], *, window: tuple[int, int] = (1, 101), pixar_sr: float = 2.2e-14) -> PixelAreaModel:
    """An AREA reference: a gradient around 1, with PIXAR_SR / PIXAR_A2."""
    y, x = np.indices(shape)
    area = PixelAreaModel(data=(0.98 + 0.0005 * x + 0.0002 * y).astype(np.float32))
    area.meta.photometry.pixelarea_steradians = pixar_sr
    area.meta.photometry.pixelarea_arcsecsq = pixar_sr / (np.pi / 180 / 3600) ** 2
    sub = area.meta.subarray
    sub.name, sub.xstart, sub.ystart, sub.ysize, sub.xsize = "SUB64P", window[0], window[1], *shape
    return area
