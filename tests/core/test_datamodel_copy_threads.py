"""DataModel.copy with several threads and an allocator; DataModel.deferred."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from pipeline_core.parallel import _sharedmem
from pipeline_core.datamodels import GainModel, RampModel, open_model
from pipeline_core.datamodels import base
from pipeline_core.datamodels.deferred import DeferredImage
from pipeline_core.parallel.rows import shared_allocator

MIB = 1 << 20


def _ramp(shape, seed=0):
    rng = np.random.default_rng(seed)
    model = RampModel(data=rng.standard_normal(shape, dtype=np.float32))
    model.groupdq = rng.integers(0, 256, size=shape, dtype=np.uint8)
    model.pixeldq = rng.integers(0, 2**32, size=shape[-2:], dtype=np.uint32)
    model.meta.exposure.ngroups = shape[1]
    return model


@pytest.fixture
def copies(monkeypatch):
    """Record the threaded copies: ``{"threaded": [(shape, threads)], "parts": [(shape, thread)]}``."""
    record = {"threaded": [], "parts": []}
    original = base._threaded_copyto
    copyto = np.copyto
    lock = threading.Lock()

    def threaded(target, source, threads):
        record["threaded"].append((source.shape, threads))
        return original(target, source, threads)

    def spy(dst, src, *args, **kwargs):
        with lock:
            record["parts"].append((np.shape(src), threading.get_ident()))
        return copyto(dst, src, *args, **kwargs)

    monkeypatch.setattr(base, "_threaded_copyto", threaded)
    monkeypatch.setattr(np, "copyto", spy)
    return record


def _assert_threads(parts, threads):
    """This thread copied the first part, pool threads (one at least) the others."""
    here = threading.get_ident()
    assert len(parts) == threads
    assert [ident for _, ident in parts].count(here) == 1
    assert len({ident for _, ident in parts}) >= 2


def _assert_same(copy, model):
    assert type(copy) is type(model)
    for name in ("data", "groupdq", "pixeldq"):
        got, want = getattr(copy, name), getattr(model, name)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
        assert not np.shares_memory(got, want)
    assert copy.meta.exposure.ngroups == model.meta.exposure.ngroups


def test_threshold_is_8_mib():
    assert base._THREADED_COPY_BYTES == 8 * MIB


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_large_4d_array_is_copied_by_threads(threads, copies):
    model = _ramp((2, 4, 512, 640))  # data: 10 MiB of float32; groupdq: 2.5 MiB
    assert model.data.nbytes > 8 * MIB > model.groupdq.nbytes
    copy = model.copy(threads=threads)
    _assert_same(copy, model)
    if threads == 1:
        assert copies["threaded"] == []
        return
    # only the large array is copied in parts: along its first axis when it has a
    # part for every thread, else along the second
    assert copies["threaded"] == [((2, 4, 512, 640), threads)]
    parts = [(shape, ident) for shape, ident in copies["parts"] if shape != (2, 4, 512, 640)]
    expected = {2: [(1, 4), (1, 4)], 3: [(2, 1), (2, 1), (2, 2)]}[threads]
    assert sorted(shape[:2] for shape, _ in parts) == expected
    assert all(shape[2:] == (512, 640) for shape, _ in parts)
    _assert_threads(parts, threads)


@pytest.mark.parametrize(("threads", "sizes"), [(2, [4, 5]), (3, [3, 3, 3]), (5, [1, 2, 2, 2, 2])])
def test_first_axis_of_one_is_split_along_the_second(threads, sizes, copies):
    model = _ramp((1, 9, 512, 512))  # 9 MiB
    copy = model.copy(threads=threads)
    _assert_same(copy, model)
    assert copies["threaded"] == [((1, 9, 512, 512), threads)]
    parts = [(shape, ident) for shape, ident in copies["parts"] if shape[-2:] == (512, 512)]
    assert all(shape[0] == 1 for shape, _ in parts)
    assert sorted(shape[1] for shape, _ in parts) == sizes
    _assert_threads(parts, threads)


def test_non_contiguous_large_array(copies):
    data = np.asfortranarray(np.random.default_rng(1).standard_normal((3, 5, 400, 400), np.float32))
    model = RampModel(data=data)
    assert not model.data.flags.c_contiguous and model.data.nbytes > 8 * MIB
    copy = model.copy(threads=3)
    np.testing.assert_array_equal(copy.data, data)
    assert copies["threaded"] == [((3, 5, 400, 400), 3)]


@pytest.mark.parametrize("threads", [2, 3])
def test_small_arrays_are_not_threaded(threads, copies):
    model = _ramp((2, 5, 64, 64))
    copy = model.copy(threads=threads)
    _assert_same(copy, model)
    assert copies["threaded"] == []
    # each array copied whole, in this thread
    assert {ident for _, ident in copies["parts"]} <= {threading.get_ident()}


@pytest.mark.usefixtures("no_shared_memory_leaks")
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_copy_into_shared_memory(threads, copies):
    model = _ramp((2, 4, 512, 640))
    copy = model.copy(allocator=shared_allocator, threads=threads)
    _assert_same(copy, model)
    # arrays of 1 MiB or more are in shared memory
    for name in ("data", "groupdq", "pixeldq"):
        assert _sharedmem.spec_of(getattr(copy, name)) is not None
        assert _sharedmem._segment_map(getattr(copy, name)).reserved is True
    assert len(copies["threaded"]) == (threads > 1)
    # smaller ones are not
    small = _ramp((1, 3, 16, 16)).copy(allocator=shared_allocator, threads=threads)
    assert _sharedmem.spec_of(small.data) is None and _sharedmem.spec_of(small.pixeldq) is None


@pytest.mark.parametrize("allocator", [None, shared_allocator])
@pytest.mark.parametrize("threads", [1, 3])
def test_copy_is_independent(allocator, threads, no_shared_memory_leaks):
    model = _ramp((2, 4, 512, 640), seed=4)
    before = model.data[:, :, :2].copy(), model.groupdq[0, 0, 0, :4].copy()
    copy = model.copy(allocator=allocator, threads=threads)
    copy.data[...] = -1.0
    copy.groupdq[0, 0, 0, :4] = 99
    copy.pixeldq[...] = 0
    copy.meta.exposure.ngroups = 12
    np.testing.assert_array_equal(model.data[:, :, :2], before[0])
    np.testing.assert_array_equal(model.groupdq[0, 0, 0, :4], before[1])
    assert model.pixeldq.any()
    assert model.meta.exposure.ngroups == 4
    model.data[0, 0, 0, 0] = 123.0
    assert copy.data[0, 0, 0, 0] == -1.0


def test_allocator_receives_shape_and_dtype():
    calls = []

    def allocate(shape, dtype):
        calls.append((shape, np.dtype(dtype)))
        return np.full(shape, 7, dtype)  # not empty: the copy must overwrite it

    model = _ramp((1, 9, 512, 512))
    copy = model.copy(allocator=allocate, threads=2)
    _assert_same(copy, model)
    assert sorted(calls, key=str) == sorted(
        [((1, 9, 512, 512), np.dtype("float32")), ((1, 9, 512, 512), np.dtype("uint8")),
         ((512, 512), np.dtype("uint32"))],
        key=str,
    )


def test_threaded_copyto_directly():
    source = np.arange(4 * 6 * 5, dtype=np.int32).reshape(4, 6, 5)
    for threads in (1, 2, 3, 4, 7):
        target = np.zeros_like(source)
        base._threaded_copyto(target, source, threads)
        np.testing.assert_array_equal(target, source)
    vector = np.arange(10.0)
    target = np.zeros(10)
    base._threaded_copyto(target, vector, 4)
    np.testing.assert_array_equal(target, vector)


# --------------------------------------------------------------------------------------
# deferred()
# --------------------------------------------------------------------------------------


@pytest.fixture
def gain_file(tmp_path):
    data = np.arange(12 * 10, dtype=np.float32).reshape(12, 10)
    ref = GainModel(data=data)
    ref.meta.reftype = "GAIN"
    return ref.save(tmp_path / "gain.fits"), data


def test_deferred_of_a_lazily_opened_file(gain_file):
    path, data = gain_file
    ref = open_model(path, lazy=True)
    image = ref.deferred("data")
    assert isinstance(image, DeferredImage)
    assert image.shape == (12, 10) and image.dtype == np.float32
    np.testing.assert_array_equal(image.read_section(slice(3, 5)), data[3:5])
    # a copy of the model still has it in the file
    assert isinstance(ref.copy(threads=2).deferred("data"), DeferredImage)
    np.testing.assert_array_equal(ref.data, data)  # read now
    assert ref.deferred("data") is None
    assert ref.is_loaded("data")


def test_deferred_is_none_for_arrays_in_memory(gain_file):
    path, data = gain_file
    assert open_model(path).deferred("data") is None  # opened, not lazily
    assert GainModel(data=data).deferred("data") is None
    ramp = RampModel(data=np.zeros((1, 3, 4, 4), np.float32))
    assert ramp.deferred("data") is None
    assert ramp.deferred("zeroframe") is None  # not set
    assert ramp.deferred("no_such_array") is None
