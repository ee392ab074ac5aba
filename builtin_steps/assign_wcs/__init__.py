"""assign_wcs: attach the imaging WCS (detector -> V2/V3 -> sky) to an exposure."""

from builtin_steps.assign_wcs.step import AssignWcsStep

__all__ = ["AssignWcsStep"]
