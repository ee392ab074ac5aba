"""group_scale: rescale groups whose frame divisor differs from the frame count."""

from builtin_steps.group_scale.step import GroupScaleStep

__all__ = ["GroupScaleStep"]
