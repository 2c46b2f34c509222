"""What counts as evidence that two items report the same event.

Two rules the clustering stages share:

* **Social noise is not evidence.** A retweet prefix, an @mention or a link says who passed a post on, not
  what happened: two tweets about different floods that both mention ``@cnnbrk`` are no closer for it.
  ``clustering_text`` strips them before the encoder and the lexical vectors see the text; the stored item
  keeps them.
* **Similarity is pairwise, between items.** ``pair_similarity`` compares items with items, never with a
  topic's mean: a mean drifts toward the generic theme as a topic grows ("a flood", "a market report"), and
  every new item of that theme is then near it. The score is the encoder's cosine plus
  ``PIPELINE_TOPIC_LEXICAL_WEIGHT`` × the cosine of the IDF-weighted word vectors, which rewards the rare words
  two reports of one event share (names, places, hashtags). The encoder reads only some languages well
  (``PIPELINE_ENCODER_LANGUAGES``): between two items in other languages its cosine is mostly "same language",
  so it counts ``PIPELINE_TOPIC_FOREIGN_SEMANTIC_WEIGHT`` of its value and the shared words carry the rest.
"""

from __future__ import annotations

import re

import numpy as np
from django.conf import settings

_RETWEET = re.compile(r"^\s*(?:RT|MT)\b\s*:?\s*(?:@\w+\s*:?\s*)?", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@\w{1,30}:?")
_LINK = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def clustering_text(text: str) -> str:
    """The text with retweet prefixes, @mentions and links removed (what clustering reads)."""
    if not text:
        return ""
    text = _RETWEET.sub("", text)
    text = _LINK.sub(" ", text)
    text = _MENTION.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def language_native(language: str) -> bool:
    """Whether the encoder reads this language well; an unknown language ("") counts as native, so a
    headline the detector could not place is not penalised."""
    return not language or language in settings.PIPELINE_ENCODER_LANGUAGES


def pair_similarity(
    semantic: np.ndarray, lexical: np.ndarray, native_a: np.ndarray | bool, native_b: np.ndarray | bool
) -> np.ndarray:
    """Evidence of the same event for item pairs (element-wise over broadcastable arrays): encoder cosine,
    down-weighted where neither item is in a language the encoder reads, plus the weighted lexical cosine."""
    foreign = ~(np.asarray(native_a, dtype=bool) | np.asarray(native_b, dtype=bool))
    scale = np.where(foreign, settings.PIPELINE_TOPIC_FOREIGN_SEMANTIC_WEIGHT, 1.0)
    return semantic * scale + settings.PIPELINE_TOPIC_LEXICAL_WEIGHT * lexical
