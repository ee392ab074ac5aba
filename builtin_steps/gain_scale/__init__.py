"""gain_scale: rescale count rates taken with a non-standard gain setting."""

from builtin_steps.gain_scale.step import GainScaleStep

__all__ = ["GainScaleStep"]
