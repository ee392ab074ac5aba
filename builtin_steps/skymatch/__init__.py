"""skymatch: measure (and optionally subtract) the sky of the exposures of a product."""

from builtin_steps.skymatch.step import SkyMatchStep

__all__ = ["SkyMatchStep"]
