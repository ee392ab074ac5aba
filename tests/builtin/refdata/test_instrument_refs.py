"""Every Detector1 reference type of every instrument of the embedded set resolves offline."""

from __future__ import annotations

import os

import numpy as np
import pytest

from builtin_steps.refdata import irs2, layout, shared
from pipeline_core.references import crds_client


def _step_reftypes() -> set[str]:
    """Reference and parameter types of every Detector1 step class (and the pipeline)."""
    from builtin_steps.pipelines.detector1 import Detector1Pipeline

    found = {f"pars-{Detector1Pipeline.__name__.lower()}"}
    for cls in Detector1Pipeline().substeps.values():
        found.update(t.lower() for t in type(cls).reference_file_types)
        found.add(f"pars-{type(cls).__name__.lower()}")
    return found


def _parameters(inst: layout.Instrument, detector: str, readout: layout.Subarray) -> dict[str, str]:
    readpatt = readout.readpatts[0] if readout.readpatts else inst.readpatts[0]
    return {
        "META.INSTRUMENT.NAME": inst.name,
        "META.INSTRUMENT.DETECTOR": detector,
        "META.SUBARRAY.NAME": readout.name,
        "META.EXPOSURE.READPATT": readpatt,
        "META.EXPOSURE.TYPE": "ANY",
        "META.OBSERVATION.DATE": "2024-09-15",
        "META.OBSERVATION.TIME": "03:12:00",
    }


_CASES = [
    pytest.param(inst, detector, readout, id=f"{inst.name}-{detector}-{readout.name}-{readout.readpatt_key}")
    for inst in layout.INSTRUMENTS.values()
    for detector in inst.detectors
    for readout in inst.readouts(detector)
]

# What each instrument must answer with a file (the rest is N/A), as CRDS does for JWST.
_WITH_FILES = {
    "NIRCAM": {"mask", "saturation", "superbias", "linearity", "dark", "gain", "readnoise", "sirskernel"},
    "NIRISS": {"mask", "saturation", "superbias", "linearity", "dark", "gain", "readnoise", "sirskernel"},
    "MIRI": {"mask", "saturation", "linearity", "dark", "gain", "readnoise", "reset", "rscd", "emicorr"},
    "NIRSPEC": {
        "mask", "saturation", "superbias", "linearity", "dark", "gain", "readnoise", "pictureframe",
        "sirskernel",
    },
}  # fmt: skip


def test_the_step_types_are_all_listed():
    assert _step_reftypes() <= set(layout.DETECTOR1_REFTYPES) | set(layout.PARS_REFTYPES)


@pytest.mark.parametrize(("inst", "detector", "readout"), _CASES)
def test_every_type_resolves_to_a_file_or_not_applicable(crds_env, inst, detector, readout):
    reftypes = sorted(set(layout.DETECTOR1_REFTYPES) | set(layout.PARS_REFTYPES) | _step_reftypes())
    refs, context, _ = crds_client.lookup(_parameters(inst, detector, readout), reftypes)
    assert context == layout.CONTEXT_NAME
    expected = set(_WITH_FILES[inst.name])
    if readout.irs2:
        expected.add("refpix")
    expected |= set(inst.pars)  # the first readout pattern of NIRCam has every pars-* file
    files = {t for t, v in refs.items() if not v.upper().startswith("NOT FOUND")}
    assert files == expected
    # imaging instruments select their (Image2) flats by filter, which these parameters lack
    by_filter = {"flat"} if inst.name in ("NIRCAM", "NIRISS", "MIRI") else set()
    assert all(refs[t] == "NOT FOUND n/a" for t in set(reftypes) - files - by_filter)
    assert all("META.INSTRUMENT.FILTER" in refs[t] for t in by_filter)
    assert all(os.path.isfile(refs[t]) for t in files)


def _lookup(inst_name: str, detector: str, readpatt: str, reftype: str, subarray: str = "FULL") -> str:
    params = {
        "META.INSTRUMENT.NAME": inst_name, "META.INSTRUMENT.DETECTOR": detector,
        "META.SUBARRAY.NAME": subarray, "META.EXPOSURE.READPATT": readpatt,
        "META.OBSERVATION.DATE": "2024-09-15", "META.OBSERVATION.TIME": "03:12:00",
    }  # fmt: skip
    return crds_client.lookup(params, [reftype])[0][reftype]


@pytest.mark.parametrize(
    ("reftype", "model", "shape"),
    [
        ("mask", "MaskModel", (1024, 1032)),
        ("saturation", "SaturationModel", (1024, 1032)),
        ("linearity", "LinearityModel", (5, 1024, 1032)),
        ("dark", "DarkModel", (2, 6, 1024, 1032)),
        ("gain", "GainModel", (1024, 1032)),
        ("readnoise", "ReadnoiseModel", (1024, 1032)),
        ("reset", "ResetModel", (2, 6, 1024, 1032)),
    ],
)
def test_miri_full_frame_files(crds_env, reftype, model, shape):
    from pipeline_core.datamodels import open_model

    ref = open_model(_lookup("MIRI", "MIRIMAGE", "FASTR1", reftype), lazy=True)
    assert type(ref).__name__ == model
    assert ref.shape == shape
    assert ref.meta.instrument.detector == "MIRIMAGE" and ref.meta.reftype.lower() == reftype


def test_miri_values_are_physical(crds_env):
    from pipeline_core.datamodels import open_model

    sat = open_model(_lookup("MIRI", "MIRIMAGE", "FAST", "saturation", "SUB256")).data
    gain = open_model(_lookup("MIRI", "MIRIMAGE", "FAST", "gain", "SUB256")).data
    dark = open_model(_lookup("MIRI", "MIRIMAGE", "FAST", "dark", "SUB256"))
    assert dark.data.shape == dark.dq.shape == (2, 10, 256, 256)
    assert 53000 < np.nanmedian(sat) < 57000
    assert 5.0 < np.median(gain) < 6.0
    assert 0 < np.median(np.diff(dark.data[0], axis=0)) < 1  # DN per frame


def test_miri_table_and_asdf_references(crds_env):
    from pipeline_core.datamodels import EmiModel, RSCDModel, open_model

    rscd = open_model(_lookup("MIRI", "MIRIMAGE", "FAST", "rscd"))
    assert isinstance(rscd, RSCDModel)
    table = rscd.rscd_group_skip_table
    assert len(table) == len(shared.RSCD_ROWS)
    names = {n.lower() for n in table.dtype.names}
    assert names == {"subarray", "readpatt", "group_skip1", "group_skip"}
    emi = open_model(_lookup("MIRI", "MIRIMAGE", "FAST", "emicorr"))
    assert isinstance(emi, EmiModel)
    assert set(emi.frequencies) == set(shared.EMI_FREQUENCIES)
    assert emi.subarray_cases["FULL_FAST"]["rowclocks"] == 271


@pytest.mark.parametrize("detector", ["NRS1", "NRS2"])
def test_nirspec_irs2_files(crds_env, detector):
    from pipeline_core.datamodels import IRS2Model, open_model

    mask = open_model(_lookup("NIRSPEC", detector, "NRSIRS2RAPID", "mask"), lazy=True)
    bias = open_model(_lookup("NIRSPEC", detector, "NRSIRS2RAPID", "superbias"), lazy=True)
    assert mask.shape == bias.shape == irs2.IRS2_SHAPE
    rows = irs2.normal_rows(detector)
    dq = open_model(_lookup("NIRSPEC", detector, "NRSIRS2RAPID", "mask")).dq
    assert (dq[~rows] & (1 << 31)).all()  # the interleaved and output pixels are reference pixels
    traditional = _lookup("NIRSPEC", detector, "NRSRAPID", "saturation")
    assert _lookup("NIRSPEC", detector, "NRSIRS2RAPID", "saturation") == traditional
    assert _lookup("NIRSPEC", detector, "NRSRAPID", "mask") != _lookup("NIRSPEC", detector, "NRSIRS2", "mask")
    assert _lookup("NIRSPEC", detector, "NRSRAPID", "refpix") == "NOT FOUND n/a"
    refpix = open_model(_lookup("NIRSPEC", detector, "NRSIRS2", "refpix"))
    assert isinstance(refpix, IRS2Model)
    assert len(refpix.irs2_table) == 2 * 712 * 2048
    dark = open_model(_lookup("NIRSPEC", detector, "NRSIRS2RAPID", "dark"), lazy=True)
    assert dark.shape == (4, 2048, 2048)


def test_sirs_kernels_read_per_detector(crds_env):
    from builtin_steps.refpix.sirs import make_kernels, read_sirs_coefficients

    for inst, detector in (("NIRCAM", "NRCB4"), ("NIRSPEC", "NRS2"), ("NIRISS", "NIS")):
        path = _lookup(inst, detector, "RAPID", "sirskernel", "SUB80" if inst == "NIRISS" else "FULL")
        gamma, zeta = read_sirs_coefficients(path, detector)
        assert gamma.shape == zeta.shape == (4, 1025)
        kernels = make_kernels(gamma, zeta, gaussmooth=1.0, halfwidth=30)
        assert kernels is not None


def test_irs2_weights_remove_a_common_drift():
    beta = shared.irs2_weights()
    assert beta.shape == (2048 * 712,)
    assert beta[0].real > 1 and abs(beta[len(beta) // 2]) < 1e-6  # low-pass
