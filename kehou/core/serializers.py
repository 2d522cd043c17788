"""Serializer pieces every app's API shares: strict bodies and fields, references, local times."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from kehou.core.error_codes import ErrorCode


class StrictSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Refuses fields it does not know (``unknown_field``) and non-object bodies (``invalid``)."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"__all__": [serializers.ErrorDetail(_("Expected a JSON object."), code=ErrorCode.INVALID)]}
            )
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name: [serializers.ErrorDetail(_("Unknown field."), code=ErrorCode.UNKNOWN_FIELD)] for name in unknown}
            )
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: strings, booleans and floats are refused (``invalid``)."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)  # type: ignore[no-any-return]


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean: ``"true"``, ``1`` and the like are refused (``invalid``)."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class ReasonField(serializers.CharField):
    """A reason the service insists on: a blank one (or none, where the body defaults it to blank) is answered by
    the service's own ``reason_required``, so the field lets it through. The schema says what the service takes:
    present, with a visible character (kehou.core.openapi)."""


def local_time(value: Any) -> Any:
    """An aware time in Asia/Shanghai (the platform answers in local time where a view builds the answer)."""
    return timezone.localtime(value) if value is not None else None


class SchoolRefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class NamedRefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class EmptySerializer(StrictSerializer):
    """No body (or ``{}``)."""
