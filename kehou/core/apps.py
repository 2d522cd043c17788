from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kehou.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from . import (
            openapi,  # noqa: F401  (registers the OpenAPI authentication extensions)
            sqlite,
        )

        sqlite.connect()
