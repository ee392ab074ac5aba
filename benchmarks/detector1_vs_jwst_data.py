"""Synthetic raw ramps and reference files for the steppe-versus-JWST comparison.

Run with the ``python`` of the environment where ``jwst`` 3.0 is installed (it
writes every file with ``stdatamodels``, so JWST reads them as its own)::

    $STEPPE_JWST_PYTHON benchmarks/detector1_vs_jwst_data.py miri /tmp/d1cmp/miri_1x10

Each exposure is a star field (a few stars saturate) on sky, with cosmic rays,
dark current, read noise, reference-pixel drifts, row (1/f) offsets, the
inter-pixel capacitance of the IPC kernel and the non-linearity the LINEARITY
file corrects; MIRI ramps also carry the reset anomaly of the RESET file and an
EMI pattern at the frequency of the EMICORR file, NIRSpec ramps the thermal
picture frame of the PICTUREFRAME file and the IRS2 interleaved reference rows.
Every reference file holds a few flagged, NaN or zero values, so that the steps'
handling of them is compared too.
"""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from detector1_vs_jwst_setup import DETECTORS, Exposure, ref_path  # noqa: E402

__all__ = ["make_exposure"]

_START_MJD = 60568.13333  # 2024-09-15T03:12
_IPC_KERNEL = np.array([[0.0, 0.006, 0.0], [0.006, 0.976, 0.006], [0.0, 0.006, 0.0]], np.float32)
# Not a divisor of the full-frame FAST frame rate (390.625 Hz is: its phase would repeat
# every group and the ramps could not tell it from a bias).
_EMI_HZ = 218.52055
_EMI_DN = 3.0
_NONLINEAR = 2.0e-7  # measured = true - c * true**2 (DN)
_GAIN_FACTOR = 1.25
#: Reference types whose files carry the subarray keywords.
_WINDOWED = ("mask", "saturation", "superbias", "linearity", "dark", "gain", "readnoise", "reset")


def _flags():
    from stdatamodels.jwst.datamodels import dqflags

    return dqflags.pixel


def _dq_def(names: list[str]) -> np.ndarray:
    flags = _flags()
    rows = [(int(np.log2(flags[n])), flags[n], n, n.lower()) for n in names]
    return np.array(rows, dtype=[("BIT", "<i4"), ("VALUE", "<u4"), ("NAME", "S40"), ("DESCRIPTION", "S80")])


def _meta(model, exp: Exposure, reftype: str):
    m = model.meta
    m.reftype, m.author, m.pedigree = reftype.upper(), "steppe benchmark", "DUMMY"
    m.description = f"synthetic {reftype} for the steppe/jwst Detector1 comparison"
    m.useafter = "2022-01-01T00:00:00"
    m.instrument.name, m.instrument.detector = exp.instrument, exp.detector
    if reftype in _WINDOWED:
        m.subarray.name = "FULL"
        m.subarray.xstart = m.subarray.ystart = 1
        m.subarray.xsize = exp.shape[1]
        m.subarray.ysize = _detector_rows(exp)
        m.subarray.fastaxis, m.subarray.slowaxis = exp.fast_slow
    return model


def _detector_rows(exp: Exposure) -> int:
    return 2048 if exp.readpatt.startswith("NRSIRS2") else exp.shape[0]


def _normal_rows(exp: Exposure) -> np.ndarray:
    """Rows of the raw frame that hold normal pixels (all, except for IRS2)."""
    if not exp.readpatt.startswith("NRSIRS2"):
        return np.ones(exp.shape[0], bool)
    from jwst.saturation import x_irs2

    return x_irs2.make_mask(np.zeros(exp.shape, np.float32), n=16, r=4)


def _reference_mask(exp: Exposure, shape: tuple[int, int]) -> np.ndarray:
    """Reference pixels of a normal (non-IRS2) image."""
    ref = np.zeros(shape, bool)
    ref[:, :4] = ref[:, -4:] = True
    if exp.instrument != "MIRI":
        ref[:4] = ref[-4:] = True
    return ref


def _scene(rng: np.random.Generator, shape: tuple[int, int], sky: float, peak_max: float) -> np.ndarray:
    """Count rate (DN/s): sky plus ~400 Gaussian stars, five of them bright."""
    rate = rng.gamma(4.0, sky / 4.0, shape).astype(np.float32)
    n = 400
    peaks = np.exp(rng.uniform(np.log(sky), np.log(peak_max / 20), n))
    peaks[:5] = peak_max
    ys, xs = rng.uniform(20, shape[0] - 20, n), rng.uniform(20, shape[1] - 20, n)
    oy, ox = np.mgrid[-6:7, -6:7]
    for y, x, p in zip(ys, xs, peaks, strict=True):
        iy, ix = int(y), int(x)
        stamp = p * np.exp(-((oy + iy - y) ** 2 + (ox + ix - x) ** 2) / (2 * 1.4**2))
        rate[iy - 6 : iy + 7, ix - 6 : ix + 7] += stamp.astype(np.float32)
    return rate


def _ipc(frame: np.ndarray) -> np.ndarray:
    out = frame * _IPC_KERNEL[1, 1]
    out[1:] += _IPC_KERNEL[0, 1] * frame[:-1]
    out[:-1] += _IPC_KERNEL[2, 1] * frame[1:]
    out[:, 1:] += _IPC_KERNEL[1, 0] * frame[:, :-1]
    out[:, :-1] += _IPC_KERNEL[1, 2] * frame[:, 1:]
    return out


def _sprinkle(rng, shape, n, exclude=None):
    """Indices of ``n`` random pixels (avoiding ``exclude``)."""
    idx = rng.choice(shape[0] * shape[1], n, replace=False)
    y, x = np.unravel_index(idx, shape)
    if exclude is not None:
        keep = ~exclude[y, x]
        y, x = y[keep], x[keep]
    return y, x


def _truth(exp: Exposure, rng: np.random.Generator) -> dict:
    """Detector properties shared by the raw ramp and the reference files."""
    rows = _detector_rows(exp)
    shape = (rows, exp.shape[1])
    miri = exp.instrument == "MIRI"
    t = {"shape": shape, "refpix": _reference_mask(exp, shape)}
    t["bias"] = rng.normal(14000.0 if miri else 12000.0, 150.0 if miri else 40.0, shape).astype(np.float32)
    t["gain"] = rng.normal(4.0 if miri else (1.1 if exp.instrument == "NIRSPEC" else 2.0), 0.05, shape).astype(np.float32)
    t["readnoise"] = rng.normal(8.0 if miri else 7.0, 0.5, shape).astype(np.float32)
    t["dark_rate"] = np.full(shape, 0.01, np.float32)
    hy, hx = _sprinkle(rng, shape, 300)
    t["dark_rate"][hy, hx] = rng.uniform(0.5, 5.0, hy.size)
    t["hot"] = (hy[:100], hx[:100])
    t["saturation"] = rng.normal(55000.0 if miri else 58000.0, 300.0, shape).astype(np.float32)
    t["rate"] = _scene(rng, shape, 150.0 if miri else 2.0, 3000.0 if miri else 8000.0)
    t["rate"][t["refpix"]] = 0.0
    return t


def _write_references(exp: Exposure, folder: str, t: dict, rng: np.random.Generator) -> None:
    from stdatamodels.jwst import datamodels as dm

    flags = _flags()
    shape = t["shape"]
    refpix = t["refpix"]
    normal = _normal_rows(exp)
    irs2 = not normal.all()
    raw_shape = exp.shape

    def expand(image, fill):
        """IRS2: place a 2048-row image on the normal rows of a 3200-row frame."""
        if not irs2:
            return image
        out = np.full((raw_shape[0], shape[1]), fill, image.dtype)
        out[normal] = image
        return out

    # mask: reference pixels, dead / hot / no-gain pixels, a few open bits
    mask = np.where(refpix, flags["REFERENCE_PIXEL"], 0).astype(np.uint32)
    y, x = _sprinkle(rng, shape, 400, refpix)
    mask[y[:150], x[:150]] |= flags["DEAD"] | flags["DO_NOT_USE"]
    mask[y[150:250], x[150:250]] |= flags["WARM"]
    mask[y[250:], x[250:]] |= flags["NO_GAIN_VALUE"] | flags["DO_NOT_USE"]
    mask[t["hot"]] |= flags["HOT"]
    mask = expand(mask, flags["REFERENCE_PIXEL"])
    names = ["DO_NOT_USE", "DEAD", "HOT", "WARM", "NO_GAIN_VALUE", "REFERENCE_PIXEL"]
    _save(_meta(dm.MaskModel(dq=mask, dq_def=_dq_def(names)), exp, "mask"), folder, "mask")

    # saturation: per-pixel thresholds, a few NaN (no check)
    sat = t["saturation"].copy()
    sdq = np.zeros(shape, np.uint32)
    y, x = _sprinkle(rng, shape, 30, refpix)
    sat[y[:15], x[:15]] = np.nan
    sdq[y[:15], x[:15]] = flags["NO_SAT_CHECK"]
    sdq[y[15:], x[15:]] = flags["NO_SAT_CHECK"]
    model = dm.SaturationModel(data=sat, dq=sdq, dq_def=_dq_def(["NO_SAT_CHECK"]))
    _save(_meta(model, exp, "saturation"), folder, "saturation")

    if "superbias" in exp.reftypes:
        bias = expand(t["bias"] + rng.normal(0, 1.0, shape).astype(np.float32), 0.0)
        if irs2:
            bias[~normal] = t["irs2_refbias"]
        bdq = np.zeros(bias.shape, np.uint32)
        y, x = _sprinkle(rng, bias.shape, 60)
        bdq[y, x] = flags["UNRELIABLE_BIAS"]
        bias[y[:10], x[:10]] = np.nan
        model = dm.SuperBiasModel(data=bias, dq=bdq, err=np.full(bias.shape, 1.0, np.float32),
                                  dq_def=_dq_def(["UNRELIABLE_BIAS"]))
        _save(_meta(model, exp, "superbias"), folder, "superbias")

    # linearity: the inverse of the injected quadratic; a few NaN / flagged pixels
    coeffs = np.zeros((3, *shape), np.float32)
    coeffs[1] = 1.0
    coeffs[2] = _NONLINEAR * (1 + rng.normal(0, 0.01, shape))
    ldq = np.zeros(shape, np.uint32)
    y, x = _sprinkle(rng, shape, 40, refpix)
    coeffs[:, y[:20], x[:20]] = np.nan
    ldq[y[20:], x[20:]] = flags["NO_LIN_CORR"]
    model = dm.LinearityModel(coeffs=coeffs, dq=ldq, dq_def=_dq_def(["NO_LIN_CORR"]))
    _save(_meta(model, exp, "linearity"), folder, "linearity")

    # dark: the injected dark current, group by group; hot pixels flagged
    times = exp.frame_time * np.arange(1, exp.ngroups + 1, dtype=np.float32)
    dark = t["dark_rate"][None] * times[:, None, None]
    ddq = np.zeros(shape, np.uint32)
    ddq[t["hot"]] = flags["HOT"]
    if exp.instrument == "MIRI":
        model = dm.DarkMIRIModel(data=dark[None], dq=ddq[None, None].repeat(exp.ngroups, 1),
                                 dq_def=_dq_def(["HOT"]))
        model.meta.exposure.nints = 1
    elif exp.instrument == "NIRSPEC":
        model = dm.DarkNirspecModel(data=dark, dq=ddq, dq_def=_dq_def(["HOT"]))
    else:
        model = dm.DarkModel(data=dark, dq=ddq, dq_def=_dq_def(["HOT"]))
    e = model.meta.exposure
    e.nframes, e.groupgap, e.ngroups, e.readpatt = 1, 0, exp.ngroups, exp.readpatt
    _save(_meta(model, exp, "dark"), folder, "dark")
    del dark, model

    gain = t["gain"].copy()
    y, x = _sprinkle(rng, shape, 10, refpix)
    gain[y[:5], x[:5]] = np.nan
    gain[y[5:], x[5:]] = 0.0
    model = dm.GainModel(data=gain)
    model.meta.exposure.gain_factor = _GAIN_FACTOR
    _save(_meta(model, exp, "gain"), folder, "gain")
    rn = t["readnoise"].copy()
    rn[y[:3], x[:3]] = np.nan
    _save(_meta(dm.ReadnoiseModel(data=rn), exp, "readnoise"), folder, "readnoise")
    _save(_meta(dm.IPCModel(data=_IPC_KERNEL.copy()), exp, "ipc"), folder, "ipc")

    if "reset" in exp.reftypes:
        model = dm.ResetModel(data=t["reset"][None], dq=np.zeros(shape, np.uint32))
        model.meta.exposure.nints, model.meta.exposure.ngroups = 1, exp.ngroups
        model.meta.exposure.readpatt = exp.readpatt
        _save(_meta(model, exp, "reset"), folder, "reset")
    if "rscd" in exp.reftypes:
        table = np.array([("FULL", exp.readpatt, 1, 2), ("SUB256", exp.readpatt, 1, 2)],
                         dtype=[("subarray", "S17"), ("readpatt", "S12"), ("group_skip1", "<i4"), ("group_skip", "<i4")])
        _save(_meta(dm.RSCDModel(rscd_group_skip_table=table), exp, "rscd"), folder, "rscd")
    if "emicorr" in exp.reftypes:
        model = _meta(dm.EmiModel(), exp, "emicorr")
        nbins = int(1.0 / _EMI_HZ / 10e-6 / 2)
        phase = (np.arange(nbins) + 0.5) / nbins
        model.frequencies = {"Hz218a": {"frequency": _EMI_HZ,
                                       "phase_amplitudes": (_EMI_DN * np.sin(2 * np.pi * phase)).astype(np.float32)}}
        model.subarray_cases = {"FULL_FAST": {"rowclocks": 271, "frameclocks": 277504, "freqs": {"FAST": ["Hz218a"]}}}
        _save(model, folder, "emicorr")
    if "pictureframe" in exp.reftypes:
        _save(_meta(dm.PictureFrameModel(data=t["picture_frame"]), exp, "pictureframe"), folder, "pictureframe")
    if "refpix" in exp.reftypes:
        nrows = 2048 * 712 * 2
        cols = {}
        for k in range(4):
            alpha = np.zeros(nrows, np.float32)
            beta = np.zeros(nrows, np.float32)
            alpha[0::2] = 0.05 + 0.01 * k  # real parts; imaginary parts 0
            beta[0::2] = 1.0
            cols[f"alpha_{k}"], cols[f"beta_{k}"] = alpha, beta
        table = np.zeros(nrows, dtype=[(f"{a}_{k}", "<f4") for a in ("alpha", "beta") for k in range(4)])
        for name, col in cols.items():
            table[name] = col
        dq = np.array([(o, oe, 0) for o in range(1, 5) for oe in (1, 2)],
                      dtype=[("output", "<u2"), ("odd_even", "<u2"), ("mask", "<u4")])
        model = dm.IRS2Model(irs2_table=table, dq_table=dq)
        model.meta.exposure.readpatt = exp.readpatt
        _save(_meta(model, exp, "refpix"), folder, "refpix")


def _save(model, folder: str, reftype: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(ref_path(folder, reftype))


def _write_raw(exp: Exposure, folder: str, t: dict, rng: np.random.Generator) -> str:
    """Write the level-1b ramp (uint16) with the keywords jwst's steps read."""
    from stdatamodels.jwst import datamodels as dm

    shape = t["shape"]
    normal = _normal_rows(exp)
    irs2 = not normal.all()
    miri = exp.instrument == "MIRI"
    nints, ngroups = exp.nints, exp.ngroups
    raw = np.empty(exp.ramp_shape, np.uint16)
    gain = t["gain"]
    full_well = t["saturation"] + 200.0
    # amplifier of each pixel for the drifts: MIRI interleaves columns, NIRCam splits
    # columns into 4 stripes, NIRSpec splits the (IRS2) rows into 5 stripes of 640
    if miri:
        amp = (np.arange(exp.shape[1]) % 4)[None, :]
    elif irs2:
        amp = np.minimum(np.arange(exp.shape[0]) // 640, 4)[:, None]
    else:
        amp = (np.arange(exp.shape[1]) // 512)[None, :]
    for i in range(nints):
        electrons = np.zeros(shape, np.float64)
        hits = _sprinkle(rng, shape, 3000, t["refpix"])
        hit_group = rng.integers(1, ngroups, hits[0].size)
        hit_dn = rng.uniform(100.0, 2000.0, hits[0].size)
        for g in range(ngroups):
            electrons += rng.poisson(np.maximum(t["rate"], 0) * gain * exp.frame_time)
            signal = (electrons / gain).astype(np.float32)
            now = hit_group <= g
            np.add.at(signal, (hits[0][now], hits[1][now]), hit_dn[now])
            signal += t["dark_rate"] * exp.frame_time * (g + 1)
            if "pictureframe" in exp.reftypes:
                signal += 3.0 * t["picture_frame"] * exp.frame_time * (g + 1)
            signal = _ipc(signal)
            signal -= _NONLINEAR * signal**2
            frame = t["bias"] + signal
            if "reset" in exp.reftypes:
                frame += t["reset"][g]
            frame = np.minimum(frame, full_well)
            frame += rng.normal(0.0, 1.0, shape).astype(np.float32) * t["readnoise"] / np.sqrt(2)
            if irs2:
                full = np.empty(exp.shape, np.float32)
                full[normal] = frame
                full[~normal] = t["irs2_refbias"] + rng.normal(0.0, 5.0, t["irs2_refbias"].shape)
                frame = full
            drift = rng.normal(0.0, 8.0, 5)
            frame += drift[amp]
            frame[:, 1::2] += 3.0  # even/odd column offset
            if miri:
                frame += _emi(exp, g)
            elif irs2:
                frame += rng.normal(0.0, 1.5, (1, exp.shape[1]))  # 1/f: stripes along the slow axis
            else:
                frame += rng.normal(0.0, 1.5, (exp.shape[0], 1))
            raw[i, g] = np.clip(np.round(frame), 0, 65535).astype(np.uint16)
    model = dm.Level1bModel(data=raw)
    _exposure_meta(model, exp)
    path = os.path.join(folder, f"jw09999001001_01101_00001_{exp.detector.lower()}_uncal.fits")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(path)
    return path


def _emi(exp: Exposure, group: int) -> np.ndarray:
    """The EMI pattern of one MIRI FULL FAST frame (10 us clocks, 4 interleaved outputs)."""
    ny, nx = exp.shape
    clocks = (np.arange(nx) // 4)[None, :] + (group * ny + np.arange(ny))[:, None] * 271
    return (_EMI_DN * np.sin(2 * np.pi * _EMI_HZ * clocks * 10e-6 + 0.3)).astype(np.float32)


def _exposure_meta(model, exp: Exposure) -> None:
    m = model.meta
    m.telescope = "JWST"
    m.instrument.name, m.instrument.detector = exp.instrument, exp.detector
    if exp.instrument == "MIRI":
        m.instrument.filter = "F770W"
    elif exp.instrument == "NIRSPEC":
        m.instrument.filter, m.instrument.grating, m.instrument.fixed_slit = "F290LP", "G395H", "S200A1"
        m.exposure.nrs_normal, m.exposure.nrs_reference = 16, 4
    else:
        m.instrument.filter, m.instrument.pupil, m.instrument.channel, m.instrument.module = "F200W", "CLEAR", "SHORT", "A"
    m.observation.date, m.observation.time = "2024-09-15", "03:12:00.000"
    m.observation.date_beg = "2024-09-15T03:12:00.000"
    e = m.exposure
    e.type, e.readpatt = exp.exp_type, exp.readpatt
    e.nints, e.ngroups, e.nframes, e.groupgap, e.frame_divisor = exp.nints, exp.ngroups, 1, 0, 1
    e.nresets_at_start = e.nresets_between_ints = 1
    e.drop_frames1 = e.drop_frames3 = 0
    e.integration_start, e.integration_end = 1, exp.nints
    e.noutputs = 4
    e.nsamples = 1
    e.sample_time = 10
    e.frame_time = e.group_time = exp.frame_time
    e.integration_time = exp.ngroups * exp.frame_time
    duration = exp.nints * e.integration_time
    e.exposure_time = e.duration = duration
    e.effective_exposure_time = (exp.ngroups - 1) * exp.frame_time * exp.nints
    e.measurement_time = (exp.ngroups - 1) * exp.frame_time
    e.start_time = _START_MJD
    e.mid_time = _START_MJD + duration / 2 / 86400
    e.end_time = _START_MJD + duration / 86400
    e.zero_frame = False
    s = m.subarray
    s.name, s.xstart, s.ystart, s.xsize, s.ysize = "FULL", 1, 1, exp.shape[1], _detector_rows(exp)
    s.fastaxis, s.slowaxis = exp.fast_slow
    m.visit.tsovisit = False


def make_exposure(key: str, folder: str, seed: int = 20240915) -> str:
    """Write the raw ramp and every reference file of one exposure; return the raw path."""
    exp = DETECTORS[key]
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    t = _truth(exp, rng)
    shape = t["shape"]
    if exp.instrument == "MIRI":
        amp = rng.normal(40.0, 8.0, shape).astype(np.float32)
        t["reset"] = np.stack([amp * np.exp(-g / 2.5) for g in range(exp.ngroups)]).astype(np.float32)
    if "pictureframe" in exp.reftypes:
        yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
        r2 = ((yy - shape[0] / 2) ** 2 + (xx - shape[1] / 2) ** 2) / (shape[0] / 2) ** 2
        t["picture_frame"] = (0.02 * r2**2).astype(np.float32)
    normal = _normal_rows(exp)
    if not normal.all():
        t["irs2_refbias"] = rng.normal(12000.0, 30.0, (int((~normal).sum()), shape[1])).astype(np.float32)
    _write_references(exp, folder, t, rng)
    return _write_raw(exp, folder, t, rng)


if __name__ == "__main__":
    print("UNCAL", make_exposure(sys.argv[1], sys.argv[2]))
