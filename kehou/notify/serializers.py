from __future__ import annotations

from typing import Any

from rest_framework import serializers

from kehou.core.serializers import StrictIntegerField, StrictSerializer


class NotificationSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    link = serializers.CharField()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True, help_text="the read receipt: when the person read it")
    important = serializers.BooleanField(help_text="wants a read receipt; sent by SMS when still unread in time")
    count = serializers.IntegerField(help_text="how many occurrences it stands for (a session's comments are one)")


class NotificationReadSerializer(StrictSerializer):
    ids = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=500,
        help_text="the notifications to mark read; all unread ones when left out",
    )


class NotificationReadResultSerializer(serializers.Serializer[Any]):
    marked = serializers.IntegerField()
