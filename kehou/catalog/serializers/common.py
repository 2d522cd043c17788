"""Limits and shapes the catalog serializers share."""

from __future__ import annotations

from rest_framework import serializers

MAX_FEN = 2**31 - 1


SMALL = 32767


LIBRARY_CHOICES = [("city", "city library"), ("district", "the submitter's own district library")]


class NamedSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    name = serializers.CharField()
