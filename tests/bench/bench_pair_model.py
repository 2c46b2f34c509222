"""Would a learned same-story model beat the shipped evidence? (issue 16: "a small learned model over pair
features … is one way"). Measured here, so the answer can be re-checked on new labels.

Both similarities drive the same offline average-linkage clustering of every item at once (the news file's
40 stories, 200 tweets of each of the 13 crises), and each picks its threshold on one story fold with
``bench_pipeline``'s objective, then is scored on the other fold (BCubed, the tuning fold's items present as
distractors), both ways round:

* **shipped**: ``pair_similarity`` (encoder cosine, down-weighted between two foreign-language items, plus
  the weighted IDF word cosine) with the configured weights;
* **learned**: logistic regression over pair features (the cosine for native and for foreign pairs, the
  lexical cosine, their product, shared rare words, same host, text length), trained on the tuning fold's
  pairs only: news pairs, or news and crisis pairs weighted equally.

Offline clustering is not the streaming pipeline (``bench_pipeline`` measures that); it compares the two
similarities on equal terms. Decision and figures: docs/DECISIONS.md (issue 16).
"""

from __future__ import annotations

import numpy as np

from tests.bench.bench_pipeline import CRISIS, LARGEST_SHARE, NEWS, crisis_rows, news_rows
from tests.clustering_metrics import bcubed_scored, story_folds

FEATURES = ["cos native", "cos foreign", "lexical", "cos x lexical", "shared rare words", "same host", "foreign",
            "1/(1+words)"]  # fmt: skip
RARE_IDF = 4.0  # a word this rare (idf >= 4: in fewer than ~5 % of items) counts as a shared rare word
L2 = 1e-3
SHIPPED_THRESHOLDS = [0.27, 0.30, 0.33, 0.36, 0.39, 0.42]
LEARNED_THRESHOLDS = [0.15, 0.20, 0.25, 0.30, 0.35, 0.40]


def _dataset(rows: list[dict[str, str]]) -> dict:
    from urllib.parse import urlsplit

    from apps.trends.embeddings import texts_embed
    from apps.trends.pipeline.evidence import clustering_text, language_native
    from apps.trends.pipeline.language import language_detect
    from apps.trends.pipeline.lexical import Idf, item_words, lexical_vectors

    class _Row:
        def __init__(self, row):
            self.title, self.url = row["TITLE"], row.get("URL", "")

    items = [_Row(r) for r in rows]
    words = [item_words(i.title, i.url) for i in items]
    idf = Idf(words)
    semantic = np.asarray(texts_embed([clustering_text(i.title) for i in items]), dtype=np.float32)
    lexical = lexical_vectors(items, idf)
    native = np.array([language_native(lang) for lang in language_detect([i.title for i in items])])
    vocabulary: dict[str, int] = {}
    rare = np.zeros((len(items), 1 + sum(1 for w in idf.frequency if idf.weight(w) >= RARE_IDF)), np.float32)
    for row, item_words_ in enumerate(words):
        for word in item_words_:
            if idf.weight(word) >= RARE_IDF:
                rare[row, vocabulary.setdefault(word, len(vocabulary))] = 1.0
    hosts = np.array([urlsplit(i.url).hostname or "" for i in items])
    lengths = np.array([len(w) for w in words], dtype=np.float32)
    return {
        "labels": [r["LABEL"] for r in rows],
        "semantic": semantic @ semantic.T,
        "lexical": lexical @ lexical.T,
        "native": native,
        "rare": rare @ rare.T,
        "host": (hosts[:, None] == hosts[None, :]) & (hosts[:, None] != ""),
        "lengths": lengths,
    }


def _features(data: dict) -> list[np.ndarray]:
    foreign = ~(data["native"][:, None] | data["native"][None, :])
    semantic, lexical = data["semantic"], data["lexical"]
    shortest = np.minimum(data["lengths"][:, None], data["lengths"][None, :])
    return [semantic * ~foreign, semantic * foreign, lexical, semantic * lexical, np.minimum(data["rare"], 4) / 4,
            data["host"].astype(np.float32), foreign.astype(np.float32), 1 / (1 + shortest)]  # fmt: skip


def _pairs(data: dict, fold: set) -> tuple[np.ndarray, np.ndarray]:
    index = np.array([k for k, label in enumerate(data["labels"]) if label in fold])
    upper = np.triu_indices(len(index), 1)
    features = np.stack([f[np.ix_(index, index)][upper] for f in _features(data)], axis=1)
    labels = np.array(data["labels"], dtype=object)[index]
    return features, (labels[:, None] == labels[None, :])[upper].astype(np.float64)


def _fit(parts: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Weights and bias of an L2-regularised logistic regression; each part (domain) weighs the same."""
    from scipy.optimize import minimize

    x = np.vstack([np.hstack([f, np.ones((len(f), 1))]) for f, _ in parts]).astype(np.float64)
    y = np.concatenate([t for _, t in parts])
    weight = np.concatenate([np.full(len(t), 1 / (len(t) * len(parts))) for _, t in parts])

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        p = 1 / (1 + np.exp(-(x @ w)))
        penalty = np.r_[w[:-1], 0.0]
        value = -(weight * (y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12))).sum() + L2 * penalty @ penalty
        return value, x.T @ (weight * (p - y)) + 2 * L2 * penalty

    return minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B").x


def _learned(data: dict, w: np.ndarray) -> np.ndarray:
    logit = sum(wi * f for wi, f in zip(w[:-1], _features(data), strict=True)) + w[-1]
    return 1 / (1 + np.exp(-logit))


def _shipped(data: dict) -> np.ndarray:
    from apps.trends.pipeline.evidence import pair_similarity

    return pair_similarity(data["semantic"], data["lexical"], data["native"][:, None], data["native"][None, :])


def _clusters(similarity: np.ndarray, threshold: float) -> np.ndarray:
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    distance = np.clip(1 - similarity, 0, None)
    np.fill_diagonal(distance, 0)
    return fcluster(linkage(squareform(distance, checks=False), "average"), t=1 - threshold, criterion="distance")


def _scores(news: dict, crisis: dict, similarities: tuple, threshold: float, folds: tuple) -> list[tuple]:
    """Per fold k: news (P, R, F1) and crisis (P, R) on fold k's items, and the largest crisis topic's share."""
    news_topics, crisis_topics = (_clusters(s, threshold) for s in similarities)
    largest = np.bincount(crisis_topics).max() / len(crisis_topics)
    out = []
    for k in (0, 1):
        n = bcubed_scored(news_topics, news["labels"], [label in folds[0][k] for label in news["labels"]])
        c = bcubed_scored(crisis_topics, crisis["labels"], [label in folds[1][k] for label in crisis["labels"]])
        out.append((n, c, largest))
    return out


def _objective(score: tuple) -> float:  # bench_pipeline's: news F1 and P, crisis P, no topic over 10 %
    (news_p, _, news_f1), (crisis_p, _, _), largest = score
    return (news_f1 + news_p + crisis_p) / 3 - max(0.0, largest - LARGEST_SHARE)


def _report(name: str, tune: int, threshold: float, score: tuple) -> None:
    (p, r, f1), (cp, cr, _), largest = score
    print(
        f"  {name:<26} fold {2 - tune} held out (threshold {threshold:.2f} chosen on fold {tune + 1}): news P {p:.3f} "
        f"R {r:.3f} F1 {f1:.3f} | crisis P {cp:.3f} R {cr:.3f}, largest {largest:.1%}",
        flush=True,
    )


def main() -> None:
    missing = [p for p in (NEWS, CRISIS) if not p.exists()]
    if missing:
        print(f"skipped: {', '.join(map(str, missing))} not here (../shared/data beside the repository)")
        return
    news, crisis = _dataset(news_rows()), _dataset(crisis_rows())
    folds = (story_folds(news["labels"], seed=0), story_folds(crisis["labels"], seed=0))
    print(f"{len(news['labels'])} headlines, {len(crisis['labels'])} tweets; features: {', '.join(FEATURES)}")
    shipped = [(t, _scores(news, crisis, (_shipped(news), _shipped(crisis)), t, folds)) for t in SHIPPED_THRESHOLDS]
    for tune in (0, 1):
        threshold, scores = max(shipped, key=lambda entry: _objective(entry[1][tune]))
        _report("shipped evidence", tune, threshold, scores[1 - tune])
        news_pairs = _pairs(news, folds[0][tune])
        for name, parts in (
            ("learned on news pairs", [news_pairs]),
            ("learned on news + crisis", [news_pairs, _pairs(crisis, folds[1][tune])]),
        ):
            w = _fit(parts)
            similarities = (_learned(news, w), _learned(crisis, w))
            table = [(t, _scores(news, crisis, similarities, t, folds)) for t in LEARNED_THRESHOLDS]
            threshold, scores = max(table, key=lambda entry: _objective(entry[1][tune]))
            _report(name, tune, threshold, scores[1 - tune])
            print("    weights " + ", ".join(f"{f} {v:+.2f}" for f, v in zip([*FEATURES, "bias"], w, strict=True)))
