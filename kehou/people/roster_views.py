"""HTTP for the roster import: the page (upload form and report), the template download, and the API.

Only an administrator of the school itself may import or download its template: every other caller, a city or
district administrator included, gets the same 404 as for a school that does not exist. The school is read through
the scope base classes (``select`` + ``get_object``) and then narrowed to ``scope.school_ids``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from kehou.core import clock, uploads
from kehou.core.api import FileNegotiation, ScopeGuard
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError
from kehou.core.excel import XLSX_MIME
from kehou.core.pages import ScopedDetailPage
from kehou.core.scope import Scope
from kehou.orgs.models import School

from . import roster
from .roster import RosterFileError, RosterReport
from .roster_services import RosterInvalid, roster_import


def _own_school(scope: Scope, school: School) -> School:
    if school.pk not in scope.school_ids:
        raise Http404
    return school


def _template_response(school: School) -> HttpResponse:
    data = roster.template_bytes(grades=school.grade_range, max_rows=settings.KEHOU_ROSTER_MAX_ROWS)
    response = HttpResponse(data, content_type=XLSX_MIME)
    response["Content-Disposition"] = f'attachment; filename="roster-template-{school.code}.xlsx"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- pages ----------------------------------------------------------------------------------------
class _OwnSchoolPage(ScopedDetailPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return School.objects.select_related("district")

    def get_object(self) -> School:
        return _own_school(self.scope, super().get_object())  # type: ignore[arg-type]


class RosterPage(_OwnSchoolPage):
    """Upload form; after a POST, the report (counts, or every problem row by row with errors highlighted)."""

    title = gettext_lazy("Import pupils and guardians")
    template_name = "people/roster.html"

    def extra_context(self, obj: Any) -> dict[str, Any]:
        return {
            "max_mb": round(settings.KEHOU_ROSTER_MAX_BYTES / 1024 / 1024, 1),
            "max_rows": settings.KEHOU_ROSTER_MAX_ROWS,
            "grades": obj.grade_range,
            "report": None,
        }

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        school = self.get_object()
        ctx = self.base_context() | {"object": school} | self.extra_context(school)
        status = 200
        report: RosterReport | None = None
        try:
            uploads.refuse_oversized(request, limit=settings.KEHOU_ROSTER_MAX_BYTES, error_class=RosterFileError)
            upload = request.FILES.get("file")
            if upload is None:
                raise KehouError(_("Choose an .xlsx file to upload."), code=ErrorCode.MISSING_FILE)
            report = roster_import(actor=request.user, school=school, file=upload, now=clock.now())
        except RosterInvalid as exc:
            report, status = exc.report, exc.status
        except KehouError as exc:
            ctx["error"] = {"code": exc.code, "message": exc.message, "fields": exc.fields}
            status = exc.status
        if report is not None:
            ctx["report"] = report.as_dict()
            ctx["problems"] = _problem_rows(report)
        return render(request, self.template_name, ctx, status=status)


def _problem_rows(report: RosterReport) -> list[dict[str, Any]]:
    rows = [(p, "error") for p in report.errors] + [(p, "warning") for p in report.warnings]
    order = {id(p): i for i, p in enumerate(roster.sorted_problems(p for p, _level in rows))}
    rows.sort(key=lambda item: order[id(item[0])])
    return [
        {
            "row": p.row,
            "column": roster.COLUMNS_BY_KEY[p.column].header if p.column in roster.COLUMNS_BY_KEY else p.column,
            "code": p.code,
            "message": p.message,
            "level": level,
        }
        for p, level in rows
    ]


class RosterTemplatePage(_OwnSchoolPage):
    """The .xlsx template for this school (its grades are on the instructions sheet and in the drop-down)."""

    title = gettext_lazy("Roster template")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return _template_response(self.get_object())


# --- API ------------------------------------------------------------------------------------------
class RosterProblemSerializer(serializers.Serializer):  # type: ignore[type-arg]
    row = serializers.IntegerField(allow_null=True, help_text="Excel row number (the header is row 1)")
    column = serializers.ChoiceField(choices=[c.key for c in roster.COLUMNS])
    code = serializers.ChoiceField(choices=[*roster.ROW_CODES, *roster.WARNING_CODES])
    message = serializers.CharField()


class RosterReportSerializer(serializers.Serializer):  # type: ignore[type-arg]
    imported = serializers.BooleanField()
    filename = serializers.CharField()
    rows = serializers.IntegerField(help_text="data rows in the file (blank rows and the example row excluded)")
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    accounts_created = serializers.IntegerField(help_text="new parent accounts (log in by SMS code)")
    guardians_linked = serializers.IntegerField()
    errors = RosterProblemSerializer(many=True)  # type: ignore[assignment]  # a field, not Serializer.errors
    warnings = RosterProblemSerializer(many=True)


_RosterError = inline_serializer(
    "RosterError",
    {
        "error": inline_serializer(
            "RosterErrorBody",
            {
                "code": serializers.ChoiceField(choices=["roster_invalid", "missing_file", *roster.FILE_CODES]),
                "message": serializers.CharField(),
                "fields": serializers.DictField(
                    help_text="roster_invalid: {rows: [{row, column, code, message}], warnings: [...]}; "
                    "bad_header: {missing, unknown, repeated, expected}"
                ),
            },
        )
    },
)


class _OwnSchoolAPIView(ScopeGuard, generics.GenericAPIView):  # type: ignore[type-arg]
    def select(self, scope: Scope) -> QuerySet[Any]:
        return School.objects.select_related("district")

    def get_school(self) -> School:
        return _own_school(self.scope, self.get_object())


class RosterImportView(_OwnSchoolAPIView):
    """Import pupils and guardians of one school from an .xlsx roster (all rows or none)."""

    parser_classes = [MultiPartParser]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        uploads.refuse_oversized(
            request._request, limit=settings.KEHOU_ROSTER_MAX_BYTES, error_class=RosterFileError
        )  # before authentication may read the body
        super().initial(request, *args, **kwargs)

    @extend_schema(
        summary="Import a roster of pupils and guardians (.xlsx)",
        description=(
            "Only an administrator of this school may import (anyone else: 404). Every row is checked; if any row "
            "has an error nothing is written and the answer is 400 `roster_invalid` with every problem in "
            "`fields.rows`. Re-importing the same file changes nothing. Download the template from "
            "`GET /api/v1/schools/{id}/roster/template`."
        ),
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
        responses={
            200: RosterReportSerializer,
            400: OpenApiResponse(
                _RosterError, description="roster_invalid, missing_file, not_xlsx, bad_header, too_many_rows, …"
            ),
            404: OpenApiResponse(description="no such school, or not an administrator of it"),
            409: OpenApiResponse(description="roster_conflict: a concurrent change; upload again"),
            413: OpenApiResponse(_RosterError, description="file_too_large"),
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        school = self.get_school()
        upload = request.FILES.get("file")
        if upload is None:
            raise KehouError(_("Attach the .xlsx file as the form field “file”."), code=ErrorCode.MISSING_FILE)
        report = roster_import(actor=request.user, school=school, file=upload, now=clock.now())
        return Response(report.as_dict())


class RosterTemplateView(_OwnSchoolAPIView):
    """The .xlsx roster template of one school."""

    content_negotiation_class = FileNegotiation

    @extend_schema(
        summary="Download the roster template (.xlsx)",
        responses={
            (200, XLSX_MIME): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="no such school, or not an administrator of it"),
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        return _template_response(self.get_school())
