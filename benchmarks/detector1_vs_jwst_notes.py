"""Known causes of the differences between steppe's and jwst's Detector1 steps.

Keyed by ``(detector key or "*", step)``; the report quotes a note when the
step-by-step comparison finds that the step, given jwst's input, returns
something other than jwst's output.
"""

from __future__ import annotations

__all__ = ["CHAINED", "FINDINGS", "NOTES"]

_DRAFT_RATE = (
    "Was a deviation, removed: steppe's draft rate for the scene mask was an unweighted mean slope; it is "
    "now, as in jwst, the ramp_fit step's OLS_C rate with its default parameters and the gain and read "
    "noise CRDS selects for the masking step (jwst's draft RampFitStep does not see the pipeline's "
    "overrides either). If this still shows, it is new."
)

_MASK_EDGE = (
    "Chained only (isolated, the step's output is bit-identical to jwst's). The scene mask and the "
    "per-image background clip are yes/no decisions: a value of the ramp that differs from jwst's by "
    "one float32 rounding step (from earlier steps: {upstream}) can put one pixel on the other side of "
    "a clipping limit, and then the median of its line (the 1/f fit of a whole row or column) moves "
    "by one order statistic of a noisy group difference, for every pixel of that line. Checked: "
    "{checked}"
)

_ONE_MASK_PIXEL = (
    "Cause: one pixel of the scene mask. The draft rate is now the ramp fit jwst uses, and equals "
    "jwst's to float32 rounding ({rate_pixels} pixels differ, by at most 3e-5 DN/s: steppe's OLS fit "
    "sums in another order), which puts one pixel on the other side of the clipping limit; the medians "
    "of its lines move slightly. Checked: given jwst's own mask, steppe's output is bit-identical to "
    "jwst's. (Before, with an unweighted draft slope, {before} values differed.)"
)

NOTES: dict[tuple[str, str], str] = {
    ("*", "clean_flicker_noise"): _DRAFT_RATE,
    ("nirspec", "clean_flicker_noise"): _ONE_MASK_PIXEL.format(rate_pixels=263568, before="16.6 million"),
    ("nircam", "clean_flicker_noise"): _ONE_MASK_PIXEL.format(rate_pixels=1529914, before="37 million"),
    ("*", "picture_frame"): (
        "Was a deviation, removed: the draft rate is now jwst's (the ramp_fit step's OLS_C rate), and the "
        "correction is computed in float32 in jwst's order ((group - first group) + (first group - "
        "correction)). If this still shows, it is new."
    ),
    ("nirspec", "refpix"): (
        "Cause: jwst keeps the IRS2 time series in float32 (the ramp minus its per-pixel mean is rounded "
        "to float32 before the correction; the filled reference output and the correction too), steppe "
        "in float64. The pixels concerned have values below about 12 DN and differ by 1e-5 to 1.2e-4 DN; "
        "max|d| is one float32 step at a value above 32768 DN. Checked: rounding steppe's first stage to "
        "float32 as jwst does halves their number, and jwst run with double-precision Fourier transforms "
        "differs from steppe on as many pixels (the transforms' precision is not the cause). Not a bug."
    ),
    ("*", "dark_current"): "Cause: float32 rounding of a near-zero value (one pixel). Not a bug.",
    ("*", "ramp_fit"): (
        "Was a steppe bug, fixed (builtin_steps/ramp_fit): jwst's OLS fit (1) fits groups flagged only "
        "PERSISTENCE and sets PERSISTENCE in the rate DQ when a fitted group has it, (2) for MIRI drops "
        "the leading groups and the last group that are DO_NOT_USE in every pixel (their SATURATED / "
        "PERSISTENCE flags do not reach the rate DQ; JUMP_DET is cleared on the new first group), "
        "(3) gives ramps with CHARGELOSS groups the read-noise variance of the ramp with those groups "
        "counted. If this still shows, it is new."
    ),
}

#: Causes of differences that appear only in the chained comparison, by (detector key or "*", step).
CHAINED: dict[tuple[str, str], str] = {
    ("*", "dark_current"): NOTES[("*", "dark_current")],
    ("nirspec", "picture_frame"): (
        "Chained only (isolated, the step's output is bit-identical to jwst's). Its input differs from "
        "jwst's by the IRS2 refpix rounding (steppe keeps float64, jwst float32: up to 1.2e-4 DN), so the "
        "medians of the centre and edge regions, and with them the correction of every pixel, differ by "
        "about as much; values near 0 DN then differ by more than 1e-5 relative."
    ),
    ("miri", "clean_flicker_noise"): _MASK_EDGE.format(
        upstream="emicorr, 698 values, and the MIRI refpix, 394427 values, each by one float32 step",
        checked="with jwst's jump output steppe's mask equals jwst's; with steppe's own, the mask is "
        "the same too, but in group difference 3 - 2 the background clip keeps pixel (512, 626) in jwst "
        "and drops it in steppe, and column 626's median moves by 0.28 DN, which shifts that column.",
    ),
}

#: Findings made with other versions of the synthetic data (not reproduced by the default run).
FINDINGS: tuple[str, ...] = (
    "emicorr (MIRI, FULL FAST, algorithm 'joint') with an EMI frequency whose period divides the frame "
    "time (390.625 Hz: 277504 clocks per frame = 1084 periods of 256 clocks): every group sees the same EMI "
    "phase, so the ramps cannot tell the EMI from a bias and chi-squared is undefined (a = 0) at 499 of the "
    "500 trial phases. jwst warns 'Chi squared values in final optimization are unexpectedly NaN' and "
    "subtracts a spurious waveform of amplitude about 1650 DN from every pixel; steppe finds no usable "
    "phase and subtracts nothing. The benchmark injects 218.52 Hz (Hz218a) instead, where both agree.",
    "A jwst save_mask product (ImageModel with a dataless ERR extension, NAXIS = 0) could not be read by "
    "steppe as clean_flicker_noise's user_mask; fixed in pipeline_core/datamodels/fits_io.py (a dataless "
    "image extension now reads as absent).",
)
