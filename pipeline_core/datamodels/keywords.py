"""The mapping between FITS header keywords and paths of the metadata tree.

JWST files carry their metadata twice: as header keywords (``INSTRUME``,
``NGROUPS``, ``S_JUMP``, ...) and as the ``meta`` tree of the embedded ASDF
extension. This table follows the JWST data-model schemas: each row is
``(keyword, path below meta, type, HDU)``, where type is ``s`` (string), ``i``
(integer), ``f`` (float) or ``b`` (boolean) and HDU is the extension whose header
holds the keyword (almost always the primary header).

Reading a file without an ASDF extension (reference files, archive products from
other tools) fills the tree from these keywords; writing a file puts every mapped
value of the tree into its header.

Why one module of this size: it is one table (one row a keyword), read by both
the FITS reader and writer; splitting it would split the mapping.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

__all__ = ["Keyword", "KEYWORDS", "keywords", "keywords_by_path", "group_paths"]


@dataclass(frozen=True)
class Keyword:
    """One FITS keyword and the metadata path it maps to.

    Parameters
    ----------
    name : str
        The FITS keyword (``"NGROUPS"``).
    path : tuple of str
        The path below ``meta`` (``("exposure", "ngroups")``).
    type : str
        ``"s"`` string, ``"i"`` integer, ``"f"`` float or ``"b"`` boolean.
    hdu : str
        Name of the HDU whose header holds the keyword (``"PRIMARY"``, ``"SCI"``...).
    """

    name: str
    path: tuple[str, ...]
    type: str
    hdu: str


#: ``(keyword, path below meta, type, hdu)`` rows, in the order they are written.
KEYWORDS: tuple[tuple[str, str, str, str], ...] = (
    ('DATE', 'date', 's', 'PRIMARY'),
    ('ORIGIN', 'origin', 's', 'PRIMARY'),
    ('TIMESYS', 'time_sys', 's', 'PRIMARY'),
    ('TIMEUNIT', 'time_unit', 's', 'PRIMARY'),
    ('FILENAME', 'filename', 's', 'PRIMARY'),
    ('SDP_VER', 'data_processing_software_version', 's', 'PRIMARY'),
    ('PRD_VER', 'prd_software_version', 's', 'PRIMARY'),
    ('OSS_VER', 'oss_software_version', 's', 'PRIMARY'),
    ('GSC_VER', 'guide_star_catalog_version', 's', 'PRIMARY'),
    ('CAL_VER', 'calibration_software_version', 's', 'PRIMARY'),
    ('CAL_VCS', 'calibration_software_revision', 's', 'PRIMARY'),
    ('DATAMODL', 'model_type', 's', 'PRIMARY'),
    ('TELESCOP', 'telescope', 's', 'PRIMARY'),
    ('TITLE', 'program.title', 's', 'PRIMARY'),
    ('PI_NAME', 'program.pi_name', 's', 'PRIMARY'),
    ('CATEGORY', 'program.category', 's', 'PRIMARY'),
    ('SUBCAT', 'program.sub_category', 's', 'PRIMARY'),
    ('SCICAT', 'program.science_category', 's', 'PRIMARY'),
    ('CONT_ID', 'program.continuation_id', 'i', 'PRIMARY'),
    ('DATE-OBS', 'observation.date', 's', 'PRIMARY'),
    ('TIME-OBS', 'observation.time', 's', 'PRIMARY'),
    ('DATE-BEG', 'observation.date_beg', 's', 'PRIMARY'),
    ('DATE-END', 'observation.date_end', 's', 'PRIMARY'),
    ('OBS_ID', 'observation.obs_id', 's', 'PRIMARY'),
    ('VISIT_ID', 'observation.visit_id', 's', 'PRIMARY'),
    ('PROGRAM', 'observation.program_number', 's', 'PRIMARY'),
    ('OBSERVTN', 'observation.observation_number', 's', 'PRIMARY'),
    ('VISIT', 'observation.visit_number', 's', 'PRIMARY'),
    ('VISITGRP', 'observation.visit_group', 's', 'PRIMARY'),
    ('SEQ_ID', 'observation.sequence_id', 's', 'PRIMARY'),
    ('ACT_ID', 'observation.activity_id', 's', 'PRIMARY'),
    ('EXPOSURE', 'observation.exposure_number', 's', 'PRIMARY'),
    ('BKGDTARG', 'observation.bkgdtarg', 'b', 'PRIMARY'),
    ('TEMPLATE', 'observation.template', 's', 'PRIMARY'),
    ('OBSLABEL', 'observation.observation_label', 's', 'PRIMARY'),
    ('OBSFOLDR', 'observation.observation_folder', 's', 'PRIMARY'),
    ('ENG_QUAL', 'visit.engineering_quality', 's', 'PRIMARY'),
    ('ENGQLPTG', 'visit.engdb_pointing_quality', 's', 'PRIMARY'),
    ('VISITYPE', 'visit.type', 's', 'PRIMARY'),
    ('VSTSTART', 'visit.start_time', 's', 'PRIMARY'),
    ('VISITSTA', 'visit.status', 's', 'PRIMARY'),
    ('NEXPOSUR', 'visit.total_exposures', 'i', 'PRIMARY'),
    ('INTARGET', 'visit.internal_target', 'b', 'PRIMARY'),
    ('TARGOOPP', 'visit.too_visit', 'b', 'PRIMARY'),
    ('TSOVISIT', 'visit.tsovisit', 'b', 'PRIMARY'),
    ('EXP_ONLY', 'visit.exp_only', 'b', 'PRIMARY'),
    ('CROWDFLD', 'visit.crowded_field', 'b', 'PRIMARY'),
    ('TARGPROP', 'target.proposer_name', 's', 'PRIMARY'),
    ('TARGNAME', 'target.catalog_name', 's', 'PRIMARY'),
    ('TARGTYPE', 'target.type', 's', 'PRIMARY'),
    ('TARGCAT', 'target.category', 's', 'PRIMARY'),
    ('TARGDESC', 'target.description', 's', 'PRIMARY'),
    ('TARG_RA', 'target.ra', 'f', 'PRIMARY'),
    ('TARG_DEC', 'target.dec', 'f', 'PRIMARY'),
    ('TARGURA', 'target.ra_uncertainty', 'f', 'PRIMARY'),
    ('TARGUDEC', 'target.dec_uncertainty', 'f', 'PRIMARY'),
    ('MU_RA', 'target.proper_motion_ra', 'f', 'PRIMARY'),
    ('MU_DEC', 'target.proper_motion_dec', 'f', 'PRIMARY'),
    ('MU_EPOCH', 'target.proper_motion_epoch', 's', 'PRIMARY'),
    ('PROP_RA', 'target.proposer_ra', 'f', 'PRIMARY'),
    ('PROP_DEC', 'target.proposer_dec', 'f', 'PRIMARY'),
    ('SRCTYAPT', 'target.source_type_apt', 's', 'PRIMARY'),
    ('SRCTYPE', 'target.source_type', 's', 'SCI'),
    ('INSTRUME', 'instrument.name', 's', 'PRIMARY'),
    ('DETECTOR', 'instrument.detector', 's', 'PRIMARY'),
    ('MODULE', 'instrument.module', 's', 'PRIMARY'),
    ('CHANNEL', 'instrument.channel', 's', 'PRIMARY'),
    ('FILTER', 'instrument.filter', 's', 'PRIMARY'),
    ('FWPOSOFF', 'instrument.filter_wheel_offset', 'f', 'PRIMARY'),
    ('FWPOSTOL', 'instrument.filter_wheel_tolerance', 's', 'PRIMARY'),
    ('PUPIL', 'instrument.pupil', 's', 'PRIMARY'),
    ('PILIN', 'instrument.pupil_imaging_lens', 'b', 'PRIMARY'),
    ('PWPOSOFF', 'instrument.pupil_wheel_offset', 'f', 'PRIMARY'),
    ('PWPOSTOL', 'instrument.pupil_wheel_tolerance', 's', 'PRIMARY'),
    ('GRATING', 'instrument.grating', 's', 'PRIMARY'),
    ('BAND', 'instrument.band', 's', 'PRIMARY'),
    ('FXD_SLIT', 'instrument.fixed_slit', 's', 'PRIMARY'),
    ('FOCUSPOS', 'instrument.focus_position', 'f', 'PRIMARY'),
    ('PREIMAGE', 'instrument.pre_image_id', 's', 'PRIMARY'),
    ('FPE_SIDE', 'instrument.miri_fpe_side', 's', 'PRIMARY'),
    ('ICE_SIDE', 'instrument.miri_ice_side', 's', 'PRIMARY'),
    ('CCCSTATE', 'instrument.ccc_state', 's', 'PRIMARY'),
    ('CORONMSK', 'instrument.coronagraph', 's', 'PRIMARY'),
    ('MSASTATE', 'instrument.msa_state', 's', 'PRIMARY'),
    ('MSAMETFL', 'instrument.msa_metadata_file', 's', 'PRIMARY'),
    ('MSAMETID', 'instrument.msa_metadata_id', 'i', 'PRIMARY'),
    ('MSACONID', 'instrument.msa_configuration_id', 'i', 'PRIMARY'),
    ('LAMP', 'instrument.lamp_state', 's', 'PRIMARY'),
    ('OPMODE', 'instrument.lamp_mode', 's', 'PRIMARY'),
    ('GWA_XTIL', 'instrument.gwa_xtilt', 'f', 'PRIMARY'),
    ('GWA_YTIL', 'instrument.gwa_ytilt', 'f', 'PRIMARY'),
    ('GWA_XP_V', 'instrument.gwa_xp_v', 'f', 'PRIMARY'),
    ('GWA_YP_V', 'instrument.gwa_yp_v', 'f', 'PRIMARY'),
    ('GWA_PXAV', 'instrument.gwa_pxav', 'f', 'PRIMARY'),
    ('GWA_PYAV', 'instrument.gwa_pyav', 'f', 'PRIMARY'),
    ('GWA_TILT', 'instrument.gwa_tilt', 'f', 'PRIMARY'),
    ('FWCPOS', 'instrument.filter_position', 'f', 'PRIMARY'),
    ('PWCPOS', 'instrument.pupil_position', 'f', 'PRIMARY'),
    ('EXPCOUNT', 'exposure.count', 'i', 'PRIMARY'),
    ('EXPRIPAR', 'exposure.prime_parallel', 's', 'PRIMARY'),
    ('EXP_TYPE', 'exposure.type', 's', 'PRIMARY'),
    ('EXPSTART', 'exposure.start_time', 'f', 'PRIMARY'),
    ('MJD-BEG', 'exposure.start_time_mjd', 'f', 'SCI'),
    ('EXPMID', 'exposure.mid_time', 'f', 'PRIMARY'),
    ('MJD-AVG', 'exposure.mid_time_mjd', 'f', 'SCI'),
    ('EXPEND', 'exposure.end_time', 'f', 'PRIMARY'),
    ('MJD-END', 'exposure.end_time_mjd', 'f', 'SCI'),
    ('TDB-BEG', 'exposure.start_time_tdb', 'f', 'SCI'),
    ('TDB-MID', 'exposure.mid_time_tdb', 'f', 'SCI'),
    ('TDB-END', 'exposure.end_time_tdb', 'f', 'SCI'),
    ('EXPSTENG', 'exposure.start_time_eng', 's', 'PRIMARY'),
    ('OSF_FILE', 'exposure.osf_file', 's', 'PRIMARY'),
    ('READPATT', 'exposure.readpatt', 's', 'PRIMARY'),
    ('HYBRIDFF', 'exposure.hybrid_full_frame', 'b', 'PRIMARY'),
    ('EXSEGNUM', 'exposure.segment_number', 'i', 'PRIMARY'),
    ('EXSEGTOT', 'exposure.segment_total', 'i', 'PRIMARY'),
    ('NOUTPUTS', 'exposure.noutputs', 'i', 'PRIMARY'),
    ('NINTS', 'exposure.nints', 'i', 'PRIMARY'),
    ('INTSTART', 'exposure.integration_start', 'i', 'PRIMARY'),
    ('INTEND', 'exposure.integration_end', 'i', 'PRIMARY'),
    ('NGROUPS', 'exposure.ngroups', 'i', 'PRIMARY'),
    ('NFRAMES', 'exposure.nframes', 'i', 'PRIMARY'),
    ('MIRNGRPS', 'exposure.miri_fsw_ngroups', 'i', 'PRIMARY'),
    ('MIRNFRMS', 'exposure.miri_fsw_nframes', 'i', 'PRIMARY'),
    ('DETMODE', 'exposure.detmode', 's', 'PRIMARY'),
    ('CMD_TSEL', 'exposure.cmd_tsel', 's', 'PRIMARY'),
    ('FRMDIVSR', 'exposure.frame_divisor', 'i', 'PRIMARY'),
    ('GROUPGAP', 'exposure.groupgap', 'i', 'PRIMARY'),
    ('DRPFRMS1', 'exposure.drop_frames1', 'i', 'PRIMARY'),
    ('DRPFRMS3', 'exposure.drop_frames3', 'i', 'PRIMARY'),
    ('NSAMPLES', 'exposure.nsamples', 'i', 'PRIMARY'),
    ('TSAMPLE', 'exposure.sample_time', 'f', 'PRIMARY'),
    ('TFRAME', 'exposure.frame_time', 'f', 'PRIMARY'),
    ('TGROUP', 'exposure.group_time', 'f', 'PRIMARY'),
    ('EFFINTTM', 'exposure.integration_time', 'f', 'PRIMARY'),
    ('EFFEXPTM', 'exposure.exposure_time', 'f', 'PRIMARY'),
    ('XPOSURE', 'exposure.effective_exposure_time', 'f', 'SCI'),
    ('TMEASURE', 'exposure.measurement_time', 'f', 'PRIMARY'),
    ('DURATION', 'exposure.duration', 'f', 'PRIMARY'),
    ('TELAPSE', 'exposure.elapsed_exposure_time', 'f', 'SCI'),
    ('NRSTSTRT', 'exposure.nresets_at_start', 'i', 'PRIMARY'),
    ('NRESETS', 'exposure.nresets_between_ints', 'i', 'PRIMARY'),
    ('ZEROFRAM', 'exposure.zero_frame', 'b', 'PRIMARY'),
    ('DATAPROB', 'exposure.data_problem', 'b', 'PRIMARY'),
    ('SCA_NUM', 'exposure.sca_num', 'i', 'PRIMARY'),
    ('DATAMODE', 'exposure.datamode', 'i', 'PRIMARY'),
    ('NRS_NORM', 'exposure.nrs_normal', 'i', 'PRIMARY'),
    ('NRS_REF', 'exposure.nrs_reference', 'i', 'PRIMARY'),
    ('SCTARATE', 'exposure.clock_adjust_rate', 'f', 'PRIMARY'),
    ('GAINFACT', 'exposure.gain_factor', 'f', 'PRIMARY'),
    ('IS_IMPRT', 'exposure.imprint', 'b', 'PRIMARY'),
    ('IS_PSF', 'exposure.psf_reference', 'b', 'PRIMARY'),
    ('SELFREF', 'exposure.self_reference_survey', 'b', 'PRIMARY'),
    ('PRIMECRS', 'exposure.primary_cosmic_rays', 'f', 'PRIMARY'),
    ('EXTNCRS', 'exposure.extended_emission_events', 'f', 'PRIMARY'),
    ('SUBARRAY', 'subarray.name', 's', 'PRIMARY'),
    ('SUB_SHRT', 'subarray.subarray_short', 's', 'PRIMARY'),
    ('SUB_LONG', 'subarray.subarray_long', 's', 'PRIMARY'),
    ('SUBSTRT1', 'subarray.xstart', 'i', 'PRIMARY'),
    ('SUBSTRT2', 'subarray.ystart', 'i', 'PRIMARY'),
    ('SUBSIZE1', 'subarray.xsize', 'i', 'PRIMARY'),
    ('SUBSIZE2', 'subarray.ysize', 'i', 'PRIMARY'),
    ('FASTAXIS', 'subarray.fastaxis', 'i', 'PRIMARY'),
    ('SLOWAXIS', 'subarray.slowaxis', 'i', 'PRIMARY'),
    ('DETXCOR', 'subarray.detxcor', 'i', 'PRIMARY'),
    ('DETYCOR', 'subarray.detycor', 'i', 'PRIMARY'),
    ('DETXSIZ', 'subarray.detxsiz', 'i', 'PRIMARY'),
    ('DETYSIZ', 'subarray.detysiz', 'i', 'PRIMARY'),
    ('MSTR_RD1', 'subarray.multistripe_reads1', 'i', 'PRIMARY'),
    ('MSTR_SK1', 'subarray.multistripe_skips1', 'i', 'PRIMARY'),
    ('MSTR_RD2', 'subarray.multistripe_reads2', 'i', 'PRIMARY'),
    ('MSTR_SK2', 'subarray.multistripe_skips2', 'i', 'PRIMARY'),
    ('MSTR_RPT', 'subarray.repeat_stripe', 'i', 'PRIMARY'),
    ('MSTR_ILV', 'subarray.interleave_reads1', 'i', 'PRIMARY'),
    ('SSTR_STP', 'subarray.superstripe_step', 'i', 'PRIMARY'),
    ('SSTR_NST', 'subarray.num_superstripe', 'i', 'PRIMARY'),
    ('APERNAME', 'aperture.name', 's', 'PRIMARY'),
    ('PPS_APER', 'aperture.pps_name', 's', 'PRIMARY'),
    ('CRDS_VER', 'ref_file.crds.sw_version', 's', 'PRIMARY'),
    ('CRDS_CTX', 'ref_file.crds.context_used', 's', 'PRIMARY'),
    ('R_AREA', 'ref_file.area.name', 's', 'PRIMARY'),
    ('R_BKG', 'ref_file.bkg.name', 's', 'PRIMARY'),
    ('R_MSAOPE', 'ref_file.badshutter.name', 's', 'PRIMARY'),
    ('R_BARSHA', 'ref_file.barshadow.name', 's', 'PRIMARY'),
    ('R_CAMERA', 'ref_file.camera.name', 's', 'PRIMARY'),
    ('R_CHRCOR', 'ref_file.chromcorr.name', 's', 'PRIMARY'),
    ('R_COLLIM', 'ref_file.collimator.name', 's', 'PRIMARY'),
    ('R_SIRSKL', 'ref_file.sirskernel.name', 's', 'PRIMARY'),
    ('R_CUBPAR', 'ref_file.cubepar.name', 's', 'PRIMARY'),
    ('R_DARK', 'ref_file.dark.name', 's', 'PRIMARY'),
    ('R_DISPER', 'ref_file.disperser.name', 's', 'PRIMARY'),
    ('R_DISTOR', 'ref_file.distortion.name', 's', 'PRIMARY'),
    ('R_MIREMI', 'ref_file.emicorr.name', 's', 'PRIMARY'),
    ('R_EXTR1D', 'ref_file.extract1d.name', 's', 'PRIMARY'),
    ('R_FILOFF', 'ref_file.filteroffset.name', 's', 'PRIMARY'),
    ('R_FLAT', 'ref_file.flat.name', 's', 'PRIMARY'),
    ('R_DFLAT', 'ref_file.dflat.name', 's', 'PRIMARY'),
    ('R_FFLAT', 'ref_file.fflat.name', 's', 'PRIMARY'),
    ('R_SFLAT', 'ref_file.sflat.name', 's', 'PRIMARY'),
    ('R_FORE', 'ref_file.fore.name', 's', 'PRIMARY'),
    ('R_FPA', 'ref_file.fpa.name', 's', 'PRIMARY'),
    ('R_FRINGE', 'ref_file.fringe.name', 's', 'PRIMARY'),
    ('R_FRIFRQ', 'ref_file.fringefreq.name', 's', 'PRIMARY'),
    ('R_GAIN', 'ref_file.gain.name', 's', 'PRIMARY'),
    ('R_IFUFOR', 'ref_file.ifufore.name', 's', 'PRIMARY'),
    ('R_IFUPOS', 'ref_file.ifupost.name', 's', 'PRIMARY'),
    ('R_IFUSLI', 'ref_file.ifuslicer.name', 's', 'PRIMARY'),
    ('R_IPC', 'ref_file.ipc.name', 's', 'PRIMARY'),
    ('R_LASTFR', 'ref_file.lastframe.name', 's', 'PRIMARY'),
    ('R_LINEAR', 'ref_file.linearity.name', 's', 'PRIMARY'),
    ('R_MASK', 'ref_file.mask.name', 's', 'PRIMARY'),
    ('R_MSA', 'ref_file.msa.name', 's', 'PRIMARY'),
    ('R_MRSXAR', 'ref_file.mrsxartcorr.name', 's', 'PRIMARY'),
    ('R_MRSPT', 'ref_file.mrsptcorr.name', 's', 'PRIMARY'),
    ('R_NRM', 'ref_file.nrm.name', 's', 'PRIMARY'),
    ('R_OTE', 'ref_file.ote.name', 's', 'PRIMARY'),
    ('R_PSTSOS', 'ref_file.pastasoss.name', 's', 'PRIMARY'),
    ('R_PTHLOS', 'ref_file.pathloss.name', 's', 'PRIMARY'),
    ('R_PERSAT', 'ref_file.persat.name', 's', 'PRIMARY'),
    ('R_PHOTOM', 'ref_file.photom.name', 's', 'PRIMARY'),
    ('R_PSFMAS', 'ref_file.psfmask.name', 's', 'PRIMARY'),
    ('R_READNO', 'ref_file.readnoise.name', 's', 'PRIMARY'),
    ('R_REFPIX', 'ref_file.refpix.name', 's', 'PRIMARY'),
    ('R_REGION', 'ref_file.regions.name', 's', 'PRIMARY'),
    ('R_RESAMP', 'ref_file.resample.name', 's', 'PRIMARY'),
    ('R_RESOL', 'ref_file.resolution.name', 's', 'PRIMARY'),
    ('R_RESET', 'ref_file.reset.name', 's', 'PRIMARY'),
    ('R_RSCD', 'ref_file.rscd.name', 's', 'PRIMARY'),
    ('R_SATURA', 'ref_file.saturation.name', 's', 'PRIMARY'),
    ('R_SPKERN', 'ref_file.speckernel.name', 's', 'PRIMARY'),
    ('R_SPPROF', 'ref_file.specprofile.name', 's', 'PRIMARY'),
    ('R_SPTRAC', 'ref_file.spectrace.name', 's', 'PRIMARY'),
    ('R_SPCWCS', 'ref_file.specwcs.name', 's', 'PRIMARY'),
    ('R_STRAY', 'ref_file.straylight.name', 's', 'PRIMARY'),
    ('R_SUPERB', 'ref_file.superbias.name', 's', 'PRIMARY'),
    ('R_THRPUT', 'ref_file.throughput.name', 's', 'PRIMARY'),
    ('R_TRPDEN', 'ref_file.trapdensity.name', 's', 'PRIMARY'),
    ('R_TRPPAR', 'ref_file.trappars.name', 's', 'PRIMARY'),
    ('R_TSPHOT', 'ref_file.tso_photometry.name', 's', 'PRIMARY'),
    ('R_V2V3', 'ref_file.v2v3.name', 's', 'PRIMARY'),
    ('R_WAVCOR', 'ref_file.wavecorr.name', 's', 'PRIMARY'),
    ('R_WAVRAN', 'ref_file.wavelengthrange.name', 's', 'PRIMARY'),
    ('R_WAVMAP', 'ref_file.wavemap.name', 's', 'PRIMARY'),
    ('S_TRCMOD', 'cal_step.adaptive_trace_model', 's', 'PRIMARY'),
    ('S_PSFALI', 'cal_step.align_psfs', 's', 'PRIMARY'),
    ('S_AMIANA', 'cal_step.ami_analyze', 's', 'PRIMARY'),
    ('S_AMINOR', 'cal_step.ami_normalize', 's', 'PRIMARY'),
    ('S_WCS', 'cal_step.assign_wcs', 's', 'PRIMARY'),
    ('S_MTWCS', 'cal_step.assign_mtwcs', 's', 'PRIMARY'),
    ('S_BKDSUB', 'cal_step.bkg_subtract', 's', 'PRIMARY'),
    ('S_BPXSLF', 'cal_step.badpix_selfcal', 's', 'PRIMARY'),
    ('S_BARSHA', 'cal_step.barshadow', 's', 'PRIMARY'),
    ('S_CHGMIG', 'cal_step.charge_migration', 's', 'PRIMARY'),
    ('S_CLNFNS', 'cal_step.clean_flicker_noise', 's', 'PRIMARY'),
    ('S_COMB1D', 'cal_step.combine_1d', 's', 'PRIMARY'),
    ('S_IFUCUB', 'cal_step.cube_build', 's', 'PRIMARY'),
    ('S_DARK', 'cal_step.dark_sub', 's', 'PRIMARY'),
    ('S_DQINIT', 'cal_step.dq_init', 's', 'PRIMARY'),
    ('S_MIREMI', 'cal_step.emicorr', 's', 'PRIMARY'),
    ('S_TELEMI', 'cal_step.emission', 's', 'PRIMARY'),
    ('S_ERRINI', 'cal_step.err_init', 's', 'PRIMARY'),
    ('S_EXTR1D', 'cal_step.extract_1d', 's', 'PRIMARY'),
    ('S_EXTR2D', 'cal_step.extract_2d', 's', 'PRIMARY'),
    ('S_FRSTFR', 'cal_step.firstframe', 's', 'PRIMARY'),
    ('S_FLAT', 'cal_step.flat_field', 's', 'PRIMARY'),
    ('S_FRINGE', 'cal_step.fringe', 's', 'PRIMARY'),
    ('S_GANSCL', 'cal_step.gain_scale', 's', 'PRIMARY'),
    ('S_GRPSCL', 'cal_step.group_scale', 's', 'PRIMARY'),
    ('S_GUICDS', 'cal_step.guider_cds', 's', 'PRIMARY'),
    ('S_IMPRNT', 'cal_step.imprint', 's', 'PRIMARY'),
    ('S_IPC', 'cal_step.ipc', 's', 'PRIMARY'),
    ('S_JUMP', 'cal_step.jump', 's', 'PRIMARY'),
    ('S_KLIP', 'cal_step.klip', 's', 'PRIMARY'),
    ('S_LASTFR', 'cal_step.lastframe', 's', 'PRIMARY'),
    ('S_LINEAR', 'cal_step.linearity', 's', 'PRIMARY'),
    ('S_MSBSUB', 'cal_step.master_background', 's', 'PRIMARY'),
    ('S_MSAFLG', 'cal_step.msa_flagging', 's', 'PRIMARY'),
    ('S_OUTLIR', 'cal_step.outlier_detection', 's', 'PRIMARY'),
    ('S_PTHLOS', 'cal_step.pathloss', 's', 'PRIMARY'),
    ('S_PERSIS', 'cal_step.persistence', 's', 'PRIMARY'),
    ('S_PHOTOM', 'cal_step.photom', 's', 'PRIMARY'),
    ('S_PCTFRM', 'cal_step.picture_frame', 's', 'PRIMARY'),
    ('S_PXREPL', 'cal_step.pixel_replace', 's', 'PRIMARY'),
    ('S_RAMP', 'cal_step.ramp_fit', 's', 'PRIMARY'),
    ('S_REFPIX', 'cal_step.refpix', 's', 'PRIMARY'),
    ('S_RESAMP', 'cal_step.resample', 's', 'PRIMARY'),
    ('S_RESFRI', 'cal_step.residual_fringe', 's', 'PRIMARY'),
    ('S_RESET', 'cal_step.reset', 's', 'PRIMARY'),
    ('S_RSCD', 'cal_step.rscd', 's', 'PRIMARY'),
    ('S_SATURA', 'cal_step.saturation', 's', 'PRIMARY'),
    ('S_SKYMAT', 'cal_step.skymatch', 's', 'PRIMARY'),
    ('S_SRCCAT', 'cal_step.source_catalog', 's', 'PRIMARY'),
    ('S_SPLEAK', 'cal_step.spectral_leak', 's', 'PRIMARY'),
    ('S_SRCTYP', 'cal_step.srctype', 's', 'PRIMARY'),
    ('S_PSFSTK', 'cal_step.stack_psfs', 's', 'PRIMARY'),
    ('S_STRAY', 'cal_step.straylight', 's', 'PRIMARY'),
    ('S_SUPERB', 'cal_step.superbias', 's', 'PRIMARY'),
    ('S_TACNTR', 'cal_step.targ_centroid', 's', 'PRIMARY'),
    ('S_TSPHOT', 'cal_step.tso_photometry', 's', 'PRIMARY'),
    ('S_TWKREG', 'cal_step.tweakreg', 's', 'PRIMARY'),
    ('S_WAVCOR', 'cal_step.wavecorr', 's', 'PRIMARY'),
    ('S_WFSCOM', 'cal_step.wfs_combine', 's', 'PRIMARY'),
    ('S_CONTAM', 'cal_step.wfss_contam', 's', 'PRIMARY'),
    ('S_WHTLIT', 'cal_step.white_light', 's', 'PRIMARY'),
    ('FILETYPE', 'filetype', 's', 'PRIMARY'),
    ('REFTYPE', 'reftype', 's', 'PRIMARY'),
    ('PEDIGREE', 'pedigree', 's', 'PRIMARY'),
    ('DESCRIP', 'description', 's', 'PRIMARY'),
    ('AUTHOR', 'author', 's', 'PRIMARY'),
    ('USEAFTER', 'useafter', 's', 'PRIMARY'),
    ('AVDRKCUR', 'exposure.average_dark_current', 'f', 'PRIMARY'),
    ('P_EXP_TY', 'exposure.p_exptype', 's', 'PRIMARY'),
    ('P_READPA', 'exposure.p_readpatt', 's', 'PRIMARY'),
    ('P_SUBARR', 'subarray.p_subarray', 's', 'PRIMARY'),
    ('P_DETECT', 'instrument.p_detector', 's', 'PRIMARY'),
    ('P_FILTER', 'instrument.p_filter', 's', 'PRIMARY'),
    ('P_PUPIL', 'instrument.p_pupil', 's', 'PRIMARY'),
    ('P_CHANNE', 'instrument.p_channel', 's', 'PRIMARY'),
    ('P_BAND', 'instrument.p_band', 's', 'PRIMARY'),
    ('P_GRATIN', 'instrument.p_grating', 's', 'PRIMARY'),
    ('PHOTMJSR', 'photometry.conversion_megajanskys', 'f', 'PRIMARY'),
    ('PIXAR_SR', 'photometry.pixelarea_steradians', 'f', 'PRIMARY'),
    ('PIXAR_A2', 'photometry.pixelarea_arcsecsq', 'f', 'PRIMARY'),
    ('BUNIT', 'bunit_data', 's', 'SCI'),
    ('BUNIT', 'bunit_err', 's', 'ERR'),
)


@cache
def keywords() -> tuple[Keyword, ...]:
    """Return the keyword table as :class:`Keyword` records.

    Returns
    -------
    tuple of Keyword
        One record per row of :data:`KEYWORDS`, in table order.
    """
    return tuple(
        Keyword(name, tuple(path.split(".")), typ, hdu) for name, path, typ, hdu in KEYWORDS
    )


@cache
def keywords_by_path() -> dict[tuple[str, ...], Keyword]:
    """Return the keyword records indexed by their metadata path.

    Returns
    -------
    dict
        ``{("exposure", "ngroups"): Keyword("NGROUPS", ...), ...}``.
    """
    return {kw.path: kw for kw in keywords()}


@cache
def group_paths() -> frozenset[tuple[str, ...]]:
    """Return every path of the tree that is a group (has children) in the table.

    Returns
    -------
    frozenset of tuple of str
        ``{("instrument",), ("ref_file",), ("ref_file", "gain"), ...}``.
    """
    groups: set[tuple[str, ...]] = set()
    for kw in keywords():
        for depth in range(1, len(kw.path)):
            groups.add(kw.path[:depth])
    return frozenset(groups)
