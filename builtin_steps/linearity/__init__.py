"""linearity: correct the classic non-linearity of the detector response."""

from builtin_steps.linearity.step import LinearityStep

__all__ = ["LinearityStep"]
