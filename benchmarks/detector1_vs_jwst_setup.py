"""The exposures and step parameters of the steppe-versus-JWST Detector1 comparison.

Plain Python with no third-party import, so that both the steppe process and the
process running in the JWST environment read the same definitions: what each
synthetic exposure is (:data:`DETECTORS`), which reference types each detector
needs, and the ``steps=`` parameters that turn on every Detector1 step that
applies to the detector and point every step at the same reference files
(:func:`step_parameters`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Exposure", "DETECTORS", "step_parameters", "pipeline_order", "ref_path"]


@dataclass(frozen=True)
class Exposure:
    """One synthetic full-frame exposure.

    Parameters
    ----------
    key : str
        Short name used on the command line (``miri``, ``nirspec``, ``nircam``).
    instrument, detector, exp_type, readpatt : str
        ``INSTRUME``, ``DETECTOR``, ``EXP_TYPE``, ``READPATT``.
    nints, ngroups : int
        Integrations and groups.
    shape : tuple of int
        Raw (rows, columns) of one group, science orientation.
    frame_time : float
        Seconds per frame (= per group: one frame per group).
    fast_slow : tuple of int
        ``FASTAXIS``, ``SLOWAXIS``.
    reftypes : tuple of str
        The reference types written for it (each passed as ``override_<reftype>``).
    enable : tuple of str
        Steps off by default in jwst that apply to the detector and are turned on.
    extra : dict
        Further step parameters, by step.
    """

    key: str
    instrument: str
    detector: str
    exp_type: str
    readpatt: str
    nints: int
    ngroups: int
    shape: tuple[int, int]
    frame_time: float
    fast_slow: tuple[int, int]
    reftypes: tuple[str, ...]
    enable: tuple[str, ...]
    extra: dict = field(default_factory=dict)

    @property
    def tag(self) -> str:
        """``<key>_<nints>x<ngroups>``: the name of its work folder."""
        return f"{self.key}_{self.nints}x{self.ngroups}"

    @property
    def ramp_shape(self) -> tuple[int, int, int, int]:
        """Shape of the raw ramp."""
        return (self.nints, self.ngroups, *self.shape)


# dn_threshold also flags bright unsaturated groups (PERSISTENCE without DO_NOT_USE).
_PERSISTENCE = {"persistence_time": 1000, "dn_threshold": 30000.0}
# clean_flicker_noise declares a FLAT reference (read only with apply_flat_field, off here); jwst
# looks up every declared type before the run, and the offline set has no full-frame MIRI flat.
_NO_FLAT = {"override_flat": "N/A"}

DETECTORS: dict[str, Exposure] = {
    "miri": Exposure(
        "miri", "MIRI", "MIRIMAGE", "MIR_IMAGE", "FASTR1", 1, 10, (1024, 1032), 2.77504, (1, 2),
        ("mask", "saturation", "ipc", "reset", "linearity", "rscd", "dark", "emicorr", "gain", "readnoise"),
        ("emicorr", "firstframe", "persistence", "clean_flicker_noise"),
        {"persistence": _PERSISTENCE, "clean_flicker_noise": _NO_FLAT},
    ),
    "nirspec": Exposure(
        "nirspec", "NIRSPEC", "NRS1", "NRS_FIXEDSLIT", "NRSIRS2RAPID", 1, 5, (3200, 2048), 14.58889, (2, 1),
        ("mask", "saturation", "ipc", "superbias", "refpix", "linearity", "dark", "pictureframe", "gain",
         "readnoise"),
        ("charge_migration", "persistence", "picture_frame", "clean_flicker_noise"),
        # No WCS reference files offline: science regions cannot be masked by slit footprints.
        {"persistence": _PERSISTENCE, "picture_frame": {"mask_science_regions": False},
         "clean_flicker_noise": _NO_FLAT},
    ),
    "nircam": Exposure(
        "nircam", "NIRCAM", "NRCA1", "NRC_IMAGE", "RAPID", 1, 10, (2048, 2048), 10.73677, (-1, 2),
        ("mask", "saturation", "ipc", "superbias", "linearity", "dark", "gain", "readnoise"),
        ("charge_migration", "persistence", "clean_flicker_noise"),
        {"persistence": _PERSISTENCE, "clean_flicker_noise": _NO_FLAT},
    ),
}  # fmt: skip

#: Which steps read which reference type (the ``override_<reftype>`` each gets).
_STEP_REFTYPES = {
    "dq_init": ("mask",),
    "emicorr": ("emicorr",),
    "saturation": ("saturation", "superbias"),
    "ipc": ("ipc",),
    "superbias": ("superbias",),
    "refpix": ("refpix",),
    "rscd": ("rscd",),
    "linearity": ("linearity",),
    "dark_current": ("dark",),
    "reset": ("reset",),
    "picture_frame": ("pictureframe",),
    "jump": ("gain", "readnoise"),
    "ramp_fit": ("readnoise", "gain"),
    "gain_scale": ("gain",),
}

_MIRI = ("group_scale", "dq_init", "emicorr", "saturation", "ipc", "firstframe", "lastframe", "reset",
         "linearity", "rscd", "dark_current", "refpix")  # fmt: skip
_NEAR_INFRARED = ("group_scale", "dq_init", "saturation", "ipc", "superbias", "refpix", "linearity", "dark_current")
_TAIL = ("charge_migration", "jump", "picture_frame", "clean_flicker_noise", "persistence", "ramp_fit", "gain_scale")


def pipeline_order(exposure: Exposure) -> tuple[str, ...]:
    """The steps jwst 3.0's ``calwebb_detector1`` calls for the exposure, in order."""
    return (_MIRI if exposure.instrument == "MIRI" else _NEAR_INFRARED) + _TAIL


def ref_path(folder: str, reftype: str) -> str:
    """Path of the reference file of one type in an exposure's folder."""
    ext = "asdf" if reftype == "emicorr" else "fits"
    return f"{folder}/ref_{reftype}.{ext}"


def step_parameters(exposure: Exposure, folder: str) -> dict[str, dict]:
    """The ``steps=`` parameters given to both pipelines.

    Every step that applies to the detector runs (the off-by-default ones named in
    ``exposure.enable`` are turned on); those that do not apply and are off by
    default stay off; each step reads the exposure's reference files.
    """
    steps: dict[str, dict] = {}
    for step, reftypes in _STEP_REFTYPES.items():
        pars = {f"override_{r}": ref_path(folder, r) for r in reftypes if r in exposure.reftypes}
        if pars:
            steps[step] = pars
    for step in exposure.enable:
        steps.setdefault(step, {})["skip"] = False
    for step, pars in exposure.extra.items():
        steps.setdefault(step, {}).update(pars)
    return steps
