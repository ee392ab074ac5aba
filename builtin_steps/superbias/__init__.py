"""superbias: subtract the superbias reference image from every group."""

from builtin_steps.superbias.step import SuperBiasStep

__all__ = ["SuperBiasStep"]
