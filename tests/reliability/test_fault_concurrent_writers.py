"""Two processes saving the same product at the same moment: one wins whole, the other is clean.

Two writers, from two inputs of the same name, save ``jw_race_filled.fits`` into one
folder, released together by a barrier, round after round. After each round the
product is one writer's, complete (every pixel holds that writer's value); no
temporary file is left; both runs succeed; the inputs are untouched.
"""

from __future__ import annotations

from tests.reliability._steps import (
    child_context,
    digest,
    hidden_files,
    product_value,
    save_in_rounds,
    start_child,
    visible_files,
    write_image,
)

ROUNDS = 8


def test_two_writers_of_one_product(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    inputs = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        inputs.append(write_image(tmp_path / name / "jw_race_uncal.fits", value=5.0, shape=(128, 128)))
    before = [digest(p) for p in inputs]
    barrier = child_context().Barrier(3)
    writers = [
        start_child(save_in_rounds, str(out), str(inputs[0]), 100.0, ROUNDS, barrier),
        start_child(save_in_rounds, str(out), str(inputs[1]), 200.0, ROUNDS, barrier),
    ]
    winners = []
    try:
        for number in range(ROUNDS):
            barrier.wait(timeout=60)  # go
            barrier.wait(timeout=60)  # both saved
            value = product_value(out / "jw_race_filled.fits")
            assert value in (100.0 + number, 200.0 + number), f"round {number}: {value}"
            winners.append(value >= 200.0)
            assert visible_files(out) == {"jw_race_filled.fits"}
            assert hidden_files(out) == set(), f"round {number}: temporaries left"
    finally:
        for writer in writers:
            writer.join(timeout=60)
    assert [w.exitcode for w in writers] == [0, 0]
    assert [digest(p) for p in inputs] == before
    assert len(winners) == ROUNDS
