"""Clustering quality measures shared by the tests and the benchmarks."""

from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence


def bcubed(predicted: Sequence[Hashable], gold: Sequence[Hashable]) -> tuple[float, float, float]:
    """BCubed precision, recall and F1 of a clustering against gold labels (Amigó et al., 2009).

    For each item: precision is the share of its predicted cluster with its gold label, recall the share of
    its gold class in its predicted cluster; both are averaged over items.
    """
    if len(predicted) != len(gold):
        raise ValueError(f"{len(predicted)} predictions for {len(gold)} gold labels")
    if not gold:
        return 0.0, 0.0, 0.0
    pairs = Counter(zip(predicted, gold, strict=True))
    cluster_size: dict = defaultdict(int)
    class_size: dict = defaultdict(int)
    for (p, g), n in pairs.items():
        cluster_size[p] += n
        class_size[g] += n
    precision = sum(n * n / cluster_size[p] for (p, _), n in pairs.items()) / len(gold)
    recall = sum(n * n / class_size[g] for (_, g), n in pairs.items()) / len(gold)
    return precision, recall, 2 * precision * recall / (precision + recall)


def bcubed_scored(
    predicted: Sequence[Hashable], gold: Sequence[Hashable], scored: Sequence[bool]
) -> tuple[float, float, float]:
    """BCubed over the ``scored`` items only, while every item counts as a neighbour.

    For a held-out fold streamed alongside distractors: an item's precision is the share of its *whole*
    predicted cluster (distractors included) that has its gold label, so a held-out story glued to a
    distractor loses precision; recall is over the scored items of its class.
    """
    if not (len(predicted) == len(gold) == len(scored)):
        raise ValueError("predicted, gold and scored differ in length")
    cluster_size = Counter(predicted)
    both = Counter(zip(predicted, gold, strict=True))
    chosen = [(p, g) for p, g, s in zip(predicted, gold, scored, strict=True) if s]
    if not chosen:
        return 0.0, 0.0, 0.0
    class_size = Counter(g for _, g in chosen)
    chosen_both = Counter(chosen)
    precision = sum(both[(p, g)] / cluster_size[p] for p, g in chosen) / len(chosen)
    recall = sum(chosen_both[(p, g)] / class_size[g] for p, g in chosen) / len(chosen)
    return precision, recall, 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def story_folds(stories: Sequence[Hashable], *, seed: int = 0) -> tuple[set, set]:
    """Split the distinct stories into two folds of (nearly) equal count, shuffled with a fixed seed.

    Split by story, never by row: a story with rows on both sides would let settings chosen on one fold
    have seen the other. Sorted before shuffling, so the split depends on the stories only, not on row order.
    """
    import numpy as np

    distinct = sorted(set(stories), key=str)
    order = np.random.default_rng(seed).permutation(len(distinct))
    half = (len(distinct) + 1) // 2
    return {distinct[i] for i in order[:half]}, {distinct[i] for i in order[half:]}
