from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kehou.core.scope import Scope
from kehou.core.serializers import StrictSerializer

from . import selectors
from .models import Guardian, Pupil, TeacherProfile


def _scope(serializer: serializers.Serializer[Any]) -> Scope:
    from kehou.core.scope import scope_for

    return scope_for(serializer.context["request"].user)


class GuardianSerializer(serializers.ModelSerializer[Guardian]):
    name = serializers.CharField(source="user.full_name")
    phone = serializers.SerializerMethodField()

    class Meta:
        model = Guardian
        fields = ["id", "name", "relation", "phone"]

    def get_phone(self, obj: Guardian) -> str:
        return selectors.shown_guardian_phone(scope=_scope(self), guardian=obj, pupil=obj.pupil)


class StudentSerializer(serializers.ModelSerializer[Pupil]):
    """A pupil as the caller may see them (``people.selectors.pupil_shown``; docs/privacy.md): withheld fields are
    ``null`` (gender, birth date) or an empty list (guardians); names and numbers may be masked."""

    student_number = serializers.SerializerMethodField()
    name = serializers.SerializerMethodField()
    gender = serializers.SerializerMethodField()
    birth_date = serializers.SerializerMethodField()
    school = serializers.SerializerMethodField()
    guardians = serializers.SerializerMethodField()

    class Meta:
        model = Pupil
        fields = ["id", "student_number", "name", "gender", "birth_date", "school", "grade", "class_name", "guardians"]

    def _shown(self, obj: Pupil) -> selectors.PupilShown:
        cache = self.context.setdefault("_shown", {})
        if obj.pk not in cache:
            cache[obj.pk] = selectors.pupil_shown(scope=_scope(self), pupil=obj)
        return cache[obj.pk]  # type: ignore[no-any-return]

    def get_student_number(self, obj: Pupil) -> str:
        return self._shown(obj).student_number

    def get_name(self, obj: Pupil) -> str:
        return self._shown(obj).name

    @extend_schema_field({"type": "string", "nullable": True, "enum": ["M", "F", None]})
    def get_gender(self, obj: Pupil) -> str | None:
        return self._shown(obj).gender

    @extend_schema_field({"type": "string", "format": "date", "nullable": True})
    def get_birth_date(self, obj: Pupil) -> str | None:
        born = self._shown(obj).birth_date
        return born.isoformat() if born else None

    @extend_schema_field(GuardianSerializer(many=True))
    def get_guardians(self, obj: Pupil) -> list[dict[str, Any]]:
        return [
            {"id": int(g["id"]), "name": g["name"], "relation": g["relation"], "phone": g["phone"]}
            for g in self._shown(obj).guardians
        ]

    def get_school(self, obj: Pupil) -> dict[str, Any]:
        s = obj.school
        return {
            "id": s.pk,
            "code": s.code,
            "name": s.name,
            "district": {"code": s.district.code, "name": s.district.name},
        }


class TokenRequestSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False)


class TokenResponseSerializer(serializers.Serializer[Any]):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()


class MeSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField()
    phone = serializers.CharField()
    roles = serializers.ListField(child=serializers.DictField())


class TeacherSerializer(serializers.ModelSerializer[TeacherProfile]):
    name = serializers.CharField(source="user.full_name")
    phone = serializers.SerializerMethodField()
    organisation = serializers.CharField(source="organisation.name", default=None, allow_null=True)
    schools = serializers.SerializerMethodField()

    class Meta:
        model = TeacherProfile
        fields = ["id", "name", "kind", "organisation", "subjects", "phone", "schools"]

    def get_phone(self, obj: TeacherProfile) -> str:
        return selectors.shown_teacher_phone(scope=_scope(self), teacher=obj)

    def get_schools(self, obj: TeacherProfile) -> list[dict[str, Any]]:
        return [{"id": s.pk, "code": s.code, "name": s.name} for s in obj.schools.all()]
