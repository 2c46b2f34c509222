"""/api/v1/me/…: any signed-in user's own watchlists, channels and matches. Another user's ids answer 404."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from apps.alerts.models import Channel, Watchlist, WatchMatch
from apps.alerts.serializers_me import MyChannelSerializer, WatchlistSerializer, WatchMatchSerializer
from apps.alerts.services import channel_test_send
from apps.alerts.transports import TransportError


class MyChannelViewSet(viewsets.ModelViewSet):
    serializer_class = MyChannelSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self) -> QuerySet[Channel]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return Channel.objects.none()
        return Channel.objects.filter(user=self.request.user).order_by("name")

    def perform_create(self, serializer: MyChannelSerializer) -> None:
        serializer.save(user=self.request.user)

    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str | None = None) -> Response:
        """Send me a test message through this channel now."""
        channel = self.get_object()
        try:
            channel_test_send(channel=channel)
        except TransportError as exc:
            return Response({"sent": False, "error": exc.message}, status=status.HTTP_502_BAD_GATEWAY)
        return Response({"sent": True})


class WatchlistViewSet(viewsets.ModelViewSet):
    serializer_class = WatchlistSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self) -> QuerySet[Watchlist]:
        if getattr(self, "swagger_fake_view", False):
            return Watchlist.objects.none()
        return Watchlist.objects.filter(user=self.request.user).prefetch_related("channels").order_by("name")

    def perform_create(self, serializer: WatchlistSerializer) -> None:
        serializer.save(user=self.request.user)


class WatchMatchViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = WatchMatchSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self) -> QuerySet[WatchMatch]:
        if getattr(self, "swagger_fake_view", False):
            return WatchMatch.objects.none()
        return WatchMatch.objects.filter(watchlist__user=self.request.user).order_by("-id")


def register(router: BaseRouter) -> None:
    router.register("me/watchlists", WatchlistViewSet, basename="me-watchlist")
    router.register("me/channels", MyChannelViewSet, basename="me-channel")
    router.register("me/matches", WatchMatchViewSet, basename="me-match")
