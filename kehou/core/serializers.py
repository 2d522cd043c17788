from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers


class StrictSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Refuses fields it does not know (``unknown_field``) and non-object bodies (``invalid``)."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"__all__": [serializers.ErrorDetail(_("Expected a JSON object."), code="invalid")]}
            )
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name: [serializers.ErrorDetail(_("Unknown field."), code="unknown_field")] for name in unknown}
            )
        return super().to_internal_value(data)
