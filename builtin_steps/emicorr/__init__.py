"""emicorr: fit and subtract the MIRI electromagnetic-interference (EMI) sinusoids."""

from builtin_steps.emicorr.step import EmiCorrStep

__all__ = ["EmiCorrStep"]
