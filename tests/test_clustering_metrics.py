import pytest

from tests.clustering_metrics import bcubed, bcubed_scored, story_folds


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


def test_story_folds_never_put_one_story_in_both_and_cover_all():
    stories = [f"s{k % 7}" for k in range(50)]
    first, second = story_folds(stories, seed=3)
    assert first.isdisjoint(second)
    assert first | second == set(stories)
    assert (len(first), len(second)) == (4, 3)


def test_story_folds_are_fixed_by_the_seed_not_by_row_order():
    stories = [f"s{k}" for k in range(40)]
    assert story_folds(stories, seed=0) == story_folds(list(reversed(stories)), seed=0)
    assert story_folds(stories, seed=0) != story_folds(stories, seed=1)


def test_the_uci_dev_file_splits_by_story():
    from tests.trends.conftest import uci_rows

    rows = uci_rows()
    first, second = story_folds([r["STORY"] for r in rows])
    assert first.isdisjoint(second) and len(first) == len(second) == 20
    in_first = [r for r in rows if r["STORY"] in first]
    in_second = [r for r in rows if r["STORY"] in second]
    assert len(in_first) + len(in_second) == len(rows)
    assert {r["STORY"] for r in in_first}.isdisjoint({r["STORY"] for r in in_second})


def test_scored_items_lose_precision_to_distractors_in_their_cluster():
    # Story "a" (scored) shares its cluster with two distractor items of story "z".
    predicted, gold = ["x", "x", "x", "x", "y"], ["a", "a", "z", "z", "b"]
    scored = [True, True, False, False, True]
    precision, recall, _ = bcubed_scored(predicted, gold, scored)
    assert precision == pytest.approx((0.5 + 0.5 + 1.0) / 3)
    assert recall == 1.0
    kept = [k for k, s in enumerate(scored) if s]
    assert bcubed([predicted[k] for k in kept], [gold[k] for k in kept])[0] == 1.0  # blind to the distractors
