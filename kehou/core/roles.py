"""The roles a person may hold, as values (the scope, the permission check and the people app share them)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    SUPERUSER = "superuser", _("Platform superuser")
    CITY_ADMIN = "city_admin", _("City bureau")
    DISTRICT_ADMIN = "district_admin", _("District bureau")
    SCHOOL_ADMIN = "school_admin", _("School")
    TEACHER = "teacher", _("Teacher")
    PARENT = "parent", _("Parent")
    OPERATOR_STAFF = "operator_staff", _("Operator")
    EXPERT = "expert", _("Expert")
