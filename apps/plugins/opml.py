"""OPML feed lists (how feed readers export subscriptions) read safely into an rss source's URLs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import parse
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.plugins.collectors import source_config_validate
from apps.plugins.collectors.rss import RSS_MAX_URLS
from apps.plugins.models import Source
from apps.trends.ingest import URL_MAX_CHARS

OPML_MAX_BYTES = 50 * 1024 * 1024


class OpmlError(Exception):
    """The file cannot be read as an OPML feed list; the message names the file and, when known, where."""


@dataclass
class OpmlFeeds:
    urls: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # xmlUrl values that are not http(s) URLs we can fetch
    duplicates: int = 0


def opml_feeds_read(*, path: Path) -> OpmlFeeds:
    """The feed URLs of every ``outline`` with an ``xmlUrl``, however deeply nested, in order, deduplicated.

    Parsed by defusedxml: entity declarations and external references are refused, not expanded.
    """
    try:
        if path.stat().st_size > OPML_MAX_BYTES:
            raise OpmlError(f"{path} is over {OPML_MAX_BYTES // 1024 // 1024} MB; not a feed list")
        root = parse(str(path), forbid_dtd=True).getroot()
    except OSError as exc:
        raise OpmlError(f"cannot read {path}: {exc.strerror}") from None
    except ParseError as exc:
        line, column = exc.position
        raise OpmlError(f"{path}, line {line}, column {column + 1}: not well-formed XML ({exc.msg})") from None
    except DefusedXmlException as exc:
        raise OpmlError(f"{path}: refused ({type(exc).__name__}): OPML needs no DTD or entities") from None
    if root.tag.lower() != "opml":
        raise OpmlError(f"{path}: the root element is <{root.tag[:40]}>, not <opml>")
    feeds, seen = OpmlFeeds(), set()
    for outline in root.iter("outline"):
        url = next((value for key, value in outline.attrib.items() if key.lower() == "xmlurl"), "").strip()
        if not url:
            continue  # a folder, or a link that is not a feed
        if not url.startswith(("http://", "https://")) or len(url) > URL_MAX_CHARS:
            feeds.refused.append(url[:200])
        elif url in seen:
            feeds.duplicates += 1
        else:
            seen.add(url)
            feeds.urls.append(url)
    return feeds


@transaction.atomic
def source_feeds_extend(*, name: str, urls: list[str], enabled: bool = True) -> tuple[Source, int, bool]:
    """Create the rss source ``name`` with ``urls``, or add the ones it lacks; (source, added, created).

    ValidationError when ``name`` is a source of another kind or the list would break the rss rules.
    """
    source = Source.objects.select_for_update().filter(name=name).first()
    if source is not None and source.kind != Source.Kind.RSS:
        raise ValidationError(f"Source '{name}' is a {source.kind} source; feed lists go into rss sources only")
    existing = list(source.config.get("urls", [])) if source and isinstance(source.config, dict) else []
    merged = list(dict.fromkeys([*existing, *urls]))
    if len(merged) > RSS_MAX_URLS:
        raise ValidationError(f"Source '{name}' would have {len(merged):,} feed URLs; at most {RSS_MAX_URLS:,}")
    config = source_config_validate(kind=Source.Kind.RSS, name=name, config={"urls": merged})
    if source is None:
        source = Source.objects.create(name=name, kind=Source.Kind.RSS, config=config, enabled=enabled)
        return source, len(merged), True
    source.config = {**source.config, **config}
    source.save(update_fields=["config", "updated_at"])
    return source, len(merged) - len(existing), False
