"""EmiCorrStep: remove MIRI electromagnetic interference (EMI) from ramps."""

from __future__ import annotations

import datetime
import os
from typing import Any

from builtin_steps._common import mark_skipped, open_ramp
from builtin_steps.emicorr.cases import (
    EmiCase,
    case_from_reference,
    case_on_the_fly,
    on_the_fly_reference_tree,
    readout_speed,
)
from builtin_steps.emicorr.clocks import ReadoutClock
from builtin_steps.emicorr.joint import correct_joint
from builtin_steps.emicorr.sequential import correct_sequential
from pipeline_core import Step
from pipeline_core.errors import ParameterError, ReferenceFileError, StepError

__all__ = ["EmiCorrStep"]

#: Read patterns the correction knows the timing of.
ALLOWED_READPATTS = ("FAST", "FASTR1", "SLOW", "SLOWR1")
#: Read patterns with a reset frame between integrations.
_RESET_FRAME_READPATTS = ("FASTR1", "SLOWR1")
#: Below this many groups the sequential algorithm is unreliable.
_SEQUENTIAL_MIN_GROUPS = 10
#: Quad column of the right-hand reference pixels of a full-frame row.
_LAST_REFERENCE_QUAD_COLUMN = 258
_REFERENCE_PIXEL_DELAY = 3


class EmiCorrStep(Step):
    """Fit and subtract the EMI sinusoids of MIRI ramps, one frequency after another.

    Skipped by default (``skip = True``), as in JWST.
    """

    class_alias = "emicorr"
    legacy_class_paths = ("jwst.emicorr.emicorr_step.EmiCorrStep",)
    reference_file_types = ("emicorr",)
    spec = """
        algorithm = option('sequential', 'joint', default='joint')  # EMI fitting algorithm
        nints_to_phase = integer(default=None)  # Number of integrations to phase
        nbins = integer(default=None)  # Number of bins in one phased wave
        scale_reference = boolean(default=True)  # If True, the reference wavelength will be scaled to the data's phase amplitude
        onthefly_corr_freq = float_list(default=None)  # Frequencies to use for correction
        use_n_cycles = integer(default=3)  # Use N cycles to calculate the phase, to use all integrations set to None
        fit_ints_separately = boolean(default=False)  # If True and algorithm is 'joint', each integration is separately fit.
        user_supplied_reffile = string(default=None)  # Deprecated; use 'override_emicorr' instead
        save_intermediate_results = boolean(default=False)  # If True and a reference file is created on the fly, save it to disk
        skip = boolean(default=True)  # Skip the step
    """  # noqa: E501

    def process(self, step_input: Any) -> Any:
        """Correct the ramp in place.

        Parameters
        ----------
        step_input : str, os.PathLike or RampModel
            The ramp.

        Returns
        -------
        RampModel
            The corrected ramp, or the unchanged ramp (``meta.cal_step.emicorr =
            "SKIPPED"``) for non-MIRI data, other read patterns, an N/A
            reference, fewer than 3 groups, or a configuration the reference
            does not list.
        """
        model = open_ramp(self, step_input)
        instrument = model.meta.instrument.name
        if str(instrument or "").upper() != "MIRI":
            return self._skip(model, f"EMI correction not implemented for instrument: {instrument}")
        readpatt = str(model.meta.exposure.readpatt or "").upper()
        if readpatt not in ALLOWED_READPATTS:
            return self._skip(
                model, f"EMI correction not implemented for read pattern: {model.meta.exposure.readpatt}"
            )
        self._check_parameters()
        ref = self._open_reference(model)
        if ref is False:
            return self._skip(model, "No EMICORR reference file applies")
        nints, ngroups, ny, nx = model.data.shape
        if ngroups < 3:
            return self._skip(model, f"EMI correction cannot be performed for ngroups={ngroups}")
        if nx % 4 or nx < 16:
            raise StepError(
                f"step {self.name}: the data have {nx} columns; the EMI correction needs a multiple "
                "of 4 (the MIRI outputs) and at least 16. Check that these are MIRI ramps."
            )
        algorithm = self.algorithm
        if ngroups < _SEQUENTIAL_MIN_GROUPS and algorithm == "sequential":
            self.log.warning(
                "The 'sequential' algorithm is selected and ngroups=%d; the 'joint' algorithm is "
                "recommended for ngroups < %d.", ngroups, _SEQUENTIAL_MIN_GROUPS,
            )
        if algorithm == "joint" and ref is None:
            self.log.warning(
                "The 'joint' algorithm cannot be used without an EMICORR reference file; using "
                "the 'sequential' algorithm."
            )
            algorithm = "sequential"
        case = self._case(model, ref, readpatt)
        if case is None:
            return self._skip(
                model,
                "No EMI correction match for this configuration (SUBARRAY="
                f"{model.meta.subarray.name}, READPATT={readpatt}, "
                f"DETECTOR={model.meta.instrument.detector})",
            )
        clock = self._clock(model, case, readpatt)
        self.log.info(
            "Correcting %d frequencies (%s) with the '%s' algorithm", len(case.frequencies),
            ", ".join(f.name for f in case.frequencies), algorithm,
        )
        if algorithm == "joint":
            self._run_joint(model, case, clock, ref)
        else:
            measured = correct_sequential(
                model.data, case, clock,
                nints_to_phase=self.nints_to_phase, use_n_cycles=self.use_n_cycles,
                nbins=self.nbins, scale_reference=self.scale_reference,
                last_column_delay=self._last_column_delay(model), log=self.log.info,
            )
            if self.save_intermediate_results and ref is None:
                self._save_on_the_fly(model, case, measured, readpatt)
        return model

    # ------------------------------------------------------------------ helpers
    def _skip(self, model: Any, reason: str) -> Any:
        self.log.warning("%s; step %s skipped", reason, self.name)
        mark_skipped(self, model)
        return model

    def _check_parameters(self) -> None:
        checks = (
            ("nints_to_phase", self.nints_to_phase, "an integer >= 1 or None"),
            ("nbins", self.nbins, "an integer >= 1 or None"),
            ("use_n_cycles", self.use_n_cycles, "an integer >= 1 or None"),
        )
        for name, value, accepted in checks:
            if value is not None and value < 1:
                raise ParameterError(f"step {self.name}: {name}={value!r} is invalid; give {accepted}")
        freqs = self.onthefly_corr_freq
        if freqs is not None and (len(freqs) == 0 or any(not f > 0 for f in freqs)):
            raise ParameterError(
                f"step {self.name}: onthefly_corr_freq={list(freqs)!r} is invalid; give a list of "
                "frequencies in Hz, all > 0 (e.g. [218.52055, 164.9305]), or None"
            )

    def _open_reference(self, model: Any) -> Any:
        """The EMICORR reference model; None for on-the-fly frequencies; False when N/A."""
        from pipeline_core.datamodels import EmiModel, open_model
        from pipeline_core.references import check_reference_type

        if self.onthefly_corr_freq is not None:
            self.log.info("Correcting with a reference built on the fly from the data.")
            return None
        if self.user_supplied_reffile is not None:
            self.log.warning(
                "The 'user_supplied_reffile' parameter is deprecated and will be removed in a "
                "future release. Use 'override_emicorr' instead."
            )
            path: Any = self.user_supplied_reffile
            if not os.path.isfile(path):
                raise ReferenceFileError(
                    f"step {self.name}: user_supplied_reffile='{path}' does not exist; give the "
                    "path of an EMICORR reference file (ASDF), preferably as override_emicorr"
                )
        else:
            path = self.get_reference_file(model, "emicorr")
        if isinstance(path, str) and path == "N/A":
            return False
        ref = open_model(path, model_class=EmiModel) if isinstance(path, (str, os.PathLike)) else path
        check_reference_type(self, ref, "emicorr")
        name = ref.meta.filename or "<in memory>"
        if not isinstance(getattr(ref, "frequencies", None), dict) or not isinstance(
            getattr(ref, "subarray_cases", None), dict
        ):
            raise ReferenceFileError(
                f"step {self.name}: the EMICORR reference '{name}' has no 'frequencies' and "
                "'subarray_cases' nodes; give an EMICORR reference file in ASDF (override_emicorr)"
            )
        self.log.info("Using EMICORR reference file %s", name)
        return ref

    def _case(self, model: Any, ref: Any, readpatt: str) -> EmiCase | None:
        subarray = str(model.meta.subarray.name or "")
        if ref is None:
            return case_on_the_fly(subarray, readpatt, self.onthefly_corr_freq)
        try:
            return case_from_reference(
                ref.frequencies, ref.subarray_cases, subarray=subarray, readpatt=readpatt,
                detector=str(model.meta.instrument.detector or ""),
            )
        except KeyError as error:
            raise ReferenceFileError(
                f"step {self.name}: the EMICORR reference '{ref.meta.filename or '<in memory>'}' "
                f"is inconsistent: {error.args[0]}; fix or replace the file (override_emicorr)"
            ) from error

    def _clock(self, model: Any, case: EmiCase, readpatt: str) -> ReadoutClock:
        nsamples = model.meta.exposure.nsamples
        if nsamples is None:
            nsamples = 9 if readout_speed(readpatt) == "SLOW" else 1
            self.log.info("NSAMPLES not set; using %d for read pattern %s", nsamples, readpatt)
        reset = case.frameclocks if readpatt in _RESET_FRAME_READPATTS else 0
        return ReadoutClock(model.data.shape[2], int(nsamples), case.rowclocks, reset)

    def _last_column_delay(self, model: Any) -> float:
        nx = model.data.shape[-1]
        sub = model.meta.subarray
        xsize, xstart = sub.xsize or nx, sub.xstart or 1
        colstop = int(xsize / 4 + xstart - 1)
        return float(_REFERENCE_PIXEL_DELAY) if colstop == _LAST_REFERENCE_QUAD_COLUMN else 0.0

    def _run_joint(self, model: Any, case: EmiCase, clock: ReadoutClock, ref: Any) -> None:
        for freq in case.frequencies:
            if freq.waveform is None or freq.waveform.size < 4:
                raise ReferenceFileError(
                    f"step {self.name}: the EMICORR reference '{ref.meta.filename or '<in memory>'}' "
                    f"has no waveform (phase_amplitudes, 4 samples or more) for {freq.name}"
                )
            amplitudes, _ = correct_joint(
                model.data, model.pixeldq, freq.waveform, freq.frequency, clock,
                fit_ints_separately=self.fit_ints_separately,
            )
            self.log.info(
                "%s (%g Hz): fitted amplitude %s x the reference waveform", freq.name, freq.frequency,
                f"{amplitudes[0]:.4g}"
                if not self.fit_ints_separately
                else ", ".join(f"{a:.4g}" for a in amplitudes),
            )

    def _save_on_the_fly(self, model: Any, case: EmiCase, measured: dict, readpatt: str) -> str:
        from pipeline_core.datamodels import EmiModel

        tree = on_the_fly_reference_tree(
            case, measured, subarray=str(model.meta.subarray.name or ""), readpatt=readpatt,
            detector=str(model.meta.instrument.detector or ""),
        )
        ref = EmiModel(**tree)
        meta = ref.meta
        meta.author = "steppe emicorr"
        meta.description = "EMI correction waveforms measured from the data"
        meta.pedigree = "GROUND"
        meta.useafter = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        meta.instrument.name = "MIRI"
        path = os.path.splitext(self.output_path(model, suffix="emi_ref_waves"))[0] + ".asdf"
        ref.save(path)
        self.log.info("Saved the EMI waveforms measured from the data to %s", path)
        return path
