from __future__ import annotations

import pytest

from newsbot.retrieval.fusion import reciprocal_rank_fusion, score_fusion


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
def test_bad_arguments_are_named(weights, k) -> None:
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([[1], [2]], weights, k=k)


def test_score_fusion_keeps_how_far_ahead_a_passage_is() -> None:
    # Dense barely prefers 2 over 1; BM25 puts 1 far ahead of 2: 1 wins. RRF would call it a tie.
    dense = [(2, 0.81), (1, 0.80), (3, 0.40)]
    bm25 = [(1, 30.0), (2, 5.0), (3, 4.0)]
    fused = score_fusion([dense, bm25], [0.5, 0.5])
    assert [r.id for r in fused] == [1, 2, 3]
    assert fused[0].score == pytest.approx(0.5 * (0.80 - 0.40) / (0.81 - 0.40) + 0.5)


def test_score_fusion_counts_a_missing_item_as_zero_and_honours_weights() -> None:
    fused = score_fusion([[(1, 0.9), (2, 0.1)], [(3, 12.0), (1, 2.0)]], [1.0, 0.0])
    assert [r.id for r in fused][:1] == [1] and {r.id for r in fused} == {1, 2, 3}
    assert score_fusion([[], [(4, 1.0)]], [1.0, 1.0])[0].id == 4  # one side found nothing


@pytest.mark.parametrize("weights", [[1.0], [1.0, -0.5]])
def test_score_fusion_refuses_bad_weights(weights) -> None:
    with pytest.raises(ValueError, match="weight"):
        score_fusion([[(1, 1.0)], [(1, 1.0)]], weights)
