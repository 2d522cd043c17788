"""API of submissions: create, revise (every version kept), proofs (upload, download), withdraw."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, status
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from kehou.core import clock, uploads
from kehou.core.api import ActionView, FileNegotiation, ScopedReadOnlyViewSet, ScopeGuard
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError, NotFound
from kehou.core.scope import Scope
from kehou.orgs.models import School

from .. import selectors as sel
from ..models import ProofFile, Submission
from ..serializers.submissions import (
    CourseReviseSerializer,
    CourseSubmissionCreateSerializer,
    DossierReviseSerializer,
    DossierSubmissionCreateSerializer,
    ProofOutSerializer,
    ProofUploadSerializer,
    SubmissionDetailSerializer,
    SubmissionSummarySerializer,
    WithdrawSerializer,
)
from ..services import proofs, submissions
from .common import _ERRORS

SubmissionCreate = PolymorphicProxySerializer(
    component_name="SubmissionCreate",
    serializers={"course": CourseSubmissionCreateSerializer, "teacher": DossierSubmissionCreateSerializer},
    resource_type_field_name="kind",
)


SubmissionRevise = PolymorphicProxySerializer(
    component_name="SubmissionRevise",
    serializers=[CourseReviseSerializer, DossierReviseSerializer],
    resource_type_field_name=None,
)


def submission_context(request: Any, scope: Scope, submission: Submission) -> dict[str, Any]:
    """Serializer context and the computed parts of a submission's detail (panels, decisions, what the caller may
    do), attached to the instance for the detail serializer."""
    user = request.user
    submitter = proofs.may_submit_for(user, submission)
    submission._panels = sel.panels_of(submission)  # type: ignore[attr-defined]
    submission._decisions = sel.decisions_of(submission)  # type: ignore[attr-defined]
    submission._may_add_proofs = submitter and submission.status in proofs.OPEN_STATUSES  # type: ignore[attr-defined]
    submission._may_revise = submitter and submission.status in proofs.OPEN_STATUSES  # type: ignore[attr-defined]
    readable = set(
        scope.filter(sel.proofs_readable(scope).filter(version__submission=submission)).values_list("pk", flat=True)
    )
    return {
        "request": request,
        "readable_proofs": readable,
        "show_identity": sel.may_see_identity(scope=scope, actor=user, submission=submission),
    }


def submission_response(request: Any, scope: Scope, pk: int, status_code: int = 200) -> Response:
    submission = scope.filter(sel.submission_detail_qs()).get(pk=pk)  # the caller's own view of it
    context = submission_context(request, scope, submission)
    return Response(SubmissionDetailSerializer(submission, context=context).data, status=status_code)


@extend_schema_view(
    list=extend_schema(
        summary="Submissions in the caller's scope (a submitter's own; a bureau's library)",
        parameters=[
            OpenApiParameter("status", str, enum=Submission.Status.values),
            OpenApiParameter("kind", str, enum=Submission.Kind.values),
            OpenApiParameter("library", str, description="city, district, or a region code"),
            OpenApiParameter("search", str, description="title contains"),
        ],
    ),
    retrieve=extend_schema(
        summary="A submission with all its versions, its panels' progress and, once decided, the panel's comments "
        "and mean score (experts anonymised)",
        responses={200: SubmissionDetailSerializer, 404: _ERRORS[404]},
    ),
)
class SubmissionViewSet(ScopedReadOnlyViewSet):
    def select(self, scope: Scope) -> QuerySet[Any]:
        if self.action == "list":
            p = self.request.query_params
            return sel.submissions_in_library(
                scope=scope,
                status=p.get("status", "").strip(),
                kind=p.get("kind", "").strip(),
                library=p.get("library", "").strip(),
                search=p.get("search", "").strip(),
            )
        return sel.submission_detail_qs()

    def get_serializer_class(self) -> Any:
        return SubmissionSummarySerializer if self.action == "list" else SubmissionDetailSerializer

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        submission = self.get_object()
        context = submission_context(request, self.scope, submission)
        return Response(SubmissionDetailSerializer(submission, context=context).data)

    @extend_schema(
        summary="Submit a featured course or a teacher dossier",
        description=(
            "A school administrator submits for the school's own teachers (give `school`); an outside teacher "
            "submits their own (leave `school` out). `library` is `city` or `district` (the submitter's own "
            "district). `category` is a category code. A fee outside the standard is refused with "
            "`fee_out_of_standard`; a teacher the submitter may not name with `teacher_not_yours`."
        ),
        request=SubmissionCreate,
        responses={
            201: SubmissionDetailSerializer,
            400: _ERRORS[400],
            403: OpenApiResponse(description="not_a_submitter"),
            404: _ERRORS[404],
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = request.data
        kind = data.get("kind") if isinstance(data, dict) else None
        serializer_class = {"course": CourseSubmissionCreateSerializer, "teacher": DossierSubmissionCreateSerializer}
        chosen = serializer_class.get(kind) if isinstance(kind, str) else None
        if chosen is None:
            raise ValidationError(
                {"kind": [ErrorDetail(_("Choose “course” or “teacher”."), code=ErrorCode.INVALID_CHOICE)]}
                if isinstance(data, dict)
                else {"__all__": [ErrorDetail(_("Expected a JSON object."), code=ErrorCode.INVALID)]}
            )
        body: Any = chosen(data=data)
        body.is_valid(raise_exception=True)
        school = None
        school_id = body.validated_data["school"]
        if school_id is not None:
            school = School.objects.filter(pk=school_id).first()
            if school is None:
                raise NotFound(_("Not found."))
        created = submissions.submission_create(
            actor=request.user,
            school=school,
            library=body.validated_data["library"],
            fields=body.to_fields(),
            now=clock.now(),
        )
        return submission_response(request, self.scope, created.pk, status.HTTP_201_CREATED)


class _SubmissionAction(ScopeGuard, generics.GenericAPIView):  # type: ignore[type-arg]
    def select(self, scope: Scope) -> QuerySet[Any]:
        return Submission.objects.select_related("library_region", "submitter_school", "category")


class SubmissionReviseView(_SubmissionAction):
    """Add a new version to a returned submission (or one not yet in review)."""

    @extend_schema(
        summary="Revise a submission (a new version; every version is kept)",
        description="The body has the fields of the submission's kind (course or teacher dossier) and a `note`.",
        request=SubmissionRevise,
        responses={
            201: SubmissionDetailSerializer,
            400: _ERRORS[400],
            404: _ERRORS[404],
            409: OpenApiResponse(description="not_revisable"),
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        submission = self.get_object()
        if submission.kind == Submission.Kind.LESSON:
            raise KehouError(
                _("A prepared lesson is revised on the teaching platform and submitted again from there."),
                code=ErrorCode.WRONG_KIND,
            )
        chosen = CourseReviseSerializer if submission.kind == Submission.Kind.COURSE else DossierReviseSerializer
        body = chosen(data=request.data)
        body.is_valid(raise_exception=True)
        submissions.submission_revise(
            actor=request.user,
            submission=submission,
            fields=body.to_fields(),
            note=body.validated_data["note"],
            now=clock.now(),
        )
        return submission_response(request, self.scope, submission.pk, status.HTTP_201_CREATED)


class SubmissionProofsView(_SubmissionAction):
    """Attach a proof file to the current version."""

    parser_classes = [MultiPartParser]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        uploads.refuse_oversized(request._request, limit=proofs.max_bytes())  # before authentication may read the body
        super().initial(request, *args, **kwargs)

    @extend_schema(
        summary="Attach a proof file (PDF, PNG or JPEG) to the current version",
        description=(
            "Only the submitter side, while the submission awaits review or has been returned. The content is "
            "checked (a renamed file is refused: `invalid_file_type`), the size is limited (`file_too_large`), "
            "the file is stored under a server-made name and its SHA-256 recorded."
        ),
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "kind": {"type": "string", "enum": ProofFile.Kind.values},
                    "file": {"type": "string", "format": "binary"},
                },
                "required": ["kind", "file"],
            }
        },
        responses={
            201: ProofOutSerializer,
            400: OpenApiResponse(description="invalid_file_type, invalid, unknown_field"),
            403: OpenApiResponse(description="not_submitter"),
            404: _ERRORS[404],
            409: OpenApiResponse(description="not_open_for_proofs, not_current_version"),
            413: OpenApiResponse(description="file_too_large"),
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        submission = self.get_object()
        body = ProofUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        proof = proofs.proof_attach(
            actor=request.user,
            version=sel.current_version(submission),
            kind=body.validated_data["kind"],
            uploaded_file=body.validated_data["file"],
            now=clock.now(),
        )
        return Response(ProofOutSerializer(proof).data, status=status.HTTP_201_CREATED)


def proof_file_response(proof: Any) -> FileResponse:
    try:
        handle = proof.file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise NotFound(_("Not found.")) from exc
    response = FileResponse(handle, as_attachment=True, filename=proof.original_name, content_type=proof.content_type)
    response["Cache-Control"] = "private, no-store"
    return uploads.sandboxed(response)


class ProofDownloadView(ScopeGuard, generics.GenericAPIView):  # type: ignore[type-arg]
    """Download a proof file as an attachment: for the submitter, the library's bureau and the panel's experts."""

    content_negotiation_class = FileNegotiation

    def select(self, scope: Scope) -> QuerySet[Any]:
        return sel.proofs_readable(scope)

    @extend_schema(
        summary="Download a proof file (as an attachment)",
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, "image/png"): OpenApiTypes.BINARY,
            (200, "image/jpeg"): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="missing, or not the submitter, the library's bureau or a panel expert"),
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> FileResponse:
        return proof_file_response(self.get_object())


@extend_schema_view(
    post=extend_schema(
        summary="Withdraw a submission (submitted or returned; not while a panel reviews it)",
        request=WithdrawSerializer,
        responses={
            200: SubmissionDetailSerializer,
            400: _ERRORS[400],
            404: _ERRORS[404],
            409: OpenApiResponse(description="not_withdrawable"),
        },
    )
)
class SubmissionWithdrawView(ActionView):
    """The submitter withdraws a submission that is not under review."""

    body = WithdrawSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        return Submission.objects.select_related("library_region", "submitter_school", "category")

    def act(self, obj: Submission, values: dict[str, Any], *, actor: Any, now: datetime) -> Any:
        submissions.submission_withdraw(actor=actor, submission=obj, reason=values["reason"], now=now)
        return submission_response(self.request, self.scope, obj.pk)
