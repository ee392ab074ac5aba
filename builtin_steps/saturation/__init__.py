"""saturation: flag saturated groups and groups below the A/D floor."""

from builtin_steps.saturation.step import SaturationStep

__all__ = ["SaturationStep"]
