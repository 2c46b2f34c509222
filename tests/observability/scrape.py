"""Reading ``/metrics`` back in tests: the exposition text as {(name, labels): value}."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series does not exist yet (a counter nobody incremented)."""
    return samples(text).get((name, frozenset(labels.items())), 0.0)
