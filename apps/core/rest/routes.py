"""Every local app adds its endpoints to the one /api/v1/ router: ``apps/<app>/api.py`` (and any
``apps/<app>/api_<part>.py``) defines ``register(router) -> None``; this module finds and calls them."""

from __future__ import annotations

import importlib
import pkgutil

from django.apps import apps
from rest_framework.routers import DefaultRouter


def api_modules() -> list[str]:
    """Dotted names of the API modules of the local apps (``apps.*``), in INSTALLED_APPS order."""
    names = []
    for config in apps.get_app_configs():
        if not config.name.startswith("apps."):
            continue
        for module in pkgutil.iter_modules([config.path]):
            if module.name == "api" or module.name.startswith("api_"):
                names.append(f"{config.name}.{module.name}")
    return names


def api_router() -> DefaultRouter:
    """The /api/v1/ router with every app's endpoints registered."""
    router = DefaultRouter()
    for name in api_modules():
        register = getattr(importlib.import_module(name), "register", None)
        if register is not None:
            register(router)
    return router
