from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "kehou.people"
    label = "people"
    verbose_name = _("People")

    def ready(self) -> None:
        from kehou.core.scope import register_scope_builder

        from .selectors import build_scope

        register_scope_builder(build_scope)
