"""JumpStep: flag cosmic-ray jumps in the ramps (two-point differences), snowballs and showers."""

from __future__ import annotations

from typing import Any

import numpy as np

from builtin_steps._common import (
    check_reference_coverage,
    open_ramp,
    reference_row_reader,
    required_reference_path,
)
from builtin_steps.jump.blocks import NO_GAIN_VALUE, bad_gain_flags, detect_jumps_in_block
from builtin_steps.jump.neighbors import flag_after_jumps, flag_four_neighbors
from builtin_steps.jump.showers import MIN_SHOWER_DIFFS, ShowerOptions, flag_showers, usable_differences
from builtin_steps.jump.snowballs import SnowballOptions, flag_snowballs
from builtin_steps.jump.twopoint import (
    JUMP_DET,
    SATURATED,
    choose_mode,
    clear_frame_wide_jumps,
    count_unusable_groups,
    detect_jumps,
)
from pipeline_core import Step
from pipeline_core.errors import ParameterError, StepError

__all__ = ["JumpStep", "NO_GAIN_VALUE", "detect_jumps_in_block"]

#: Parameters of the snowball and shower flagging that must be positive when used.
_POSITIVE = {
    "expand_large_events": ("expand_factor", "max_extended_radius"),
    "find_showers": ("extend_outer_radius", "extend_ellipse_expand_ratio", "max_extended_radius"),
}


class JumpStep(Step):
    """Detect jumps with the two-point-difference method and flag JUMP_DET.

    The parameters and defaults are those of the JWST ``jump`` step.  After the
    detection (parallel over blocks of rows, see :func:`detect_jumps_in_block`),
    ``expand_large_events`` flags near-infrared snowballs
    (:mod:`~builtin_steps.jump.snowballs`) and ``find_showers`` MIRI showers
    (:mod:`~builtin_steps.jump.showers`); both need whole frames and run in the
    main process on the full arrays.  ``use_ellipses`` is deprecated in JWST
    and has no effect.
    """

    class_alias = "jump"
    legacy_class_paths = ("jwst.jump.jump_step.JumpStep",)
    reference_file_types = ("gain", "readnoise")
    parallel = True
    parallel_threads = True
    spec = """
        rejection_threshold = float(default=4.0,min=0) # CR sigma rejection threshold
        three_group_rejection_threshold = float(default=6.0,min=0) # CR sigma rejection threshold
        four_group_rejection_threshold = float(default=5.0,min=0) # CR sigma rejection threshold
        flag_4_neighbors = boolean(default=True) # flag the four perpendicular neighbors of each CR
        max_jump_to_flag_neighbors = float(default=1000) # maximum jump sigma that will trigger neighbor flagging
        min_jump_to_flag_neighbors = float(default=10) # minimum jump sigma that will trigger neighbor flagging
        after_jump_flag_dn1 = float(default=0) # 1st flag groups after jump above DN threshold
        after_jump_flag_time1 = float(default=0) # 1st flag groups after jump groups within specified time
        after_jump_flag_dn2 = float(default=0) # 2nd flag groups after jump above DN threshold
        after_jump_flag_time2 = float(default=0) # 2nd flag groups after jump groups within specified time
        expand_large_events = boolean(default=False) # Turns on Snowball detector for NIR detectors
        min_sat_area = float(default=1.0) # minimum required area for the central saturation of snowballs
        min_jump_area = float(default=5.0) # minimum area to trigger large events processing
        expand_factor = float(default=2.0) # The expansion factor for the enclosing circles or ellipses
        use_ellipses = boolean(default=False) # deprecated
        sat_required_snowball = boolean(default=True) # Require the center of snowballs to be saturated
        min_sat_radius_extend = float(default=2.5) # The min radius of the sat core to trigger the extension of the core
        sat_expand = integer(default=2) # Number of pixels to add to the radius of the saturated core of snowballs
        edge_size = integer(default=25) # Distance from detector edge where a saturated core is not required for snowball detection
        mask_snowball_core_next_int = boolean(default=True) # Flag saturated cores of snowballs in the next integration?
        snowball_time_masked_next_int = integer(default=4000) # Time in seconds over which saturated cores are flagged in next integration
        find_showers = boolean(default=False) # Apply MIRI shower flagging?
        max_shower_amplitude = float(default=4) # Maximum MIRI shower amplitude in DN/s
        extend_snr_threshold = float(default=1.2) # The SNR minimum for detection of extended showers in MIRI
        extend_min_area = integer(default=90) # Min area of emission after convolution for the detection of showers
        extend_inner_radius = float(default=1) # Inner radius of the ring_2D_kernel used for convolution
        extend_outer_radius = float(default=2.6) # Outer radius of the ring_2D_Kernel used for convolution
        extend_ellipse_expand_ratio = float(default=1.1) # Expand the radius of the ellipse fit to the extended emission
        time_masked_after_shower = float(default=15) # Seconds to flag as jump after a detected extended emission
        min_diffs_single_pass = integer(default=10) # The minimum number of differences needed to skip the iterative flagging of jumps.
        max_extended_radius = integer(default=200) # The maximum radius of an extended snowball or shower
        minimum_groups = integer(default=3) # The minimum number of groups to perform jump detection using sigma clipping
        minimum_sigclip_groups = integer(default=100) # The minimum number of groups to switch to sigma clipping
        only_use_ints = boolean(default=True) # In sigclip only compare the same group across ints, if False compare all groups
    """

    def process(self, step_input: Any) -> Any:
        """Flag jumps in the ramp's GROUPDQ.

        Parameters
        ----------
        step_input : str, os.PathLike or RampModel
            The ramp (after saturation, superbias, refpix, linearity, dark).

        Returns
        -------
        RampModel
            The ramp with JUMP_DET set in GROUPDQ (and NO_GAIN_VALUE |
            DO_NOT_USE in PIXELDQ where the gain is not positive; SATURATED
            on the grown cores of snowballs).  Ramps with fewer than three
            groups are returned unchanged, marked SKIPPED.

        Raises
        ------
        ParameterError
            If a snowball or shower parameter that must be positive is not.
        ReferenceFileError
            If the gain or read-noise reference is not available.
        StepError
            If snowballs or showers are asked for and the ramp has no
            positive ``meta.exposure.group_time``.
        """
        self._check_parameters()
        model = open_ramp(self, step_input)
        nints, ngroups, ny, nx = model.data.shape
        if ngroups <= 2:
            self.log.warning(
                "Cannot detect jumps with NGROUPS=%d (<= 2); step %s skipped", ngroups, self.name
            )
            model.meta.cal_step.jump = "SKIPPED"
            return model
        gain, readnoise = self._references(model)
        mode = choose_mode(
            model.groupdq,
            minimum_groups=self.minimum_groups,
            minimum_sigclip_groups=self.minimum_sigclip_groups,
            only_use_ints=self.only_use_ints,
            min_diffs_single_pass=self.min_diffs_single_pass,
        )
        self.log.info(
            "CR rejection threshold = %g sigma; detection mode: %s", self.rejection_threshold, mode
        )
        if mode == "skip":
            # as in JWST, snowball and shower flagging still run on the flags as they are
            self.log.info(
                "Jump detection skipped: fewer than %d usable groups", self.minimum_groups
            )
            _flag_bad_gain(model, _whole(gain))
            self._primary = 0
        else:
            self._detect(model, gain, readnoise, mode)
        events = self._flag_large_events(model, gain, readnoise)
        self._record_rate(model, nints, ngroups, ny * nx, events)
        return model

    def _check_parameters(self) -> None:
        if self.use_ellipses:
            self.log.warning("use_ellipses is deprecated (as in JWST) and has no effect")
        for feature, names in _POSITIVE.items():
            if not getattr(self, feature):
                continue
            for name in names:
                value = getattr(self, name)
                if not value > 0:
                    raise ParameterError(
                        f"step {self.name}: parameter {name}={value!r} is not accepted with "
                        f"{feature}=True; accepted: a number > 0"
                    )
        if self.find_showers and self.extend_inner_radius < 0:
            raise ParameterError(
                f"step {self.name}: parameter extend_inner_radius={self.extend_inner_radius!r} "
                "is not accepted; accepted: a number >= 0"
            )

    def _references(self, model: Any) -> tuple[Any, Any]:
        """The gain and read noise under the science pixels, as arrays or row readers.

        The references are opened lazily and checked; their pixels are read by
        whoever needs them: each block of rows reads its own rows.
        """
        from pipeline_core.datamodels import open_model

        arrays = []
        for reftype in ("gain", "readnoise"):
            path = required_reference_path(
                self, model, reftype, "jump detection needs both gain and readnoise", " or skip the step"
            )
            self.log.info("Using %s reference file %s", reftype.upper(), path)
            ref = open_model(path, lazy=True)
            check_reference_coverage(self, model, ref, reftype)
            arrays.append(reference_row_reader(self, model, ref, "data", reftype))
        return arrays[0], arrays[1]

    def _detect(self, model: Any, gain: Any, readnoise: Any, mode: str) -> None:
        """Flag the jumps in ``model.groupdq`` (and bad gains in ``model.pixeldq``)."""
        from pipeline_core.parallel import map_row_slices

        nframes = int(model.meta.exposure.nframes or 1)
        options = {
            "mode": mode,
            "rejection_threshold": self.rejection_threshold,
            "three_group_rejection_threshold": self.three_group_rejection_threshold,
            "four_group_rejection_threshold": self.four_group_rejection_threshold,
            "nframes": nframes,
            "flag_4_neighbors": self.flag_4_neighbors,
            "max_jump_to_flag_neighbors": self.max_jump_to_flag_neighbors,
            "min_jump_to_flag_neighbors": self.min_jump_to_flag_neighbors,
            "only_use_ints": self.only_use_ints,
        }
        rules = self._after_jump_rules(model)
        if mode == "sigma_clip":
            # frame-wide jumps are cleared over the whole frame before any neighbour
            # or after-jump flagging
            gain, readnoise = _whole(gain), _whole(readnoise)
            _flag_bad_gain(model, gain)
            result = detect_jumps(model.data, model.groupdq, gain, readnoise, **options)
            groupdq = result["groupdq"]
            clear_frame_wide_jumps(groupdq)
            self._primary = max(0, _count_jumps(groupdq) - _count_jumps(model.groupdq))
            if self.flag_4_neighbors:
                flag_four_neighbors(groupdq, result["neighbor_seed"])
            if rules:
                flag_after_jumps(groupdq, model.data, gain, readnoise, nframes=nframes, rules=rules)
            model.groupdq = groupdq
        else:
            # Everything is done block by block; a block also sees the row on each
            # side of it, whose jumps may flag a neighbour in the block. The new
            # flags are written over the model's own (the step's copy, or the
            # pipeline's ramp), each block reading the original flags it needs.
            result = map_row_slices(
                detect_jumps_in_block,
                {
                    "data": model.data,
                    "groupdq": model.groupdq,
                    "pixeldq": model.pixeldq,
                    "gain": gain,
                    "readnoise": readnoise,
                },
                max_workers=self.max_workers,
                kwargs={**options, "after_jump_rules": rules},
                halo=1,
                threads=True,
                in_place=_writable(model, ("groupdq", "pixeldq")),
            )
            model.groupdq = result["groupdq"]
            model.pixeldq = result["pixeldq"]
            self._primary = int(result["new_jumps"].sum())
        self.log.info("Found %d primary jumps", self._primary)

    def _after_jump_rules(self, model: Any) -> list[tuple[float, int]]:
        """``(threshold DN, groups)`` pairs of the after-jump flagging asked for."""
        group_time = model.meta.exposure.group_time
        rules = []
        for dn, seconds in (
            (self.after_jump_flag_dn1, self.after_jump_flag_time1),
            (self.after_jump_flag_dn2, self.after_jump_flag_time2),
        ):
            if seconds > 0 and group_time:
                rules.append((float(dn), int(seconds // group_time)))
        return rules

    def _flag_large_events(self, model: Any, gain: Any, readnoise: Any) -> int:
        """Snowball and shower flagging on the full frame; the number of events found."""
        if not (self.expand_large_events or self.find_showers):
            return 0
        group_time = model.meta.exposure.group_time
        if not group_time or group_time <= 0:
            raise StepError(
                f"step {self.name}: snowball and shower flagging need the group time, but "
                f"meta.exposure.group_time is {group_time!r} in "
                f"'{model.meta.filename or 'the input'}'; accepted: a time in seconds > 0"
            )
        events = 0
        if self.expand_large_events:
            options = SnowballOptions(
                min_sat_area=self.min_sat_area,
                min_jump_area=self.min_jump_area,
                expand_factor=self.expand_factor,
                sat_required_snowball=self.sat_required_snowball,
                min_sat_radius_extend=self.min_sat_radius_extend,
                sat_expand=self.sat_expand,
                edge_size=self.edge_size,
                max_extended_radius=self.max_extended_radius,
                core_groups_next_int=(
                    int(self.snowball_time_masked_next_int // group_time)
                    if self.mask_snowball_core_next_int
                    else 0
                ),
            )
            groupdq = np.array(model.groupdq, dtype=np.uint8)
            events = flag_snowballs(groupdq, options, jump_flag=JUMP_DET, sat_flag=SATURATED)
            model.groupdq = groupdq
            self.log.info("Total snowballs = %d", events)
        if self.find_showers:
            if usable_differences(model.groupdq) < MIN_SHOWER_DIFFS:
                self.log.warning(
                    "Not enough group differences for shower detection (fewer than %d)",
                    MIN_SHOWER_DIFFS,
                )
                return 0  # as in JWST, the shower count replaces the snowball count
            options = ShowerOptions(
                extend_snr_threshold=self.extend_snr_threshold,
                extend_min_area=self.extend_min_area,
                extend_inner_radius=self.extend_inner_radius,
                extend_outer_radius=self.extend_outer_radius,
                extend_ellipse_expand_ratio=self.extend_ellipse_expand_ratio,
                max_extended_radius=self.max_extended_radius,
                minimum_sigclip_groups=self.minimum_sigclip_groups,
                groups_masked_after=int(self.time_masked_after_shower // group_time),
                max_amplitude=self.max_shower_amplitude * group_time,
                nframes=int(model.meta.exposure.nframes or 1),
            )
            model.groupdq, events = flag_showers(
                model.data, model.groupdq, model.pixeldq, _whole(gain), _whole(readnoise), options
            )
            self.log.info("Total showers = %d", events)
        return events

    def _record_rate(self, model: Any, nints: int, ngroups: int, npix: int, events: int) -> None:
        """Primary cosmic rays (per 1000 s) and extended events (per 1e6 s) per pixel."""
        group_time = model.meta.exposure.group_time
        total_groups = nints * ngroups - count_unusable_groups(model.groupdq) - nints
        if group_time and total_groups >= 1 and npix:
            total = group_time * total_groups * npix
            model.meta.exposure.primary_cosmic_rays = float(1000.0 * self._primary / total)
            model.meta.exposure.extended_emission_events = float(1e6 * events / total)


def _count_jumps(groupdq: np.ndarray) -> int:
    """Number of groups flagged JUMP_DET (one integration at a time)."""
    return sum(int(np.count_nonzero(plane & JUMP_DET)) for plane in groupdq)


def _whole(array: Any) -> np.ndarray:
    """A reference array, read whole if it is still a row reader."""
    if isinstance(array, np.ndarray):
        return array
    return array.read_rows(0, array.shape[0], 0)


def _flag_bad_gain(model: Any, gain: np.ndarray) -> None:
    bad = bad_gain_flags(gain)
    if bad.any():
        model.pixeldq = model.pixeldq | bad


def _writable(model: Any, names: tuple[str, ...]) -> dict[str, str]:
    """``{name: name}`` for each of the model's arrays the jump flags can be written over."""
    arrays = {name: getattr(model, name) for name in names}
    return {
        name: name for name, array in arrays.items()
        if isinstance(array, np.ndarray) and array.flags.writeable and array.flags.c_contiguous
    }
