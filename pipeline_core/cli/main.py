"""The ``steppe`` command: list, run, configure and demonstrate steps.

``main()`` is the console entry point; :func:`run_cli` does the work and returns
the exit status, so it can be called from tests and scripts. Errors print one
line on stderr (``steppe: error: ...``) and exit with status 1; ``--debug`` also
prints the traceback.

Subcommands::

    steppe --version
    steppe list [PATTERN]
    steppe run NAME_OR_FILE INPUT [--name=value ...] [--steps.STEP.name=value ...]
               [--save-results | --no-save-results] [--output-dir D]
               [--config-file F] [--logcfg F] [--save-parameters F]
               [--disable-crds-steppars] [--quiet | --verbose] [--debug]
    steppe config NAME [-o FILE.asdf]
    steppe demo [--output-dir D] [--instrument NAME] [--quiet | --verbose]
    steppe show PRODUCT [-o OUT.png] [--open] [--catalog CAT.ecsv]
    steppe info PRODUCT
    steppe batch ...

``--quiet`` shows only warnings and errors (and no progress bar), ``--verbose``
also DEBUG messages; they may come before or after the subcommand. Without
either, the ``STEPPE_LOG_LEVEL`` environment variable sets the level (INFO by
default; see :mod:`pipeline_core.logconfig`).

Why one module of this size: the parser and one small function per subcommand;
the argument conventions (:mod:`~pipeline_core.cli.args`) and ``steppe batch``
(:mod:`~pipeline_core.cli.batch`) live apart.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import logging
import os
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from pipeline_core.cli.args import parse_step_arguments
from pipeline_core.errors import ParameterError, PluginError, SteppeError

__all__ = ["main", "run_cli", "build_parser"]

_EPILOG = """\
examples:
  steppe list                       every registered step and pipeline
  steppe list 'jump*'               filter by alias or class path (glob)
  steppe run jump in_ramp.fits --rejection_threshold=5 --output-dir out
  steppe run calwebb_detector1 in_uncal.fits --steps.jump.rejection_threshold=12
  steppe run my_pipeline.asdf in_uncal.fits
  steppe run jump in_ramp.fits --save-parameters used.asdf   record what ran
  steppe config jump -o jump.asdf   write the default parameter file
  steppe show out/jw01_nrca1_rate.fits -o rate.png   a quick-look picture
  steppe info out/jw01_nrca1_rate.fits              what made a product
"""


class _Parser(argparse.ArgumentParser):
    """ArgumentParser that raises instead of exiting, so run_cli returns a status."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{self.prog}: error: {message}")


class _UsageError(Exception):
    """A command-line usage error (exit status 2)."""


def _add_verbosity(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """Add ``--quiet``/``--verbose``; a subcommand's copy only sets them when given."""
    group = parser.add_mutually_exclusive_group()
    default: Any = False if top else argparse.SUPPRESS
    group.add_argument(
        "-q", "--quiet", action="store_true", default=default,
        help="show only warnings and errors, and no progress bar",
    )
    group.add_argument(
        "-v", "--verbose", action="store_true", default=default, help="show DEBUG messages too"
    )


def build_parser(*, with_batch: bool = False) -> argparse.ArgumentParser:
    """Build the argument parser of the ``steppe`` command.

    Parameters
    ----------
    with_batch : bool, optional
        Import ``pipeline_core.batch.runner`` and let it define the ``batch``
        subcommand's arguments. Otherwise ``batch`` is a placeholder so that
        ``steppe --help`` stays cheap.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = _Parser(
        prog="steppe",
        description="Run and inspect calibration steps and pipelines.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument(
        "--version", action="store_true", help="print the steppe version and exit"
    )
    parser.add_argument(
        "--debug", action="store_true", help="print the full traceback of an error"
    )
    _add_verbosity(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p_list = sub.add_parser(
        "list", help="list the registered steps and pipelines", allow_abbrev=False
    )
    p_list.add_argument(
        "pattern", nargs="?", default="*",
        help="glob matched against aliases and class paths (default: all)",
    )

    p_run = sub.add_parser(
        "run",
        help="run a step or pipeline on an input file",
        description=(
            "Run a step or pipeline, named by alias, class path or ASDF parameter file, on "
            "INPUT. Any --name=value sets a step parameter; --steps.STEP.name=value sets a "
            "parameter of a pipeline's step. Values are checked against the step's spec."
        ),
        allow_abbrev=False,
    )
    p_run.add_argument("target", metavar="NAME_OR_FILE", help="step alias, class path or .asdf file")
    p_run.add_argument("input", metavar="INPUT", help="input data file")
    p_run.add_argument(
        "--save-results", dest="save_results", action=argparse.BooleanOptionalAction,
        default=True, help="save the final product (default: yes, as strun does)",
    )
    p_run.add_argument(
        "--output-dir", dest="output_dir", metavar="DIR", help="folder for saved products"
    )
    p_run.add_argument(
        "--config-file", dest="config_file", metavar="FILE", help="ASDF parameter file to apply"
    )
    p_run.add_argument("--logcfg", metavar="FILE", help="logging configuration file")
    p_run.add_argument(
        "--save-parameters", dest="save_parameters", metavar="FILE",
        help="write the complete parameters used for this run (every layer applied) to this "
        "ASDF parameter file before running",
    )
    p_run.add_argument(
        "--disable-crds-steppars", dest="disable_crds_steppars", action="store_true",
        help="do not read the CRDS parameter reference files (as STPIPE_DISABLE_CRDS_STEPPARS=1)",
    )
    p_run.add_argument("--debug", action="store_true", help="print the full traceback of an error")
    _add_verbosity(p_run)

    p_config = sub.add_parser(
        "config", help="print or save the default parameter file of a step",
        allow_abbrev=False,
    )
    p_config.add_argument("target", metavar="NAME", help="step alias or class path")
    p_config.add_argument(
        "-o", "--output", metavar="FILE", help="write the ASDF file here instead of printing it"
    )
    p_config.add_argument("--debug", action="store_true", help="print the full traceback of an error")

    p_demo = sub.add_parser(
        "demo", help="write demonstration data and run a pipeline on it", allow_abbrev=False
    )
    p_demo.add_argument(
        "--output-dir", dest="output_dir", default="steppe-demo", metavar="DIR",
        help="folder for the demo inputs and products (default: ./steppe-demo)",
    )
    p_demo.add_argument(
        "--instrument", default="nircam", metavar="NAME", type=str.lower,
        help="instrument of the demo exposure, e.g. nircam (default), miri, nirspec, niriss",
    )
    p_demo.add_argument("--debug", action="store_true", help="print the full traceback of an error")
    _add_verbosity(p_demo)

    from pipeline_core.cli.info import add_info_subparser
    from pipeline_core.cli.show import add_show_subparser

    add_show_subparser(sub)
    add_info_subparser(sub)

    if with_batch:
        from pipeline_core.cli.batch import add_batch_subparser

        add_batch_subparser(sub)
    else:
        sub.add_parser(
            "batch", help="run a step or pipeline on many inputs", add_help=False
        ).add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def _class_named_in_file(path: str) -> str:
    """Return the ``class`` entry of an ASDF parameter file."""
    from pipeline_core.config.parfile import read_parameter_file

    name = read_parameter_file(path).class_name
    if not name:
        raise PluginError(
            f"parameter file {path!r} has no 'class' entry naming the step or pipeline to run; "
            "add e.g. 'class: pipeline_core.Pipeline' (or a step alias)"
        )
    return name


def _is_parameter_file(target: str) -> bool:
    return target.lower().endswith(".asdf") or os.path.isfile(target)


def _cmd_list(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from pipeline_core.plugins.manager import registry

    reg = registry()
    pattern = args.pattern
    matching = [
        d
        for d in reg.descriptors()
        if any(fnmatch.fnmatchcase(n, pattern) for n in d.names())
    ]
    # a step of a bridged package (jwst) that steppe provides itself is not listed
    shadowed = [d for d in matching if reg.shadowing(d) is not None]
    rows = [d for d in matching if d not in shadowed]
    table = [("ALIAS", "CLASS PATH", "DISTRIBUTION", "PARALLEL")] + [
        (
            d.alias or "-",
            d.class_path,
            f"{d.distribution} {d.version}",
            "yes" if d.parallel else "no",
        )
        for d in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    for row in table:
        out.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() + "\n")
    for message in reg.conflicts():
        err.write(f"steppe: warning: {message}\n")
    _list_notes(shadowed, out)
    if not rows:
        err.write(f"steppe: no step matches {pattern!r}\n")
        return 1
    return 0


def _list_notes(shadowed: list[Any], out: TextIO) -> None:
    """Say which bridged steps steppe provides itself, or how to enable the bridge."""
    from pipeline_core.bridge.discovery import enable_hint

    if shadowed:
        by_dist: dict[str, list[str]] = {}
        for d in shadowed:
            by_dist.setdefault(d.distribution, []).append(d.alias or d.class_path)
        for dist, names in sorted(by_dist.items()):
            out.write(
                f"\nsteppe provides its own {', '.join(sorted(names))}; "
                f"{dist}'s are run as '{dist}::NAME'\n"
            )
    hint = enable_hint()
    if hint:
        out.write(f"\nnote: {hint}\n")


def _console_logging(args: argparse.Namespace, err: TextIO) -> contextlib.AbstractContextManager[Any]:
    """Send steppe's log records to ``err`` for the duration of a command.

    ``--debug``/``--verbose`` show DEBUG, ``--quiet`` WARNING; otherwise
    ``STEPPE_LOG_LEVEL`` or INFO. A ``--logcfg`` file, or handlers configured by
    the caller, take the place of the console.
    """
    from pipeline_core import logconfig

    if getattr(args, "logcfg", None) is not None:
        return contextlib.nullcontext()
    level = None
    if args.debug or args.verbose:
        level = logging.DEBUG
    elif args.quiet:
        level = logging.WARNING
    return logconfig.console_logging(level, stream=err)


def _cmd_run(args: argparse.Namespace, extra: Sequence[str], out: TextIO, err: TextIO) -> int:
    from pipeline_core import logconfig
    from pipeline_core.plugins.manager import registry

    params = parse_step_arguments(extra)
    target = args.target
    config_file = args.config_file
    if _is_parameter_file(target):
        if not os.path.isfile(target):
            raise PluginError(
                f"parameter file {target!r} does not exist; give an existing .asdf file, a step "
                "alias or a registered class path"
            )
        if config_file is not None:
            raise ParameterError(
                f"both a parameter file ({target!r}) and --config-file={config_file!r} were given; "
                "give only one"
            )
        config_file = target
        target = _class_named_in_file(target)
    step_class = registry().resolve(target)
    params.setdefault("save_results", args.save_results)
    if args.output_dir is not None:
        params.setdefault("output_dir", args.output_dir)
    started = time.perf_counter()
    with _console_logging(args, err), logconfig.configured(args.logcfg):
        prepared = step_class._prepare_call(
            args.input, config_file, params, crds_steppars=not args.disable_crds_steppars
        )
        if args.save_parameters is not None:
            written = prepared.step.export_config(args.save_parameters)
            out.write(f"steppe: wrote the parameters of this run to {written}\n")
        prepared.run()
    elapsed = time.perf_counter() - started
    label = getattr(step_class, "class_alias", None) or step_class.__name__
    out.write(f"steppe: {label} finished on {args.input} in {elapsed:.2f} s\n")
    return 0


def _cmd_config(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from pipeline_core.plugins.manager import registry

    step_class = registry().resolve(args.target)
    step = step_class()
    if args.output:
        step.export_config(args.output)
        out.write(f"steppe: wrote {args.output}\n")
        return 0
    with tempfile.TemporaryDirectory(prefix="steppe-config-") as tmp:
        path = Path(tmp) / f"{getattr(step_class, 'class_alias', None) or step_class.__name__}.asdf"
        step.export_config(str(path))
        out.write(path.read_text(encoding="utf-8", errors="replace"))
    return 0


def _cmd_demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from pipeline_core.cli.demo import demo_plan, run_stage, show_stage_products
    from pipeline_core.plugins.manager import registry

    directory = Path(args.output_dir).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    reg = registry()
    answer = reg.hook.prepare_demo(directory=str(directory), instrument=args.instrument)
    if answer is None:
        raise PluginError(
            "no installed plugin offers demonstration data (hook prepare_demo); install "
            "steppe with its built-in steps, or a plugin that implements the hook"
        )
    plan = demo_plan(answer)
    classes = [reg.resolve(stage.pipeline) for stage in plan.stages]
    if plan.description:
        out.write(f"steppe demo: {plan.description}\n")
    before = set(directory.iterdir())
    pictures = []
    with _console_logging(args, err):
        inputs = plan.inputs
        for stage, step_class in zip(plan.stages, classes):
            # each stage runs on the products the stage before it saved
            inputs = run_stage(stage, step_class, inputs, str(directory), out)
            pictures.extend((stage.pipeline, *drawn) for drawn in show_stage_products(stage, inputs))
    for product in sorted(set(directory.iterdir()) - before):
        out.write(f"steppe demo: wrote {product}\n")
    for pipeline, product, catalog, picture in pictures:
        out.write(f"steppe demo: {pipeline} made {product}\n")
        if catalog is not None:
            out.write(f"steppe demo: its catalog {catalog} ({picture.catalog_rows} sources)\n")
        marked = f", {picture.sources} sources circled" if catalog is not None else ""
        out.write(f"steppe demo: quick-look {picture.path} ({picture.plane}{marked}; "
                  "steppe show --open to view it)\n")
    return 0


def _cmd_batch(argv: Sequence[str], debug: bool, out: TextIO, err: TextIO) -> int:
    from pipeline_core.cli.batch import run_batch_command

    parser = build_parser(with_batch=True)
    args = parser.parse_args(list(argv))
    status = run_batch_command(args, stdout=out)
    return int(status or 0)


def _warning_printer(err: TextIO):
    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001
        err.write(f"steppe: warning: {message}\n")

    return show


def run_cli(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None,
            stderr: TextIO | None = None) -> int:
    """Run the ``steppe`` command and return its exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (without the program name); default ``sys.argv[1:]``.
    stdout, stderr : text stream, optional
        Where to write; default the process streams.

    Returns
    -------
    int
        0 on success, 1 on an error, 2 on a usage error, 130 when interrupted.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    debug = "--debug" in argv
    from pipeline_core.plugins.manager import PluginWarning

    with warnings.catch_warnings():
        warnings.simplefilter("always", PluginWarning)
        warnings.showwarning = _warning_printer(err)
        try:
            return _dispatch(argv, debug, out, err)
        except _UsageError as exc:
            err.write(f"{exc}\n")
            return 2
        except SystemExit as exc:  # --help
            return exc.code if isinstance(exc.code, int) else 0
        except KeyboardInterrupt:
            err.write("steppe: interrupted\n")
            return 130
        except Exception as exc:  # noqa: BLE001 - one line for any failure, traceback on --debug
            return _report(exc, debug, err)


def _report(exc: BaseException, debug: bool, err: TextIO) -> int:
    if debug:
        traceback.print_exception(exc, file=err)
    text = " ".join((str(exc) or type(exc).__name__).split("\n"))
    if not isinstance(exc, SteppeError):
        text = f"{type(exc).__name__}: {text}"
        if not debug:
            text += " (run again with --debug for the traceback)"
    err.write(f"steppe: error: {text}\n")
    return 1


def _dispatch(argv: list[str], debug: bool, out: TextIO, err: TextIO) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    args.debug = debug
    if args.version:
        from pipeline_core._version import steppe_version

        out.write(f"steppe {steppe_version()}\n")
        return 0
    if args.command is None:
        parser.print_help(out)
        return 2
    if args.command == "batch":
        return _cmd_batch(argv, debug, out, err)
    if args.command == "run":
        return _cmd_run(args, extra, out, err)
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "list":
        return _cmd_list(args, out, err)
    if args.command == "config":
        return _cmd_config(args, out, err)
    if args.command == "show":
        from pipeline_core.cli.show import run_show

        return run_show(args, out, err)
    if args.command == "info":
        from pipeline_core.cli.info import run_info

        return run_info(args, out, err)
    return _cmd_demo(args, out, err)


def main() -> None:
    """Console entry point of ``steppe``: run the command and exit with its status."""
    sys.exit(run_cli())
