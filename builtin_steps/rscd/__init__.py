"""rscd: flag the MIRI groups affected by reset-switch charge decay DO_NOT_USE."""

from builtin_steps.rscd.step import RscdStep

__all__ = ["RscdStep"]
