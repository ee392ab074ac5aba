"""Build the embedded offline reference set as a local CRDS cache.

:func:`ensure_embedded_cache` writes, once, a folder that the real ``crds``
client reads like any CRDS cache (``CRDS_PATH``)::

    <cache>/config/jwst/server_config         the cache's default context, no server
    <cache>/config/jwst/ref_cache_subdir_mode "flat"
    <cache>/mappings/jwst/jwst_0001.pmap      selects by instrument
    <cache>/mappings/jwst/jwst_<instr>_0001.imap           by reference type
    <cache>/mappings/jwst/jwst_<instr>_<type>_0001.rmap    by detector, subarray
                                                           (or readout pattern) and date
    <cache>/references/jwst/jwst_<instr>_<type>_<NNNN>.fits|.asdf
    <cache>/steppe-embedded-set.json          written last: the set is complete

The set is built in a temporary folder beside the destination and renamed into
place, so a reader never sees half a cache, and two processes that race both
end up using one complete copy.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from pipeline_core.errors import ReferenceFileError

from builtin_steps.refdata import layout
from builtin_steps.refdata.detector import DetectorTruth
from builtin_steps.refdata.imaging import INSTRUMENTS as IMAGING_INSTRUMENTS
from builtin_steps.refdata.imaging import NOT_APPLICABLE as IMAGING_NOT_APPLICABLE
from builtin_steps.refdata.imaging import imaging_rules
from builtin_steps.refdata.mappings import (
    instrument_mapping,
    pipeline_mapping,
    reference_mapping,
)
from builtin_steps.refdata.parsfiles import write_pars_file
from builtin_steps.refdata.reffiles import write_reference_file
from builtin_steps.refdata.shared import write_shared_file

__all__ = [
    "CACHE_DIR_ENV",
    "SET_REVISION",
    "MANIFEST_NAME",
    "default_cache_path",
    "is_complete",
    "build_cache",
    "ensure_embedded_cache",
]

log = logging.getLogger("steppe.refdata")

#: Environment variable naming the folder where steppe keeps its caches.
CACHE_DIR_ENV = "STEPPE_CACHE_DIR"

#: Revision of the embedded set's content; a new revision is built into a new folder.
#: 4: MIRI imager and NIRSpec (traditional and IRS2) files, every Detector1 type listed;
#: 5: with the imaging (Image2) references;
#: 6: with the source-catalog references (apcorr, abvegaoffset).
SET_REVISION = 6

#: File written last into a complete cache.
MANIFEST_NAME = "steppe-embedded-set.json"

_PARS_KEYS = ("META.INSTRUMENT.DETECTOR", "META.EXPOSURE.READPATT")


def _steppe_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("steppe")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def default_cache_path() -> str:
    """Return where the embedded set lives when no folder is given.

    Returns
    -------
    str
        ``$STEPPE_CACHE_DIR/crds-<steppe version>-r<revision>`` when
        ``STEPPE_CACHE_DIR`` is set, else the same under ``~/.cache/steppe``.
    """
    root = os.environ.get(CACHE_DIR_ENV) or os.path.join(
        os.path.expanduser("~"), ".cache", "steppe"
    )
    return os.path.join(root, f"crds-{_steppe_version()}-r{SET_REVISION}")


def is_complete(path: str | os.PathLike[str]) -> bool:
    """Tell whether ``path`` holds a complete embedded set of the current revision.

    Parameters
    ----------
    path : str or path-like
        The cache folder.

    Returns
    -------
    bool
    """
    manifest = Path(path) / MANIFEST_NAME
    try:
        content = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return False
    return content.get("revision") == SET_REVISION and (
        Path(path) / "config" / "jwst" / "server_config"
    ).is_file()


class _Builder:
    """Writes the files of the set into one folder and collects the rules."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.refs = root / "references" / "jwst"
        self.maps = root / "mappings" / "jwst"
        self.counters: dict[tuple[str, str], int] = defaultdict(int)
        self.files: list[str] = []

    def next_name(self, instrument: str, reftype: str, ext: str) -> str:
        key = (instrument, reftype)
        self.counters[key] += 1
        return f"jwst_{instrument.lower()}_{reftype}_{self.counters[key]:04d}.{ext}"

    def new_reference(self, instrument: str, reftype: str, ext: str) -> Path:
        name = self.next_name(instrument, reftype, ext)
        self.files.append(f"references/jwst/{name}")
        return self.refs / name

    def write_mapping(self, name: str, text: str) -> None:
        (self.maps / name).write_text(text)
        self.files.append(f"mappings/jwst/{name}")

    def calibration_rules(self, inst: layout.Instrument) -> dict[str, dict]:
        rules: dict[str, dict] = {reftype: {} for reftype in inst.calibration_reftypes}
        for detector in inst.detectors:
            written: dict[tuple[str, str], str] = {}  # (readout name, reftype) -> file
            for readout in inst.readouts(detector):
                truth = DetectorTruth(inst.name, detector, *readout.slices)
                key = _rule_key(inst, detector, readout)
                for reftype in inst.calibration_reftypes:
                    if reftype in readout.shares:
                        rules[reftype][key] = {layout.FIRST_USEAFTER: written[(readout.name, reftype)]}
                        continue
                    name = self.reference(inst, reftype, truth, readout)
                    if not readout.readpatts:
                        written[(readout.name, reftype)] = name
                    dates = {layout.FIRST_USEAFTER: name}
                    if (
                        reftype in layout.UPDATE_SCALE
                        and detector in inst.updated_detectors
                        and readout.name != "FULL"
                    ):
                        dates[layout.GAIN_UPDATE_USEAFTER] = self.reference(
                            inst,
                            reftype,
                            truth,
                            readout,
                            useafter=layout.GAIN_UPDATE_USEAFTER,
                            scale=layout.UPDATE_SCALE[reftype],
                        )
                    rules[reftype][key] = dates
        return rules

    def shared_rules(self, inst: layout.Instrument, single: layout.SingleFile) -> dict:
        ext = "asdf" if single.reftype in ("emicorr", "sirskernel") else "fits"
        name = self.next_name(inst.name, single.reftype, ext)
        detectors = sorted({d for key, used in single.rules if used for d in key[0].split("|")})
        write_shared_file(str(self.refs / name), single.reftype, inst.name, detectors, layout.FIRST_USEAFTER)
        self.files.append(f"references/jwst/{name}")
        return {key: {layout.FIRST_USEAFTER: name if used else "N/A"} for key, used in single.rules}

    def reference(
        self,
        inst: layout.Instrument,
        reftype: str,
        truth: DetectorTruth,
        readout: layout.Subarray,
        *,
        useafter: str = layout.FIRST_USEAFTER,
        scale: float = 1.0,
    ) -> str:
        name = self.next_name(inst.name, reftype, "fits")
        write_reference_file(str(self.refs / name), reftype, truth, readout, useafter, scale=scale)
        self.files.append(f"references/jwst/{name}")
        return name

    def pars_rules(self, inst: layout.Instrument, reftype: str) -> dict:
        class_path, step_name, pars_rules = inst.pars[reftype]
        detectors = "|".join(inst.known_detectors)
        rules: dict = {}
        for rule in pars_rules:
            key = (detectors, "|".join(rule.readpatts))
            if rule.parameters is None:
                rules[key] = "N/A"
                continue
            name = self.next_name(inst.name, reftype, "asdf")
            write_pars_file(
                str(self.refs / name),
                reftype=reftype,
                class_path=class_path,
                name=step_name,
                instrument=inst.name,
                parameters=rule.parameters,
                steps=rule.steps,
                useafter=layout.FIRST_USEAFTER,
            )
            self.files.append(f"references/jwst/{name}")
            rules[key] = name
        return rules

    def build(self) -> None:
        for folder in (self.refs, self.maps, self.root / "config" / "jwst"):
            folder.mkdir(parents=True, exist_ok=True)
        imaps: dict[str, str] = {}
        for name in sorted(set(layout.INSTRUMENTS) | set(IMAGING_INSTRUMENTS)):
            inst = layout.INSTRUMENTS.get(name)
            selector: dict[str, str] = {reftype: "N/A" for reftype in IMAGING_NOT_APPLICABLE}
            rule_sets: dict[str, tuple[tuple[str, ...], dict]] = {}
            if inst is not None:
                selector.update({reftype: "N/A" for reftype in inst.not_applicable})
                for reftype, rules in self.calibration_rules(inst).items():
                    rule_sets[reftype] = (inst.match_keys, rules)
                for single in inst.singles:
                    rule_sets[single.reftype] = (single.match_keys, self.shared_rules(inst, single))
                for reftype in inst.pars:
                    rule_sets[reftype] = (_PARS_KEYS, self.pars_rules(inst, reftype))
            if name in IMAGING_INSTRUMENTS:
                rule_sets.update(imaging_rules(name, self.new_reference))
            for reftype, (keys, rules) in rule_sets.items():
                rmap = f"jwst_{name.lower()}_{reftype}_0001.rmap"
                self.write_mapping(rmap, reference_mapping(rmap, name, reftype, keys, rules))
                selector[reftype] = rmap
            imap = f"jwst_{name.lower()}_0001.imap"
            self.write_mapping(imap, instrument_mapping(imap, name, selector))
            imaps[name] = imap
        self.write_mapping(layout.CONTEXT_NAME, pipeline_mapping(layout.CONTEXT_NAME, imaps))
        self.write_config()

    def write_config(self) -> None:
        config = self.root / "config" / "jwst"
        server_config = {
            "observatory": "jwst",
            "operational_context": layout.CONTEXT_NAME,
            "latest_context": layout.CONTEXT_NAME,
            "edit_context": layout.CONTEXT_NAME,
            "bad_files_list": [],
            "last_synced": "embedded reference set (no server)",
            "force_remote_mode": False,
            "mappings": sorted(Path(f).name for f in self.files if f.startswith("mappings/")),
            "download_metadata": {},
        }
        (config / "server_config").write_text(repr(server_config) + "\n")
        (config / "ref_cache_subdir_mode").write_text("flat\n")
        manifest = {
            "revision": SET_REVISION,
            "steppe_version": _steppe_version(),
            "context": layout.CONTEXT_NAME,
            "files": sorted(self.files),
        }
        (self.root / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1) + "\n")


def _rule_key(inst: layout.Instrument, detector: str, readout: layout.Subarray) -> tuple[str, ...]:
    """The match values of a readout's files: by subarray, or by readout pattern and subarray."""
    if inst.match_keys == layout.READPATT_KEYS:
        return (detector, readout.readpatt_key, readout.name)
    return (detector, readout.name)


def build_cache(path: str | os.PathLike[str]) -> str:
    """Write the embedded set into an empty or new folder (no atomicity; see ensure).

    Parameters
    ----------
    path : str or path-like
        Destination folder; created if missing.

    Returns
    -------
    str
        The folder.
    """
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    _Builder(root).build()
    return str(root)


def ensure_embedded_cache(path: str | os.PathLike[str] | None = None) -> str:
    """Return a folder holding the embedded reference set, building it if needed.

    The first call builds the set (a few seconds) in a temporary folder beside
    ``path`` and renames it into place; later calls only check that it is there.
    When several processes build at once, one rename wins and the others use
    its result.

    Parameters
    ----------
    path : str or path-like, optional
        Where the cache should be. Default: :func:`default_cache_path`
        (``$STEPPE_CACHE_DIR`` or ``~/.cache/steppe``). An existing empty folder
        is filled.

    Returns
    -------
    str
        The cache folder, usable as ``CRDS_PATH``.

    Raises
    ------
    ReferenceFileError
        When ``path`` exists, is not empty and is not a complete embedded set, or
        cannot be written.

    Examples
    --------
    >>> import os
    >>> from builtin_steps.refdata.cache import ensure_embedded_cache
    >>> cache = ensure_embedded_cache()  # doctest: +SKIP
    >>> os.environ["CRDS_PATH"] = cache  # doctest: +SKIP
    """
    target = Path(path if path is not None else default_cache_path()).expanduser().absolute()
    if is_complete(target):
        return str(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ReferenceFileError(
            f"cannot build the embedded reference set in '{target}': the folder exists, is not "
            "empty and is not a complete embedded set. Remove it, or choose another folder "
            f"(set {CACHE_DIR_ENV} or pass a path)."
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.build-", dir=target.parent))
    except OSError as error:
        raise ReferenceFileError(
            f"cannot build the embedded reference set in '{target}': {error}. Choose a writable "
            f"folder (set {CACHE_DIR_ENV} or pass a path)."
        ) from error
    started = time.perf_counter()
    try:
        build_cache(scratch)
        os.chmod(scratch, 0o755)
        try:
            os.rename(scratch, target)
        except OSError:
            if not is_complete(target):
                raise
            log.debug("another process built %s first; using it", target)
        else:
            log.info(
                "built the embedded reference set in %s (%.1f s)",
                target,
                time.perf_counter() - started,
            )
    except OSError as error:
        raise ReferenceFileError(
            f"cannot build the embedded reference set in '{target}': {error}. Choose a writable "
            f"folder (set {CACHE_DIR_ENV} or pass a path)."
        ) from error
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
    return str(target)
