"""background: subtract the average of background exposures (image-from-image)."""

from builtin_steps.background.step import BackgroundStep

__all__ = ["BackgroundStep"]
