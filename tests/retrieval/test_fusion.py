from __future__ import annotations

import pytest

from retrieval.fusion import reciprocal_rank_fusion


def test_item_ranked_well_by_both_beats_item_ranked_first_by_one() -> None:
    fused = reciprocal_rank_fusion([[1, 2, 3], [2, 4, 1]], [1.0, 1.0], k=60)
    assert [r.id for r in fused][:2] == [2, 1]
    assert {r.id for r in fused} == {1, 2, 3, 4}


def test_weights_lean_towards_one_ranking() -> None:
    dense, sparse = [10, 20], [20, 10]
    assert reciprocal_rank_fusion([dense, sparse], [2.0, 1.0], k=60)[0].id == 10
    assert reciprocal_rank_fusion([dense, sparse], [1.0, 2.0], k=60)[0].id == 20


def test_zero_weight_ignores_a_ranking() -> None:
    fused = reciprocal_rank_fusion([[1, 2], [3, 2]], [1.0, 0.0], k=1)
    assert [r.id for r in fused][:2] == [1, 2]


def test_scores_are_the_rrf_formula() -> None:
    fused = {r.id: r.score for r in reciprocal_rank_fusion([[7, 8], [8]], [1.0, 0.5], k=10)}
    assert fused[7] == pytest.approx(1 / 11)
    assert fused[8] == pytest.approx(1 / 12 + 0.5 / 11)


@pytest.mark.parametrize("weights,k", [([1.0], 60), ([1.0, -1.0], 60), ([1.0, 1.0], 0)])
def test_bad_arguments_are_named(weights, k) -> None:  # noqa: ANN001
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([[1], [2]], weights, k=k)
