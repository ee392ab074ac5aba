"""dark_current: subtract the dark reference, averaged to the science readout."""

from builtin_steps.dark_current.step import DarkCurrentStep

__all__ = ["DarkCurrentStep"]
