"""assign_mtwcs: the moving-target WCS of a product's exposures (imaging of fixed targets: nothing to do)."""

from builtin_steps.assign_mtwcs.step import AssignMTWcsStep

__all__ = ["AssignMTWcsStep"]
