from __future__ import annotations

from rest_framework import serializers

from .models import Region, School


class DistrictBriefSerializer(serializers.ModelSerializer[Region]):
    class Meta:
        model = Region
        fields = ["id", "code", "name", "kind"]


class DistrictSerializer(serializers.ModelSerializer[Region]):
    school_count = serializers.IntegerField(read_only=True)
    joined_count = serializers.IntegerField(read_only=True)
    pupil_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Region
        fields = ["id", "code", "name", "kind", "school_count", "joined_count", "pupil_count"]


class SchoolSerializer(serializers.ModelSerializer[School]):
    district = DistrictBriefSerializer(read_only=True)
    has_joined = serializers.BooleanField(read_only=True)
    pupil_count = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = School
        fields = [
            "id",
            "code",
            "name",
            "stage",
            "authority",
            "district",
            "address",
            "latitude",
            "longitude",
            "checkin_radius_m",
            "joined_at",
            "has_joined",
            "pupil_count",
        ]


class RegionRefSerializer(serializers.ModelSerializer[Region]):
    """A region as other apps' answers refer to it."""

    class Meta:
        model = Region
        fields = ["id", "code", "name", "kind"]
