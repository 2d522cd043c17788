from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TeachingConfig(AppConfig):
    name = "kehou.teaching"
    label = "teaching"
    verbose_name = _("Teaching platform")
