"""Serializers of submissions: course and dossier bodies, create and revise, proofs, the detail with versions,
panels and decisions as the submitter sees them."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kehou.core.masking import mask_student_number
from kehou.core.serializers import ReasonField, StrictIntegerField, StrictSerializer

from ..models import Category, Panel, ProofFile, Submission, SubmissionVersion
from ..services.submissions import CourseFields, DossierFields
from .common import LIBRARY_CHOICES, MAX_FEN, SMALL, NamedSerializer
from .standards import CategoryOutSerializer


class CourseBodySerializer(StrictSerializer):
    name = serializers.CharField(max_length=80)
    category = serializers.SlugRelatedField(
        slug_field="code", queryset=Category.objects.all(), help_text="category code, e.g. science"
    )
    introduction = serializers.CharField(max_length=3000, allow_blank=True, required=False, default="")
    grades = serializers.ListField(child=StrictIntegerField(), max_length=9, help_text="target grades, 1 to 9")
    minutes_per_hour = StrictIntegerField(min_value=1, max_value=SMALL)
    hours_per_term = StrictIntegerField(min_value=1, max_value=SMALL)
    fee_per_hour_fen = StrictIntegerField(
        min_value=0, max_value=MAX_FEN, help_text="proposed fee per class hour in fen; must fit the fee standard"
    )
    teacher_ids = serializers.ListField(child=StrictIntegerField(min_value=1), max_length=50)
    materials_description = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    materials_price_fen = StrictIntegerField(
        min_value=0,
        max_value=MAX_FEN,
        required=False,
        allow_null=True,
        default=None,
        help_text="optional materials, priced separately: never part of the course fee",
    )

    def to_fields(self) -> CourseFields:
        d = self.validated_data
        return CourseFields(
            name=d["name"],
            category=d["category"],
            introduction=d["introduction"],
            grades=list(d["grades"]),
            minutes_per_hour=d["minutes_per_hour"],
            hours_per_term=d["hours_per_term"],
            fee_per_hour_fen=d["fee_per_hour_fen"],
            teacher_ids=list(d["teacher_ids"]),
            materials_description=d["materials_description"],
            materials_price_fen=d["materials_price_fen"],
        )


class DossierBodySerializer(StrictSerializer):
    teacher_id = StrictIntegerField(min_value=1)
    category = serializers.SlugRelatedField(slug_field="code", queryset=Category.objects.all())
    identity_number = serializers.CharField(max_length=18)
    qualifications = serializers.CharField(max_length=2000)
    subjects = serializers.CharField(max_length=120)
    certificates = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")
    background_checked_on = serializers.DateField(required=False, allow_null=True, default=None)
    background_check_result = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")

    def to_fields(self) -> DossierFields:
        d = self.validated_data
        return DossierFields(
            teacher_id=d["teacher_id"],
            category=d["category"],
            identity_number=d["identity_number"],
            qualifications=d["qualifications"],
            subjects=d["subjects"],
            certificates=d["certificates"],
            background_checked_on=d["background_checked_on"],
            background_check_result=d["background_check_result"],
        )


class _TargetSerializer(StrictSerializer):
    library = serializers.ChoiceField(choices=LIBRARY_CHOICES)
    school = StrictIntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        help_text="the submitting school (school administrators); leave out when an outside teacher submits",
    )


class CourseSubmissionCreateSerializer(CourseBodySerializer, _TargetSerializer):
    kind = serializers.ChoiceField(choices=[("course", "featured course")])


class DossierSubmissionCreateSerializer(DossierBodySerializer, _TargetSerializer):
    kind = serializers.ChoiceField(choices=[("teacher", "teacher dossier")])


class CourseReviseSerializer(CourseBodySerializer):
    note = serializers.CharField(max_length=300, allow_blank=True, required=False, default="", help_text="what changed")


class DossierReviseSerializer(DossierBodySerializer):
    note = serializers.CharField(max_length=300, allow_blank=True, required=False, default="", help_text="what changed")


class ProofUploadSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=ProofFile.Kind.choices)
    file = serializers.FileField(allow_empty_file=True, max_length=255, help_text="PDF, PNG or JPEG; at most 10 MiB")


class LibraryOutSerializer(serializers.Serializer):  # type: ignore[type-arg]
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.ChoiceField(choices=["city", "district"])


class SubmitterOutSerializer(serializers.Serializer):  # type: ignore[type-arg]
    school = NamedSerializer(allow_null=True)
    organisation = NamedSerializer(allow_null=True)


def _library(region: Any) -> dict[str, Any]:
    return {"code": region.code, "name": region.name, "level": "city" if region.is_city else "district"}


class SubmissionSummarySerializer(serializers.ModelSerializer[Submission]):
    category = serializers.SerializerMethodField()
    library = serializers.SerializerMethodField()
    submitter = serializers.SerializerMethodField()

    class Meta:
        model = Submission
        fields = [
            "id",
            "kind",
            "status",
            "title",
            "category",
            "library",
            "submitter",
            "version_count",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(CategoryOutSerializer)
    def get_category(self, obj: Submission) -> dict[str, Any]:
        return {"code": obj.category.code, "name": obj.category.name}

    @extend_schema_field(LibraryOutSerializer)
    def get_library(self, obj: Submission) -> dict[str, Any]:
        return _library(obj.library_region)

    @extend_schema_field(SubmitterOutSerializer)
    def get_submitter(self, obj: Submission) -> dict[str, Any]:
        school, org = obj.submitter_school, obj.submitter_organisation
        return {
            "school": {"id": school.pk, "name": school.name} if school else None,
            "organisation": {"id": org.pk, "name": org.name} if org else None,
        }


class ProofOutSerializer(serializers.ModelSerializer[ProofFile]):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ProofFile
        fields = ["id", "kind", "original_name", "content_type", "size", "sha256", "uploaded_at", "download_url"]

    def get_download_url(self, obj: ProofFile) -> str:
        return reverse("api:proof-download", args=[obj.pk])


class CourseOutSerializer(serializers.Serializer):  # type: ignore[type-arg]
    introduction = serializers.CharField()
    grades = serializers.ListField(child=serializers.IntegerField())
    minutes_per_hour = serializers.IntegerField(allow_null=True)  # null in the version's row: not given
    hours_per_term = serializers.IntegerField(allow_null=True)
    fee_per_hour_fen = serializers.IntegerField(allow_null=True)
    materials_description = serializers.CharField()
    materials_price_fen = serializers.IntegerField(allow_null=True)
    teachers = NamedSerializer(many=True)


class DossierOutSerializer(serializers.Serializer):  # type: ignore[type-arg]
    teacher = NamedSerializer()
    identity_number = serializers.CharField(help_text="masked unless the caller submits or owns the library")
    qualifications = serializers.CharField()
    certificates = serializers.CharField()
    subjects = serializers.CharField()
    background_checked_on = serializers.DateField(allow_null=True)
    background_check_result = serializers.CharField()


class SubmittedLessonStepSerializer(serializers.Serializer[Any]):
    text = serializers.CharField()
    minutes = serializers.IntegerField()


class SubmittedLessonSerializer(serializers.Serializer[Any]):
    goals = serializers.CharField()
    steps = SubmittedLessonStepSerializer(many=True)
    notes = serializers.CharField()
    source_plan = serializers.IntegerField(allow_null=True, help_text="the teaching platform's prepared lesson")
    source_version = serializers.IntegerField(allow_null=True)


class VersionOutSerializer(serializers.ModelSerializer[SubmissionVersion]):
    course = serializers.SerializerMethodField()
    dossier = serializers.SerializerMethodField()
    lesson = serializers.SerializerMethodField()
    proofs = serializers.SerializerMethodField()

    class Meta:
        model = SubmissionVersion
        fields = ["number", "created_at", "change_note", "name", "course", "dossier", "lesson", "proofs"]

    @extend_schema_field(SubmittedLessonSerializer(allow_null=True))
    def get_lesson(self, v: SubmissionVersion) -> dict[str, Any] | None:
        if v.submission.kind != Submission.Kind.LESSON:
            return None
        c = v.content or {}
        return {
            "goals": c.get("goals", ""),
            "steps": list(c.get("steps") or []),
            "notes": c.get("notes", ""),
            "source_plan": c.get("source_plan"),
            "source_version": c.get("source_version"),
        }

    @extend_schema_field(CourseOutSerializer(allow_null=True))
    def get_course(self, v: SubmissionVersion) -> dict[str, Any] | None:
        if v.submission.kind != Submission.Kind.COURSE:
            return None
        return {
            "introduction": v.introduction,
            "grades": list(v.grades or []),
            "minutes_per_hour": v.minutes_per_hour,
            "hours_per_term": v.hours_per_term,
            "fee_per_hour_fen": v.fee_per_hour_fen,
            "materials_description": v.materials_description,
            "materials_price_fen": v.materials_price_fen,
            "teachers": [{"id": t.pk, "name": t.user.full_name} for t in v.teachers.all()],
        }

    @extend_schema_field(DossierOutSerializer(allow_null=True))
    def get_dossier(self, v: SubmissionVersion) -> dict[str, Any] | None:
        if v.submission.kind != Submission.Kind.TEACHER or v.teacher is None:
            return None
        identity = v.identity_number
        if not self.context.get("show_identity", False):
            identity = mask_student_number(identity)
        return {
            "teacher": {"id": v.teacher.pk, "name": v.teacher.user.full_name},
            "identity_number": identity,
            "qualifications": v.qualifications,
            "certificates": v.certificates,
            "subjects": v.subjects,
            "background_checked_on": v.background_checked_on,
            "background_check_result": v.background_check_result,
        }

    @extend_schema_field(ProofOutSerializer(many=True))
    def get_proofs(self, v: SubmissionVersion) -> list[dict[str, Any]]:
        readable: set[int] = self.context.get("readable_proofs", set())
        proofs = [p for p in v.proofs.all() if p.pk in readable]
        return ProofOutSerializer(proofs, many=True).data  # type: ignore[return-value]


class PanelOutSerializer(serializers.Serializer):  # type: ignore[type-arg]
    round = serializers.IntegerField()
    version_number = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Panel.Status.choices)
    size = serializers.IntegerField()
    scored = serializers.IntegerField(help_text="members who have scored")
    drawn_at = serializers.DateTimeField()


class CommentOutSerializer(serializers.Serializer):  # type: ignore[type-arg]
    expert = serializers.CharField(help_text="anonymised: 专家1, 专家2, …")
    comment = serializers.CharField()


class DecisionOutSerializer(serializers.Serializer):  # type: ignore[type-arg]
    round = serializers.IntegerField()
    version_number = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=["admitted", "returned", "rejected"])
    mean_bp = serializers.IntegerField(help_text="mean weighted score in basis points (10000 = full marks)")
    decided_at = serializers.DateTimeField()
    rule = serializers.CharField()
    vetoed_items = serializers.ListField(child=serializers.IntegerField())
    comments = CommentOutSerializer(many=True)


class SubmissionDetailSerializer(SubmissionSummarySerializer):
    versions = VersionOutSerializer(many=True, read_only=True)
    panels = PanelOutSerializer(many=True, read_only=True, source="_panels")
    decisions = DecisionOutSerializer(many=True, read_only=True, source="_decisions")
    may_add_proofs = serializers.BooleanField(read_only=True, source="_may_add_proofs")
    may_revise = serializers.BooleanField(read_only=True, source="_may_revise")

    class Meta(SubmissionSummarySerializer.Meta):
        fields = [
            *SubmissionSummarySerializer.Meta.fields,
            "versions",
            "panels",
            "decisions",
            "may_add_proofs",
            "may_revise",
        ]


class WithdrawSerializer(StrictSerializer):
    reason = ReasonField(max_length=200, allow_blank=True)
