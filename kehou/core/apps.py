from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kehou.core"
    label = "core"
    verbose_name = "Core"
