"""The spellings of true and false that parameters and environment variables accept.

One definition serves boolean parameters (``skip = yes``), ``STEPPE_ALLOW_IMPORT``
and ``STPIPE_DISABLE_CRDS_STEPPARS``: ``1``, ``true``, ``yes``, ``on``, ``t``, ``y``
and ``0``, ``false``, ``no``, ``off``, ``f``, ``n``, in any case, blanks ignored.
"""

from __future__ import annotations

__all__ = ["TRUE_WORDS", "FALSE_WORDS", "parse_truth"]

#: Words read as true.
TRUE_WORDS = frozenset({"1", "true", "yes", "on", "t", "y"})
#: Words read as false.
FALSE_WORDS = frozenset({"0", "false", "no", "off", "f", "n"})


def parse_truth(text: str) -> bool | None:
    """Read a word as true or false.

    Parameters
    ----------
    text : str
        The word; case and surrounding blanks do not matter.

    Returns
    -------
    bool or None
        True or False, or None when the word is neither.

    Examples
    --------
    >>> parse_truth(" Yes"), parse_truth("off"), parse_truth("maybe")
    (True, False, None)
    """
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None
