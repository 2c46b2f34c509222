"""Vectors in and out of raw pgvector SQL.

The pipeline's hot queries pass hundreds of 384-float vectors per batch. Django's psycopg cursors bind
parameters on the client, as text: formatting and parsing ``'[0.0123,...]'`` cost more CPU than the queries.
``vector_cursor`` binds on the server and moves vectors in pgvector's binary form (a 4-byte header and
big-endian float32s), so a numpy array is one ``tobytes`` each way.
"""

from __future__ import annotations

import struct
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import psycopg
from django.db import connection
from psycopg.adapt import Dumper, Loader
from psycopg.pq import Format
from psycopg.types import TypeInfo

_BIG_ENDIAN_FLOAT32 = np.dtype(">f4")
_vector_types: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # TypeInfo per psycopg connection


class _VectorDumper(Dumper):
    format = Format.BINARY

    def dump(self, obj: Any) -> bytes:
        vector = np.asarray(obj, dtype=_BIG_ENDIAN_FLOAT32)
        return struct.pack(">HH", vector.shape[0], 0) + vector.tobytes()


class _VectorLoader(Loader):
    format = Format.BINARY

    def load(self, data: Any) -> np.ndarray:
        return np.frombuffer(data, dtype=_BIG_ENDIAN_FLOAT32, offset=4).astype(np.float32)


@contextmanager
def vector_cursor() -> Iterator[psycopg.Cursor]:
    """A cursor on Django's connection (so inside its transaction) that sends numpy arrays as ``vector``
    parameters (a list of them as ``vector[]``, for ``unnest``) and returns ``vector`` columns as float32
    arrays. Use ``%s`` placeholders; ask for binary results with ``execute(..., binary=True)``.

    A batch is passed as one array per column and unnested: a ``VALUES`` list with a placeholder per value
    makes a query too long for psycopg's statement cache, and splitting it costs more than running it."""
    connection.ensure_connection()
    raw = connection.connection
    info = _vector_types.get(raw)
    if info is None:
        info = _vector_types[raw] = TypeInfo.fetch(raw, "vector")
    cursor = psycopg.Cursor(raw)
    info.register(cursor)
    cursor.adapters.register_dumper(np.ndarray, type("VectorDumper", (_VectorDumper,), {"oid": info.oid}))
    cursor.adapters.register_loader(info.oid, _VectorLoader)
    try:
        yield cursor
    finally:
        cursor.close()


_ITEM_VECTORS_SQL = "SELECT id, embedding FROM trends_item WHERE id = ANY(%s) AND embedding IS NOT NULL"


def items_vectors_attach(items: list[Any]) -> None:
    """Give Items loaded with ``.defer("embedding")`` their stored vectors, read in binary in one query.

    Through the ORM a vector arrives as text and is parsed float by float (~0.1 ms per 384-float vector:
    most of a 20,000-item run's database reads); an item without a stored vector gets None.
    """
    if not items:
        return
    with vector_cursor() as cursor:
        cursor.execute(_ITEM_VECTORS_SQL, [[i.pk for i in items]], binary=True)
        vectors = dict(cursor.fetchall())
    for item in items:
        item.embedding = vectors.get(item.pk)


def unit(vector: Iterable[float]) -> np.ndarray:
    """The vector scaled to length 1 (a zero vector stays zero)."""
    v = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(v))
    return v / norm if norm else v


def index_scan_prefer(cursor: Any) -> None:
    """Make the next nearest-neighbour queries in this transaction use the HNSW indexes.

    The planner picks a sequential scan plus sort on small or freshly loaded tables (stale statistics), which
    costs a full scan per query vector; and with a filter, iterative scanning keeps HNSW returning rows
    until LIMIT is met instead of stopping at ``ef_search`` candidates. Only lasts until the transaction ends.
    """
    cursor.execute("SET LOCAL enable_seqscan = off")
    cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
