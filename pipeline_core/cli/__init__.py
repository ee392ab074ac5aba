"""The ``steppe`` command.

- :mod:`~pipeline_core.cli.main`: the parser, ``list``/``run``/``config``/``demo``.
- :mod:`~pipeline_core.cli.args`: ``--name=value`` and ``--steps.x.y=value`` arguments.
- :mod:`~pipeline_core.cli.batch`: ``steppe batch``.
"""

from pipeline_core.cli.main import main, run_cli

__all__ = ["main", "run_cli"]
