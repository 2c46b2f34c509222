from apps.trends.models import Item
from apps.trends.pipeline.context import StageContext
from apps.trends.pipeline.normalise import (
    TEXT_MAX_CHARS,
    TITLE_MAX_CHARS,
    content_hash,
    normalise,
    text_clean,
    url_canonical,
)

from .conftest import T0


def _normalised(**fields) -> Item:
    item = Item(**fields)
    normalise([item], StageContext(as_of=T0))
    return item


def test_stored_text_is_text_and_never_stripped_again():
    # Ingest stripped markup and decoded entities once; what is stored is text, whatever it looks like.
    item = _normalised(title="<script> tags  found in\tnpm package", text="Use &lt;b&gt; and <p>\n\nthen")
    assert item.title == "<script> tags found in npm package"
    assert item.text == "Use &lt;b&gt; and <p> then"


def test_canonical_url_drops_tracking_parameters_fragment_and_case():
    url = "HTTPS://Example.COM:443/News/Story/?utm_source=tw&b=2&fbclid=zz&a=1#comments"
    assert url_canonical(url) == "https://example.com/News/Story?a=1&b=2"


def test_canonical_url_rejects_what_is_not_a_web_address():
    assert url_canonical("javascript:alert(1)") == ""
    assert url_canonical("") == ""
    assert url_canonical("http://[broken") == ""


def test_content_hash_ignores_case_punctuation_and_spacing():
    assert content_hash("ECB unlikely to end SMP - traders", "") == content_hash("ecb unlikely to end smp: traders", "")
    assert content_hash("one story", "") != content_hash("another story", "")


def test_empty_title_falls_back_to_text():
    assert _normalised(title="", text="Only a body here").title == "Only a body here"
    assert _normalised(title="   ", text="").title == "(untitled)"


def test_five_megabyte_text_is_capped():
    item = _normalised(title="Big", text="word " * 1_000_000)
    assert len(item.text) <= TEXT_MAX_CHARS
    assert len(_normalised(title="t" * 5000).title) == TITLE_MAX_CHARS


def test_characters_postgresql_cannot_store_are_removed():
    undecodable = b"caf\xe9 \xff news".decode("utf-8", "surrogateescape")
    cleaned = text_clean(f"nul\x00byte {undecodable} \x07bell", max_chars=100)
    assert "\x00" not in cleaned and "\x07" not in cleaned
    cleaned.encode("utf-8")  # no lone surrogates left


def test_emoji_cjk_and_right_to_left_text_survive():
    for title in ["Rocket launch 🚀 today", "東京で大規模な地震", "زلزال قوي يضرب المدينة", "רעידת אדמה חזקה"]:
        assert _normalised(title=title).title == title
