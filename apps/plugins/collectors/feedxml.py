"""Feed documents checked by a real XML parser before feedparser reads them, with entities never expanded.

The bytes are decoded exactly as feedparser decodes them (its own ``convert_to_utf8``: BOMs, UTF-16/32
without BOM, EBCDIC, the HTTP charset), so no encoding hides anything from the check. expat then reads the
UTF-8 text with entity expansion off (a default handler is set) and external entities never loaded, and
refuses what only an attacker writes: an entity defined by other entities (billion laughs), a reference to an
external entity (XXE), references that would expand to more than ``MAX_EXPANSION`` characters, and elements
nested deeper than ``MAX_DEPTH``. A DOCTYPE that merely declares entities is fine; it is cut out of what
feedparser parses, so no entity is ever expanded: a reference stays as the literal text ``&name;``.
"""

from __future__ import annotations

import io
import re
from typing import Any
from xml.parsers import expat

import feedparser
from feedparser.encodings import convert_to_utf8, parse_content_type
from feedparser.sanitizer import RE_ENTITY_PATTERN

from apps.core.http import FetchError

# Real feeds nest a dozen elements (Atom with XHTML content a few dozen); deeper is an attack on memory.
MAX_DEPTH = 256
# What the entity references of one document could expand to if a parser did expand them.
MAX_EXPANSION = 1_000_000
# An entity's replacement text that refers to another entity: the building block of billion laughs.
_ENTITY_REFERENCE = re.compile(r"[&%][A-Za-z_:][\w.:-]*;")
# For documents expat cannot read to the end (ill-formed feeds feedparser still recovers): a rough count of
# open elements, skipping comments, CDATA and HTML's empty elements, which unescaped markup never closes.
_TAG = re.compile(rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<(/?)([A-Za-z_][\w.:-]*)[^<>]*?(/?)>", re.DOTALL)
_VOID_ELEMENTS = frozenset(b"area base br col embed hr img input keygen link meta param source track wbr".split())


class _Refused(Exception):
    pass


class _Guard:
    """One expat pass over the UTF-8 document; records where the DOCTYPE is and raises _Refused for attacks."""

    def __init__(self, document: bytes) -> None:
        self.document = document
        self.depth = 0
        self.expansion = 0
        self.internal: dict[str, int] = {}
        self.external: set[str] = set()
        self.doctype: tuple[int, int] | None = None
        self.complete = False
        self.parser = expat.ParserCreate()
        self.parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.parser.buffer_text = True
        # A default handler turns off the expansion of internal entities: their references are reported.
        self.parser.DefaultHandler = lambda data: None
        self.parser.CharacterDataHandler = lambda data: None
        self.parser.StartDoctypeDeclHandler = self._doctype_start
        self.parser.EndDoctypeDeclHandler = self._doctype_end
        self.parser.EntityDeclHandler = self._entity_declared
        self.parser.SkippedEntityHandler = self._entity_used
        self.parser.ExternalEntityRefHandler = self._external_used
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end

    def run(self) -> None:
        try:
            self.parser.Parse(self.document, True)
        except expat.ExpatError:
            return  # ill-formed: feedparser's lenient parser takes over; see feed_document_parse
        self.complete = True

    def _doctype_start(self, *args: Any) -> None:
        # expat reports the position after the DOCTYPE's name; the keyword is the last one before it.
        self.doctype = (self.document.rfind(b"<!DOCTYPE", 0, self.parser.CurrentByteIndex + 1), -1)

    def _doctype_end(self) -> None:
        if self.doctype is not None:
            end = self.document.find(b">", self.parser.CurrentByteIndex)
            self.doctype = (self.doctype[0], end + 1 if end >= 0 else len(self.document))

    def _entity_declared(
        self, name: str, is_parameter: int, value: str | None, base: Any, system_id: str | None, *rest: Any
    ) -> None:
        if value is not None and _ENTITY_REFERENCE.search(value):
            raise _Refused(f"defines the entity '{name}' by other entities; refused as a possible XML bomb")
        if is_parameter:
            return  # never loaded (parameter entity parsing is off) and not usable in content
        if value is None:
            self.external.add(name)
        else:
            self.internal[name] = len(value)

    def _entity_used(self, name: str, is_parameter: int) -> None:
        if name in self.external:
            raise _Refused(f"refers to the external entity '{name}'; external entities are never loaded")
        self.expansion += self.internal.get(name, 0)
        if self.expansion > MAX_EXPANSION:
            raise _Refused(
                f"uses entities that would expand to more than {MAX_EXPANSION:,} characters; "
                "refused as a possible XML bomb"
            )

    def _external_used(self, context: Any, base: Any, system_id: str | None, public_id: str | None) -> int:
        raise _Refused(f"refers to an external entity ({system_id or public_id}); external entities are never loaded")

    def _start(self, name: str, attributes: Any) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Refused(f"nests elements deeper than {MAX_DEPTH} levels; refused")

    def _end(self, name: str) -> None:
        self.depth -= 1


def _rough_depth_check(document: bytes) -> None:
    depth = 0
    for match in _TAG.finditer(document):
        closing, name, empty = match.groups()
        if name is None or empty or name.lower() in _VOID_ELEMENTS:
            continue
        depth = depth - 1 if closing else depth + 1
        if depth > MAX_DEPTH:
            raise _Refused(f"nests elements deeper than {MAX_DEPTH} levels; refused")


def _without_entity_declarations(document: bytes, doctype: tuple[int, int] | None) -> bytes:
    if doctype is not None and 0 <= doctype[0] < doctype[1]:
        return document[: doctype[0]] + document[doctype[1] :]
    # expat did not read the DOCTYPE through: take out every declaration feedparser itself would honour
    # (its own pattern, in the part before the root element where it looks), so its fallback expands nothing.
    root = re.search(rb"<\w", document)
    split = root.start() + 1 if root else len(document)
    head = RE_ENTITY_PATTERN.sub(b"", document[:split])
    return head + document[split:]


def feed_document_parse(content: bytes, *, url: str, content_type: str = "") -> feedparser.FeedParserDict:
    """feedparser's result for a feed document that passed the XML guard; entities are never expanded.

    Raises FetchError (permanent) for an XML bomb, an external entity or absurd nesting; an empty document
    is a (temporary) FetchError too.
    """
    if not content.strip():
        raise FetchError(f"feed {url} is empty")
    headers = {"content-type": content_type} if content_type else {}
    decoding: dict[str, Any] = {}
    document = convert_to_utf8(headers, content, decoding)
    guard = _Guard(document)
    try:
        guard.run()
        if not guard.complete:
            _rough_depth_check(document)
    except _Refused as refused:
        raise FetchError(f"feed {url} {refused}", permanent=True) from None
    document = _without_entity_declarations(document, guard.doctype)
    if decoding.get("encoding"):
        # Already UTF-8 (and declared so): the HTTP charset must not make feedparser decode it again.
        mime, _charset = parse_content_type(content_type)
        headers = {"content-type": f"{mime}; charset=utf-8"} if mime else {}
    return feedparser.parse(
        io.BytesIO(document), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
