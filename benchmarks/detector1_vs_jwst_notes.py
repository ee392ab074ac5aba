"""Known causes of the differences between steppe's and jwst's Detector1 steps.

Keyed by ``(detector key or "*", step)``; the report quotes a note when the
step-by-step comparison finds that the step, given jwst's input, returns
something other than jwst's output.
"""

from __future__ import annotations

__all__ = ["NOTES"]

_DRAFT_RATE = (
    "Cause: the background mask. Both steps mask the scene from a draft rate image: jwst runs its "
    "full RampFitStep for it (with the gain and read noise CRDS selects, not the run's overrides), "
    "steppe takes an unweighted mean slope (documented deviation, docs/steps/{doc}.md: 'The draft "
    "rate is an unweighted slope, not a full ramp fit'). A few thousand pixels near the clipping "
    "threshold fall on the other side, so the background medians move slightly. Checked: given jwst's "
    "own background mask, steppe's output equals jwst's to float32 rounding."
)

NOTES: dict[tuple[str, str], str] = {
    ("*", "clean_flicker_noise"): _DRAFT_RATE.format(doc="clean_flicker_noise"),
    ("*", "picture_frame"): _DRAFT_RATE.format(doc="picture_frame"),
    ("nirspec", "refpix"): (
        "Cause: float32 rounding of the IRS2 Fourier correction (different FFT and summation order); "
        "the differing pixels are near 0 DN, below 0.004 DN. Not a bug."
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
