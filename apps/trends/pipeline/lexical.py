"""Lexical features for story clustering: TF-IDF of the words of the title and of the URL slug.

Two headlines of the same kind ("shares fall as ...", "star announces ...") read alike to a sentence
encoder; the rare words they do not share (names, places, products) tell the stories apart, and the article
URL usually spells the headline once more. Each item becomes a hashed, signed, IDF-weighted bag of those
words (unit length, ``DIMENSIONS`` wide, so it is stored and averaged like an embedding); the IDF is learned
from the stored items' own words, never from labels.
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from collections.abc import Iterable
from urllib.parse import urlsplit

import numpy as np

from apps.trends.models import LEXICAL_DIMENSIONS, Item
from apps.trends.pipeline.evidence import clustering_text

DIMENSIONS = LEXICAL_DIMENSIONS  # hashed vocabulary: collisions among a headline's ~15 words are rare at this width
IDF_ITEMS = 20_000  # the latest stored items the IDF is learned from
_WORD = re.compile(r"[^\W_]+")
_STOPWORDS = frozenset(
    """a about after again against all also am an and any are as at be been before being but by can could did
    do does for from had has have he her here his how i if in into is it its just more most my new no not now
    of off on once only or other our out over own says said she should so some such than that the their them
    then there these they this those through to too under up very was we were what when where which while who
    why will with would you your vs via amid report reports video photos update
    www com html htm php aspx shtml story stories news article articles index""".split()  # noqa: SIM905
)


def _words(text: str) -> Iterable[str]:
    for word in _WORD.findall(text.casefold()):
        if len(word) < 2 or word in _STOPWORDS or any(c.isdigit() for c in word):
            continue  # numbers and ids (idINBREA290VH20140310) say nothing about the story
        yield word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word


def item_words(title: str, url: str) -> set[str]:
    """The distinct words of the title (without mentions and links) and of the URL's slug-like path segments
    (those with - or _)."""
    words = set(_words(clustering_text(title)))
    for segment in urlsplit(url or "").path.split("/"):
        if "-" in segment or "_" in segment:
            words.update(_words(segment.replace("_", " ").replace("-", " ")))
    return words


class Idf:
    """Inverse document frequencies over a set of documents (each a set of words), smoothed as in sklearn."""

    def __init__(self, documents: Iterable[set[str]]) -> None:
        self.frequency: Counter[str] = Counter()
        self.count = 0
        for words in documents:
            self.frequency.update(words)
            self.count += 1

    def weight(self, word: str) -> float:
        return math.log((1 + self.count) / (1 + self.frequency[word])) + 1.0


def idf_learn(*, limit: int = IDF_ITEMS) -> Idf:
    """IDF from the words of the latest stored items (title and URL; labels play no part)."""
    rows = Item.objects.order_by("-pk").values_list("title", "url")[:limit]
    return Idf(item_words(title, url) for title, url in rows)


def _slot(word: str) -> tuple[int, float]:
    code = zlib.crc32(word.encode())
    return code % DIMENSIONS, 1.0 if code & 0x80000000 else -1.0


def lexical_vectors(items: list[Item], idf: Idf) -> np.ndarray:
    """One unit-length hashed TF-IDF row per item (a zero row for an item without words)."""
    matrix = np.zeros((len(items), DIMENSIONS), dtype=np.float32)
    for row, item in enumerate(items):
        for word in item_words(item.title, item.url):
            slot, sign = _slot(word)
            matrix[row, slot] += sign * idf.weight(word)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)
