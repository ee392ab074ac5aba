"""The ``jump`` step: two-point-difference cosmic-ray detection, snowballs and showers.

Modules: :mod:`~builtin_steps.jump.twopoint` (the detection kernel),
:mod:`~builtin_steps.jump.neighbors` (neighbour and after-jump flagging),
:mod:`~builtin_steps.jump.blocks` (detection of a block of rows),
:mod:`~builtin_steps.jump.shapes` (regions and ellipses),
:mod:`~builtin_steps.jump.snowballs` (near-infrared snowballs),
:mod:`~builtin_steps.jump.showers` (MIRI showers) and
:mod:`~builtin_steps.jump.step` (:class:`~builtin_steps.jump.step.JumpStep`).
"""

from builtin_steps.jump.step import JumpStep

__all__ = ["JumpStep"]
