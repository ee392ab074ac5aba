"""clean_flicker_noise: fit and remove 1/f noise from the background pixels of each group."""

from builtin_steps.clean_flicker_noise.step import CleanFlickerNoiseStep

__all__ = ["CleanFlickerNoiseStep"]
