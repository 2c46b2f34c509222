"""One contract for every "kind": collectors and channel transports declare their config in apps.core.config_spec,
and masking, restoring, the admin form and the API serializer all follow that declaration."""

import ast
from pathlib import Path
from typing import ClassVar

import pytest
from django.core.exceptions import ValidationError

from apps.alerts import transports
from apps.alerts.channel_config import channel_config_masked, channel_config_restore, channel_config_validate
from apps.alerts.serializers import ChannelSerializer
from apps.alerts.transports import TRANSPORTS, Transport, transport_class
from apps.core.config_secrets import MASK
from apps.core.config_spec import ConfigField, ConfiguredKind
from apps.plugins.collectors import COLLECTORS, collector_class

ROOT = Path(__file__).resolve().parents[2]


class PagerTransport(Transport):
    """A kind made for this test: one module (this one) plus one registry line."""

    kind = "pager"
    title = "Pager"
    fields: ClassVar = (
        ConfigField("url", str, help="where pages go"),
        ConfigField("api_key", str, secret=True),
        ConfigField("priority", int, default=3, min=1, max=5),
    )
    example = '{"url": "https://pager.example.com", "api_key": "..."}'

    def send(self, message):
        return None


@pytest.fixture
def pager_kind(monkeypatch):
    monkeypatch.setitem(TRANSPORTS, "pager", f"{__name__}.PagerTransport")
    return "pager"


def test_every_collector_and_every_transport_is_a_configured_kind():
    kinds = [collector_class(kind) for kind in COLLECTORS] + [transport_class(kind) for kind in TRANSPORTS]
    assert all(issubclass(kind, ConfiguredKind) for kind in kinds)
    assert {transport_class(kind).label for kind in TRANSPORTS} == {"Channel"}
    assert {collector_class(kind).label for kind in COLLECTORS} == {"Source"}


def test_a_new_channel_kind_is_one_module_plus_one_registry_line(pager_kind):
    assert ("pager", "Pager") in transports.channel_kind_choices()
    with pytest.raises(ValidationError) as caught:
        channel_config_validate(kind=pager_kind, name="p", config={"priority": 9, "api_key": 7})
    assert caught.value.messages == [
        "Channel 'p' config: 'url' is required (where pages go)",
        "Channel 'p' config: 'api_key' must be a string",
        "Channel 'p' config: 'priority' must be 1–5, got 9",
    ]
    stored = {"url": "https://pager.example.com", "api_key": "k-0123456789"}
    assert channel_config_validate(kind=pager_kind, name="p", config=stored) == {**stored, "priority": 3}
    assert channel_config_masked(kind=pager_kind, config=stored) == {"url": stored["url"], "api_key": MASK}
    shown = {"url": stored["url"], "api_key": MASK}
    assert channel_config_restore(name="p", kind=pager_kind, config=shown, stored=stored) == stored
    # The declared destination: the kept key may not follow a changed host.
    with pytest.raises(ValidationError) as moved:
        channel_config_restore(
            name="p", kind=pager_kind, config={**shown, "url": "https://evil.example.net"}, stored=stored
        )
    assert "re-enter api_key" in moved.value.messages[0]


@pytest.mark.django_db
def test_the_serializer_mixin_masks_and_keeps_a_new_kinds_secret(pager_kind):
    serializer = ChannelSerializer(
        data={"name": "pager", "kind": pager_kind, "config": {"url": "https://pager.example.com", "api_key": "k" * 12}}
    )
    assert serializer.is_valid(), serializer.errors
    channel = serializer.save()
    assert ChannelSerializer(channel).data["config"] == {"url": "https://pager.example.com", "api_key": MASK}
    update = ChannelSerializer(
        channel, data={"config": {"url": "https://pager.example.com", "api_key": MASK}}, partial=True
    )
    assert update.is_valid(), update.errors
    assert update.save().config["api_key"] == "k" * 12


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    names |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return names


def test_channel_config_and_transports_do_not_import_plugins():
    modules = [
        ROOT / "apps/alerts/channel_config.py",
        ROOT / "apps/alerts/serializers.py",
        ROOT / "apps/alerts/admin.py",
        *sorted((ROOT / "apps/alerts/transports").glob("*.py")),
    ]
    offenders = {path.name for path in modules if any(name.startswith("apps.plugins") for name in _imports(path))}
    assert offenders == set()


def test_http_transports_share_one_send():
    from apps.alerts.transports.base import JsonPostTransport

    for kind in ("slack", "webhook"):
        cls = transport_class(kind)
        assert issubclass(cls, JsonPostTransport) and "send" not in vars(cls)
