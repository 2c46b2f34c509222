"""Watchlist keywords in the keyword search's syntax (quotes, ``-term``, ``or``), evaluated in Python.

PostgreSQL parses: ``websearch_to_tsquery('english', keyword)`` is the very parser ``/search/?mode=keyword``
uses, so a keyword means the same thing in both places (stemming, stop words, phrases). Its text form
(``'climat' <-> 'chang' & !'sport'``) is stored on the watchlist when it is saved and parsed here once per
process; events are turned into lexemes with positions by ``to_tsvector('english', …)`` once per batch. Matching
10,000 watchlists then needs no query per (watchlist, event).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from django.db import connection

TS_CONFIG = "english"
_TOKEN = re.compile(r"\s*(?:'((?:[^']|'')*)'(?::[A-Z*]+)?|(<->|<\d+>)|([&|!()]))")

# A document: lexeme -> positions (1-based, as to_tsvector counts them).
Document = dict[str, frozenset[int]]


@dataclass(frozen=True)
class Node:
    op: str  # "lex", "not", "and", "or", "phrase"
    value: str = ""  # the lexeme of "lex"
    distance: int = 1  # "phrase": right starts ``distance`` positions after left
    left: Node | None = None
    right: Node | None = None


class _Parser:
    """tsquery text -> Node; precedence (loosest first): ``|``, ``&``, ``<N>``, ``!``."""

    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        position = 0
        while position < len(text.rstrip()):
            match = _TOKEN.match(text, position)
            if not match:
                raise ValueError(f"unreadable tsquery {text!r} at {position}")
            lexeme, phrase, op = match.groups()
            if lexeme is not None:
                self.tokens.append(("lex", lexeme.replace("''", "'")))
            else:
                self.tokens.append(("op", phrase or op))
            position = match.end()
        self.at = 0

    def _peek(self) -> str | None:
        return self.tokens[self.at][1] if self.at < len(self.tokens) and self.tokens[self.at][0] == "op" else None

    def parse(self) -> Node | None:
        if not self.tokens:
            return None
        node = self._or()
        if self.at != len(self.tokens):
            raise ValueError("trailing tokens in tsquery")
        return node

    def _or(self) -> Node:
        node = self._and()
        while self._peek() == "|":
            self.at += 1
            node = Node("or", left=node, right=self._and())
        return node

    def _and(self) -> Node:
        node = self._phrase()
        while self._peek() == "&":
            self.at += 1
            node = Node("and", left=node, right=self._phrase())
        return node

    def _phrase(self) -> Node:
        node = self._not()
        while (op := self._peek()) and op.startswith("<"):
            self.at += 1
            distance = 1 if op == "<->" else int(op[1:-1])
            node = Node("phrase", distance=distance, left=node, right=self._not())
        return node

    def _not(self) -> Node:
        if self._peek() == "!":
            self.at += 1
            return Node("not", left=self._not())
        if self._peek() == "(":
            self.at += 1
            node = self._or()
            if self._peek() != ")":
                raise ValueError("unbalanced parentheses in tsquery")
            self.at += 1
            return node
        kind, value = self.tokens[self.at]
        if kind != "lex":
            raise ValueError(f"unexpected {value!r} in tsquery")
        self.at += 1
        return Node("lex", value=value)


@lru_cache(maxsize=65536)
def tsquery_parse(text: str) -> Node | None:
    """The tree of a tsquery's text form; None for an empty query (a keyword of stop words only)."""
    return _Parser(text).parse()


def _positions(node: Node, document: Document) -> frozenset[int]:
    """Where ``node`` matches (the position of its last lexeme), for phrase operands."""
    if node.op == "lex":
        return document.get(node.value, frozenset())
    if node.op == "phrase":
        left = _positions(node.left, document)
        return frozenset(p for p in _positions(node.right, document) if p - node.distance in left)
    # "and"/"or"/"not" inside a phrase: PostgreSQL is subtler; treating them as "anywhere" errs on matching.
    if not node_matches(node, document):
        return frozenset()
    return frozenset(p for positions in document.values() for p in positions)


def node_matches(node: Node | None, document: Document) -> bool:
    """True when the document satisfies the query; an empty query matches nothing."""
    if node is None:
        return False
    if node.op == "lex":
        return node.value in document
    if node.op == "not":
        return not node_matches(node.left, document)
    if node.op == "and":
        return node_matches(node.left, document) and node_matches(node.right, document)
    if node.op == "or":
        return node_matches(node.left, document) or node_matches(node.right, document)
    return bool(_positions(node, document))


def required_lexemes(node: Node | None) -> frozenset[str] | None:
    """Lexemes of which a matching document must hold at least one, or None when no such set exists
    (a pure negation matches documents without any word of it). Used to index watchlists by word."""
    if node is None:
        return frozenset()
    if node.op == "lex":
        return frozenset([node.value])
    if node.op == "not":
        return None
    if node.op == "or":
        left, right = required_lexemes(node.left), required_lexemes(node.right)
        return None if left is None or right is None else left | right
    left, right = required_lexemes(node.left), required_lexemes(node.right)  # and, phrase: either side suffices
    if left is None:
        return right
    if right is None:
        return left
    return min(left, right, key=len)


def keywords_tsqueries(keywords: list[str]) -> list[str]:
    """Each keyword parsed by PostgreSQL's websearch_to_tsquery (the keyword search's parser), as text."""
    if not keywords:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT websearch_to_tsquery(%s::regconfig, k)::text FROM unnest(%s::text[]) WITH ORDINALITY AS t(k, n)"
            " ORDER BY n",
            [TS_CONFIG, list(keywords)],
        )
        return [row[0] for row in cursor.fetchall()]


def documents_lexemes(texts: list[str]) -> list[Document]:
    """``to_tsvector('english', text)`` of each text as lexeme -> positions, in one query."""
    documents: list[Document] = [{} for _ in texts]
    if not texts:
        return documents
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT d.n, v.lexeme, v.positions FROM unnest(%s::text[]) WITH ORDINALITY AS d(doc, n),"
            " unnest(to_tsvector(%s::regconfig, d.doc)) AS v",
            [list(texts), TS_CONFIG],
        )
        for n, lexeme, positions in cursor.fetchall():
            documents[n - 1][lexeme] = frozenset(positions or ())
    return documents
