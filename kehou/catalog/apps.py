from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "kehou.catalog"
    label = "catalog"
    verbose_name = _("Libraries and review")
