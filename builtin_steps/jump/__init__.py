"""The ``jump`` step: two-point-difference cosmic-ray detection.

Modules: :mod:`~builtin_steps.jump.twopoint` (the detection kernel),
:mod:`~builtin_steps.jump.neighbors` (neighbour and after-jump flagging) and
:mod:`~builtin_steps.jump.step` (:class:`~builtin_steps.jump.step.JumpStep`).
"""

from builtin_steps.jump.step import JumpStep

__all__ = ["JumpStep"]
