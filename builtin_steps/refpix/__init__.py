"""refpix: remove bias drifts measured on the detector's reference pixels."""

from builtin_steps.refpix.step import RefPixStep

__all__ = ["RefPixStep"]
