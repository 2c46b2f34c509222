"""Stage 3: language of each item, by lingua restricted to the languages we expect (settings)."""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings

from apps.trends.models import Item
from apps.trends.pipeline.context import StageContext
from apps.trends.pipeline.evidence import clustering_text

_SAMPLE_CHARS = 600  # a title plus the start of the text decides the language; more only costs time

_detector: Any = None
_detector_key: tuple[str, ...] = ()
_lock = threading.Lock()


def detector_get() -> Any:
    """One detector per process and language set: building one loads its models, which takes a while."""
    global _detector, _detector_key
    key = tuple(sorted(code.upper() for code in settings.PIPELINE_LANGUAGES))
    if _detector is None or key != _detector_key:
        with _lock:
            from lingua import IsoCode639_1, LanguageDetectorBuilder

            codes = [getattr(IsoCode639_1, code) for code in key]
            _detector = LanguageDetectorBuilder.from_iso_codes_639_1(*codes).with_low_accuracy_mode().build()
            _detector_key = key
    return _detector


def language_detect(texts: list[str]) -> list[str]:
    """ISO 639-1 codes (lower case) for each text, "" where the detector cannot tell."""
    results = detector_get().detect_languages_in_parallel_of([t[:_SAMPLE_CHARS] for t in texts])
    return [lang.iso_code_639_1.name.lower() if lang is not None else "" for lang in results]


def language(items: list[Item], ctx: StageContext) -> int:
    """Set ``item.language``; falls back to the language the source declared. Returns how many were detected."""
    # @mentions and links are not words of any language: they only mislead the detector.
    detected = language_detect([clustering_text(f"{i.title}. {i.text}") for i in items])
    found = 0
    for item, code in zip(items, detected, strict=True):
        item.language = code or item.language_hint[:16]
        found += bool(code)
    ctx.counts["languages_detected"] += found
    return found
