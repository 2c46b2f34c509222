import pytest

from tests.clustering_metrics import bcubed


def test_perfect_clustering_scores_one():
    assert bcubed(["x", "x", "y"], [1, 1, 2]) == (1.0, 1.0, 1.0)


def test_one_big_cluster_has_full_recall_and_diluted_precision():
    precision, recall, f1 = bcubed(["x"] * 4, [1, 1, 2, 2])
    assert (precision, recall) == (0.5, 1.0)
    assert f1 == pytest.approx(2 / 3)


def test_singletons_have_full_precision_and_diluted_recall():
    precision, recall, _ = bcubed([1, 2, 3, 4], ["a", "a", "a", "b"])
    assert precision == 1.0
    assert recall == pytest.approx((1 / 3 * 3 + 1) / 4)


def test_lengths_must_match():
    with pytest.raises(ValueError, match="3 predictions for 2"):
        bcubed([1, 2, 3], [1, 2])
