"""The feed XML guard: a real parser, whatever the encoding, refuses bombs and external entities and never
expands an entity; feeds that merely declare entities are read; absurd nesting fails fast."""

import time
import tracemalloc

import pytest

from apps.core.http import FetchError
from apps.plugins.collectors.feedxml import MAX_DEPTH
from apps.plugins.collectors.rss import feed_parse
from apps.plugins.models import CollectionRun
from apps.plugins.services import source_collect
from apps.trends.models import Item
from tests.plugins.conftest import fixture_bytes
from tests.plugins.factories import SourceFactory

URL = "http://feeds.example/feed"
ITEM = "<item><title>{title}</title><guid>g1</guid><description>{text}</description></item>"


def _feed(doctype: str, *, title: str = "Plain title", text: str = "Plain text", encoding: str = "utf-8") -> bytes:
    document = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n{doctype}\n'
        f'<rss version="2.0"><channel><title>t</title>{ITEM.format(title=title, text=text)}</channel></rss>'
    )
    return document.encode(encoding)


BILLION_LAUGHS = (
    '<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
)
# The same bomb with its inner references written as character references, so no '&name;' appears in the
# bytes: only a parser sees that the replacement text of 'b' refers to 'a'.
ESCAPED_LAUGHS = (
    '<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&#38;a;&#38;a;&#38;a;&#38;a;&#38;a;&#38;a;">'
    '<!ENTITY c "&#38;b;&#38;b;&#38;b;&#38;b;&#38;b;&#38;b;">]>'
)
EXTERNAL = '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
INTERNAL = '<!DOCTYPE rss [<!ENTITY pwn "EXPANDED-INTO-THE-TITLE">]>'
# Encodings a byte search would not see through: UTF-16/32 big-endian without a BOM and EBCDIC.
ENCODINGS = ["utf-8", "utf-16-be", "utf-16-le", "utf-16", "utf-32-be", "utf-32", "cp037"]


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("doctype", [BILLION_LAUGHS, ESCAPED_LAUGHS], ids=["laughs", "escaped-laughs"])
def test_billion_laughs_is_refused_in_any_encoding(doctype, encoding):
    with pytest.raises(FetchError, match="possible XML bomb") as info:
        feed_parse(_feed(doctype, title="&d;" if doctype == BILLION_LAUGHS else "&c;", encoding=encoding), url=URL)
    assert info.value.permanent


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_external_entity_is_refused_in_any_encoding(encoding):
    with pytest.raises(FetchError, match="external entit") as info:
        feed_parse(_feed(EXTERNAL, title="&xxe;", encoding=encoding), url=URL)
    assert info.value.permanent


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_internal_entity_is_never_expanded_in_any_encoding(encoding):
    drafts, _warning = feed_parse(_feed(INTERNAL, title="Leak &pwn; here", text="&pwn;", encoding=encoding), url=URL)
    (draft,) = drafts
    assert "EXPANDED" not in draft.title and "EXPANDED" not in draft.text
    assert draft.title.startswith("Leak") and draft.title.endswith("here")


def test_one_large_entity_used_many_times_is_refused():
    doctype = '<!DOCTYPE rss [<!ENTITY big "' + "x" * 50_000 + '">]>'
    with pytest.raises(FetchError, match="would expand to more than 1,000,000 characters"):
        feed_parse(_feed(doctype, text="&big;" * 100), url=URL)


@pytest.mark.parametrize(
    ("fixture", "title"),
    [("entity_in_doctype.xml", "Powers of two"), ("doctype_contains_entity_decl.xml", "test")],
)
def test_a_doctype_that_merely_declares_entities_is_read(fixture, title):
    drafts, warning = feed_parse(fixture_bytes(fixture), url=URL, content_type="application/xml")
    assert [draft.title for draft in drafts] == [title]
    assert warning == ""


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-be", "utf-32-be", "cp037"])
def test_ordinary_feed_is_read_in_any_encoding(encoding):
    drafts, warning = feed_parse(_feed("", title="Élection à Paris", encoding=encoding), url=URL)
    assert [draft.title for draft in drafts] == ["Élection à Paris"]
    assert warning == ""


def _deep(levels: int, *, closed: bool) -> bytes:
    head = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>x</title><description>'
    tail = b"</description></item></channel></rss>"
    return head + b"<a>" * levels + (b"</a>" * levels if closed else b"") + tail


@pytest.mark.parametrize("closed", [True, False], ids=["well-formed", "ill-formed"])
def test_seven_megabytes_of_nesting_fail_fast_in_bounded_memory(closed):
    document = _deep(1_000_000, closed=closed)
    assert len(document) > 3_000_000
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(FetchError, match=f"deeper than {MAX_DEPTH} levels") as info:
            feed_parse(document, url=URL)
        elapsed = time.monotonic() - started
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.permanent
    assert elapsed < 3.0, elapsed
    assert peak < 80 * 1024 * 1024, peak


def test_nesting_within_the_cap_is_read():
    drafts, _warning = feed_parse(_deep(MAX_DEPTH - 10, closed=True), url=URL)
    assert len(drafts) == 1


@pytest.mark.django_db
def test_collect_of_a_utf16be_feed_without_bom_never_expands_its_entity(httpserver):
    body = _feed(INTERNAL, title="Headline &pwn;", encoding="utf-16-be")
    httpserver.expect_request("/feed").respond_with_data(body, content_type="application/rss+xml")
    source = SourceFactory(kind="rss", config={"urls": [httpserver.url_for("/feed")]})

    run = source_collect(source=source)

    assert run.status == CollectionRun.Status.SUCCESS and run.new_count == 1
    item = Item.objects.get(source=source)
    assert "EXPANDED" not in item.title and item.title.startswith("Headline")
