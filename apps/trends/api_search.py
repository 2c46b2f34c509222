"""`/api/v1/search/`: hybrid (default), semantic and keyword search over items (apps/trends/search.py).

Views only validate the query string and shape the answer. ``rate_group`` names the rate limit bucket the
API's throttle applies (semantic searches cost an embedding, so they get the tighter budget).
"""

from __future__ import annotations

import unicodedata

from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.switches import SEARCH_SEMANTIC, switch_on
from apps.trends.search import (
    SearchFilters,
    SearchHit,
    SearchInputError,
    items_hybrid_search,
    items_keyword_search,
    items_semantic_search,
    search_filters_build,
)

QUERY_MAX_CHARS = 500
LIMIT_DEFAULT = 20
LIMIT_MAX = 100
_ALLOWED_WHITESPACE = {"\t", "\n", "\r"}


class SemanticSearchOff(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Semantic search is switched off (feature switch 'search.semantic'); use mode=keyword."
    default_code = "SEMANTIC_SEARCH_OFF"


class SearchParamsSerializer(serializers.Serializer):
    q = serializers.CharField(max_length=QUERY_MAX_CHARS, help_text="The query, 1-500 characters.")
    limit = serializers.IntegerField(min_value=1, max_value=LIMIT_MAX, default=LIMIT_DEFAULT)
    source = serializers.SlugField(required=False, max_length=100, help_text="Source name")
    language = serializers.RegexField(
        r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$", required=False, help_text="Language code, e.g. en"
    )
    topic = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1, help_text="Topic id")
    category = serializers.CharField(required=False, max_length=64, help_text="Category name")
    since = serializers.DateTimeField(required=False, help_text="Items published at or after (ISO 8601)")
    until = serializers.DateTimeField(required=False, help_text="Items published before (ISO 8601)")

    def validate_q(self, value: str) -> str:
        bad = sorted(
            {f"U+{ord(c):04X}" for c in value if unicodedata.category(c) == "Cc" and c not in _ALLOWED_WHITESPACE}
        )
        if bad:
            raise serializers.ValidationError(f"The query contains control characters ({', '.join(bad)}).")
        if not any(c.isalnum() for c in value):
            raise serializers.ValidationError("The query needs at least one letter or digit.")
        return value

    def validate(self, attrs: dict) -> dict:
        if attrs.get("since") and attrs.get("until") and attrs["since"] >= attrs["until"]:
            raise serializers.ValidationError({"until": "'until' must be later than 'since'."})
        return attrs


class HybridParamsSerializer(SearchParamsSerializer):
    mode = serializers.ChoiceField(choices=["hybrid", "semantic", "keyword"], default="hybrid")


def _params(request: Request, serializer_class: type[SearchParamsSerializer]) -> tuple[dict, SearchFilters]:
    serializer = serializer_class(data=request.query_params.dict())
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    try:
        filters = search_filters_build(
            source=data.get("source"),
            language=data.get("language"),
            topic_id=data.get("topic"),
            category=data.get("category"),
            since=data.get("since"),
            until=data.get("until"),
        )
    except SearchInputError as exc:
        raise ValidationError({"detail": str(exc)}) from None
    return data, filters


def _hit_data(hit: SearchHit) -> dict:
    item = hit.item
    trend = getattr(item.topic, "trend", None) if item.topic_id else None
    data = {
        "id": item.pk,
        "title": item.title,
        "url": item.url,
        "source": item.source.name,
        "language": item.language,
        "published_at": item.published_at,
        "topic_id": item.topic_id,
        "trend": {"id": trend.pk, "title": trend.title, "state": trend.state, "score": trend.score} if trend else None,
    }
    for name in ("similarity", "rank", "snippet", "match", "score"):
        if getattr(hit, name) is not None:
            data[name] = getattr(hit, name)
    if hit.ranks:
        data["ranks"] = hit.ranks
    return data


def _answer(*, query: str, mode: str, hits: list[SearchHit], **extra) -> Response:
    return Response(
        {"query": query, "mode": mode, **extra, "count": len(hits), "results": [_hit_data(h) for h in hits]}
    )


def _semantic_required() -> None:
    if not switch_on(SEARCH_SEMANTIC):
        raise SemanticSearchOff()


_TREND = inline_serializer(
    "SearchHitTrend",
    {
        "id": serializers.IntegerField(),
        "title": serializers.CharField(),
        "state": serializers.CharField(),
        "score": serializers.FloatField(),
    },
    allow_null=True,
)
_HIT_FIELDS = {
    "id": serializers.IntegerField(),
    "title": serializers.CharField(),
    "url": serializers.CharField(),
    "source": serializers.CharField(),
    "language": serializers.CharField(),
    "published_at": serializers.DateTimeField(allow_null=True),
    "topic_id": serializers.IntegerField(allow_null=True),
    "trend": _TREND,
    "similarity": serializers.FloatField(required=False, help_text="Cosine similarity (semantic)"),
    "rank": serializers.FloatField(required=False, help_text="ts_rank_cd (keyword)"),
    "snippet": serializers.CharField(
        required=False, help_text="Plain text; matched words between SEARCH_HIGHLIGHT_START/STOP markers"
    ),
    "match": serializers.ChoiceField(
        choices=["fulltext", "trigram"], required=False, help_text="trigram: found via a corrected spelling"
    ),
    "score": serializers.FloatField(required=False, help_text="Reciprocal rank fusion score (hybrid)"),
    "ranks": serializers.DictField(
        child=serializers.IntegerField(allow_null=True),
        required=False,
        help_text="1-based rank in each fused list, null where absent (hybrid)",
    ),
}
_RESULTS = inline_serializer(
    "SearchResults",
    {
        "query": serializers.CharField(),
        "mode": serializers.ChoiceField(choices=["hybrid", "semantic", "keyword"]),
        "semantic": serializers.BooleanField(
            required=False, help_text="Hybrid: false when semantic search is switched off (keyword results only)"
        ),
        "count": serializers.IntegerField(),
        "results": inline_serializer("SearchHit", _HIT_FIELDS, many=True),
    },
)
_ERROR = inline_serializer(
    "SearchError",
    {"error": serializers.CharField(), "detail": serializers.JSONField(), "code": serializers.CharField()},
)
_ERRORS = {
    400: OpenApiResponse(_ERROR, description="Empty, over-long (> 500 characters) or invalid query or filters"),
    429: OpenApiResponse(_ERROR, description="Rate limit exceeded (see Retry-After)"),
}
_SEMANTIC_OFF = {503: OpenApiResponse(_ERROR, description="Semantic search is switched off")}


class SemanticSearchView(APIView):
    """Items closest in meaning to the query (cosine similarity of sentence embeddings)."""

    rate_group = "semantic"

    @extend_schema(
        operation_id="search_semantic",
        parameters=[SearchParamsSerializer],
        responses={200: _RESULTS, **_ERRORS, **_SEMANTIC_OFF},
    )
    def get(self, request: Request) -> Response:
        data, filters = _params(request, SearchParamsSerializer)
        _semantic_required()
        hits = items_semantic_search(query=data["q"], filters=filters, limit=data["limit"])
        return _answer(query=data["q"], mode="semantic", hits=hits)


class KeywordSearchView(APIView):
    """Items containing the query's words (web-search syntax: "a phrase", or, -word), with snippets; misspelled
    words fall back to look-alike title words."""

    rate_group = "keyword"

    @extend_schema(
        operation_id="search_keyword", parameters=[SearchParamsSerializer], responses={200: _RESULTS, **_ERRORS}
    )
    def get(self, request: Request) -> Response:
        data, filters = _params(request, SearchParamsSerializer)
        hits = items_keyword_search(query=data["q"], filters=filters, limit=data["limit"])
        return _answer(query=data["q"], mode="keyword", hits=hits)


class SearchView(APIView):
    """Hybrid search (reciprocal rank fusion of semantic and keyword results) or one of them by ``mode``.
    With semantic search switched off, hybrid answers from keyword search alone (``semantic: false``)."""

    rate_group = "semantic"

    @extend_schema(
        operation_id="search",
        parameters=[HybridParamsSerializer],
        responses={200: _RESULTS, **_ERRORS, **_SEMANTIC_OFF},
    )
    def get(self, request: Request) -> Response:
        data, filters = _params(request, HybridParamsSerializer)
        query, limit, mode = data["q"], data["limit"], data["mode"]
        if mode == "keyword":
            return _answer(query=query, mode=mode, hits=items_keyword_search(query=query, filters=filters, limit=limit))
        if mode == "semantic":
            _semantic_required()
            return _answer(
                query=query, mode=mode, hits=items_semantic_search(query=query, filters=filters, limit=limit)
            )
        semantic = switch_on(SEARCH_SEMANTIC)
        hits = items_hybrid_search(query=query, filters=filters, limit=limit, semantic=semantic)
        return _answer(query=query, mode=mode, hits=hits, semantic=semantic)


urlpatterns = [
    path("", SearchView.as_view(), name="search"),
    path("semantic", SemanticSearchView.as_view(), name="search-semantic"),
    path("keyword", KeywordSearchView.as_view(), name="search-keyword"),
]
