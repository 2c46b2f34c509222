"""Admin form pieces shared by the apps: a JSON ``config`` whose credentials never reach the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError


class MaskedConfigFormMixin:
    """For a ModelForm with ``name``, ``kind`` and a JSON ``config``: credentials show as a mask, sending the
    mask back keeps the stored value, and the restored config is validated for the chosen kind.

    Subclasses name the kind's three services (as ``staticmethod``s): mask, restore and validate.
    """

    config_mask: Callable[..., Any]
    config_restore: Callable[..., Any]
    config_validate: Callable[..., Any]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["config"] = self.config_mask(kind=self.instance.kind, config=self.instance.config)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") and "config" in cleaned:
            name = cleaned.get("name", "")
            try:
                # The instance still holds the stored config here: the form copies onto it after clean().
                cleaned["config"] = self.config_restore(
                    name=name, kind=cleaned["kind"], config=cleaned["config"], stored=self.instance.config
                )
                self.config_validate(kind=cleaned["kind"], name=name, config=cleaned["config"])
            except ValidationError as exc:
                self.add_error("config", exc)
        return cleaned
