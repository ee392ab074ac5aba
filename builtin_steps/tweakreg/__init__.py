"""tweakreg: align the WCS of the exposures of a product to each other and to a reference catalog."""

from builtin_steps.tweakreg.step import TweakRegStep

__all__ = ["TweakRegStep"]
