"""Step parameters given on the command line as ``--name=value`` tokens."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipeline_core.errors import ParameterError

__all__ = ["parse_step_arguments"]


def parse_step_arguments(tokens: Sequence[str]) -> dict[str, Any]:
    """Turn ``--name=value`` tokens into step parameters.

    ``--steps.jump.rejection_threshold=12`` becomes
    ``{"steps": {"jump": {"rejection_threshold": "12"}}}``. Values stay strings;
    the step's spec converts and validates them. Dashes in names become
    underscores (``--output-file`` is ``output_file``).

    Parameters
    ----------
    tokens : sequence of str
        The arguments the command parser did not recognise.

    Returns
    -------
    dict
        Parameters, nested under ``"steps"`` for pipeline steps.

    Raises
    ------
    ParameterError
        When a token is not of the form ``--name=value``, or a name is given twice.

    Examples
    --------
    >>> parse_step_arguments(["--steps.jump.rejection_threshold=12", "--skip=true"])
    {'steps': {'jump': {'rejection_threshold': '12'}}, 'skip': 'true'}
    """
    params: dict[str, Any] = {}
    for token in tokens:
        name, sep, value = token.partition("=")
        if not token.startswith("--") or not sep or len(name) <= 2:
            raise ParameterError(
                f"command-line argument {token!r} is not understood: give step parameters as "
                "--name=value (for a pipeline's step: --steps.STEP.name=value)"
            )
        path = name[2:].replace("-", "_").split(".")
        if any(not part.isidentifier() for part in path):
            raise ParameterError(
                f"parameter name {name[2:]!r} in {token!r} is not valid: use letters, digits and "
                "underscores, with dots between a pipeline's step and its parameter"
            )
        node = params
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ParameterError(f"parameter {part!r} is given both as a value and as a group in {token!r}")
            node = child
        if path[-1] in node:
            raise ParameterError(
                f"parameter {name[2:]!r} is given more than once on the command line; give it once"
            )
        node[path[-1]] = value
    return params
