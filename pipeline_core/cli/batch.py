"""``steppe batch NAME INPUTS...``: the command line of :mod:`pipeline_core.batch`.

Usage: ``steppe batch NAME INPUTS... --jobs N [--executor local|dask]
[--scheduler ADDR] [--output-dir D] [--skip-existing] [--config-file F]
[--steps.STEP.name=value] [--name=value]``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from pipeline_core.batch.runner import EXECUTORS, run_batch
from pipeline_core.cli.args import parse_step_arguments

__all__ = ["add_batch_subparser", "run_batch_command"]

_EPILOG = """\
step parameters: --name=value for the step or pipeline, --steps.STEP.name=value for a
pipeline's step (values are converted by the step's parameter spec).

examples:
  steppe batch calwebb_detector1 raw/*_uncal.fits --jobs 4 --output-dir out
  steppe batch calwebb_detector1 raw/*_uncal.fits --jobs 4 --skip-existing --output-dir out
  steppe batch calwebb_detector1 raw/*.fits --executor dask --scheduler tcp://host:8786
  steppe batch jump ramps/*_ramp.fits --rejection_threshold=5 --maximum_cores=all
"""


def _parse_with_step_arguments(parser: argparse.ArgumentParser) -> None:
    """Make `parser` collect unknown ``--name=value`` tokens in ``step_arguments``."""
    original = parser.parse_known_args
    own = {s for action in parser._actions for s in action.option_strings}

    def parse_known_args(args: Sequence[str] | None = None, namespace: Any = None) -> Any:
        tokens = list(sys.argv[1:] if args is None else args)
        step_arguments = [t for t in tokens if t.startswith("--") and "=" in t and t.split("=", 1)[0] not in own]
        rest = [t for t in tokens if t not in step_arguments]
        namespace, extras = original(rest, namespace)
        namespace.step_arguments = step_arguments
        return namespace, extras

    parser.parse_known_args = parse_known_args  # type: ignore[method-assign]


def add_batch_subparser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``batch`` subcommand to the ``steppe`` command's subparsers.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The object returned by ``ArgumentParser.add_subparsers``.

    Returns
    -------
    argparse.ArgumentParser
        The ``batch`` parser. Unknown ``--name=value`` arguments are collected, as
        step parameters, in the ``step_arguments`` attribute of the parsed namespace.
    """
    parser = subparsers.add_parser(
        "batch",
        help="run a step or pipeline on many inputs",
        description="Run a step or pipeline on many inputs: each input gets its own log "
        "file, failures write <base>_crash.txt and do not stop the others.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("pipeline", metavar="NAME", help="step or pipeline alias or class path")
    parser.add_argument("inputs", metavar="INPUTS", nargs="+", help="input files")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="inputs run at the same time (default 1)")
    parser.add_argument("--executor", choices=EXECUTORS, default="local", help="where jobs run (default local)")
    parser.add_argument("--scheduler", metavar="ADDR", help="dask scheduler address (default: a LocalCluster)")
    parser.add_argument("--output-dir", dest="output_dir", help="folder for products and logs (default .)")
    parser.add_argument(
        "--skip-existing", dest="skip_existing", action="store_true",
        help="skip the inputs whose product exists (resume a batch)",
    )
    parser.add_argument("--config-file", dest="config_file", help="ASDF parameter file for every input")
    parser.add_argument("--debug", action="store_true", help="print the full traceback of an error")
    _parse_with_step_arguments(parser)
    return parser


def run_batch_command(args: argparse.Namespace, *, stdout: Any = None) -> int:
    """Run ``steppe batch`` from parsed arguments and print the summary table.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed by the parser of :func:`add_batch_subparser`.
    stdout : text stream, optional
        Where to print the summary (default ``sys.stdout``).

    Returns
    -------
    int
        0 when every input succeeded or was skipped, 1 when any failed.
    """
    out = stdout if stdout is not None else sys.stdout
    params = parse_step_arguments(getattr(args, "step_arguments", []))
    report = run_batch(
        args.pipeline,
        args.inputs,
        jobs=args.jobs,
        executor=args.executor,
        scheduler=args.scheduler,
        output_dir=args.output_dir,
        skip_existing=args.skip_existing,
        config_file=args.config_file,
        **params,
    )
    out.write(report.summary() + "\n")
    return 0 if report.succeeded else 1
