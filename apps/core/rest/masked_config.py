"""The serializer half of the kind contract: a JSON ``config`` whose credentials never leave the server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers


class MaskedConfigSerializerMixin:
    """For a ModelSerializer with ``name``, ``kind`` and a JSON ``config``, the admin form's rules
    (``apps.core.admin_forms.MaskedConfigFormMixin``): credentials read as a mask, sending the mask back keeps
    the stored value, and the restored config is validated for the kind.

    Subclasses name the kind's three services (as ``staticmethod``s): mask, restore and validate; and may
    override ``config_visible`` to hide the config from some callers altogether."""

    config_mask: Callable[..., Any]
    config_restore: Callable[..., Any]
    config_validate: Callable[..., Any]

    def config_visible(self) -> bool:
        return True

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        if self.config_visible():
            data["config"] = self.config_mask(kind=instance.kind, config=instance.config)
        else:
            data.pop("config", None)
        return data

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        instance = self.instance
        stored = instance.config if instance else {}
        kind = attrs.get("kind", instance.kind if instance else "")
        name = attrs.get("name", instance.name if instance else "")
        config = attrs.get("config", stored if instance else {})
        try:
            config = self.config_restore(name=name, kind=kind, config=config, stored=stored)
            self.config_validate(kind=kind, name=name, config=config)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"config": exc.messages}) from None
        attrs["config"] = config
        return attrs
