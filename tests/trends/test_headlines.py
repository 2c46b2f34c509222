"""Headlines cleaned for reading: wire prefixes and publisher tails go, attributions and content stay."""

import pytest

from apps.trends.headlines import headline_clean, headline_sentence


@pytest.mark.parametrize(
    ("title", "publisher", "expected"),
    [
        ("UPDATE 1-ECB holds rates steady - Reuters", "", "ECB holds rates steady"),
        ("RPT-UPDATE 2-Fed minutes show split", "", "Fed minutes show split"),
        ("Apple unveils iPhone 6 | BBC News", "", "Apple unveils iPhone 6"),
        (
            "Herbalife shares fall after FTC probe - The Wall Street Journal",
            "",
            "Herbalife shares fall after FTC probe",
        ),
        (
            "Ebola outbreak spreads to Liberia - business insider",
            "business insider",
            "Ebola outbreak spreads to Liberia",
        ),
        # Lower-case tails are attributions, colons inside are part of the headline.
        ("ECB unlikely to end sterilisation - traders", "", "ECB unlikely to end sterilisation - traders"),
        ("GM recall: What you need to know", "", "GM recall: What you need to know"),
        ("Reuters - Markets", "", "Reuters - Markets"),
    ],
)
def test_headline_clean(title, publisher, expected):
    assert headline_clean(title, publisher=publisher) == expected


def test_headline_sentence_capitalises_and_ends_with_a_stop():
    assert headline_sentence("shares slide in Tokyo") == "Shares slide in Tokyo."
    assert headline_sentence("iPhone sales beat forecasts") == "iPhone sales beat forecasts."
    assert headline_sentence("Is this the end?") == "Is this the end?"
