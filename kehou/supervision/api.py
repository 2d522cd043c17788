"""The supervision API: ``GET /api/v1/dashboard/?level=city``, ``?level=district&code=<region code>``,
``?level=school&code=<school code>`` (a level outside the caller's scope is the same 404 as a missing one)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import permissions, serializers
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kehou.core import clock, uploads
from kehou.core.api import ERRORS, NOT_FOUND, FileNegotiation, ScopedListAPIView, ScopedObjectView, parse_id
from kehou.core.errors import NotFound
from kehou.core.excel import XLSX_MIME
from kehou.core.scope import Scope, scope_for
from kehou.orgs.models import Term

from . import selectors
from .models import ProgressReport
from .services import reports


class FiguresOut(serializers.Serializer[Any]):
    sessions_planned = serializers.IntegerField()
    sessions_delivered = serializers.IntegerField()
    pupil_sessions_expected = serializers.IntegerField()
    pupil_sessions_attended = serializers.IntegerField()
    roll_calls_taken = serializers.IntegerField()
    roll_calls_on_time = serializers.IntegerField()
    check_ins = serializers.IntegerField()
    check_ins_on_time = serializers.IntegerField()
    attendance = serializers.FloatField(allow_null=True, help_text="attended ÷ expected pupil-sessions")
    delivery = serializers.FloatField(allow_null=True, help_text="delivered ÷ planned sessions")
    roll_call = serializers.FloatField(allow_null=True, help_text="roll calls complete on time ÷ planned sessions")
    check_in = serializers.FloatField(allow_null=True, help_text="check-ins on time ÷ planned sessions")
    pupils = serializers.IntegerField(required=False)
    pupils_taking_part = serializers.IntegerField(required=False)
    participation = serializers.FloatField(required=False, allow_null=True)
    teachers_staff = serializers.IntegerField(required=False)
    teachers_outside = serializers.IntegerField(required=False)
    classes = serializers.IntegerField(required=False)
    classes_outside = serializers.IntegerField(required=False)
    outside_share = serializers.FloatField(required=False, allow_null=True, help_text="against the province's 30%")
    over_outside_cap = serializers.BooleanField(required=False)
    schools_providing = serializers.IntegerField(required=False)


class NodeOut(serializers.Serializer[Any]):
    level = serializers.CharField()
    code = serializers.CharField()
    name = serializers.CharField()


class RowOut(NodeOut):
    rank = serializers.IntegerField(allow_null=True, help_text="among its peers, by `sort` (best first)")
    figures = FiguresOut()


class TermOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    first_day = serializers.DateField(help_text="the figures count from this day")
    last_day = serializers.DateField(help_text="to this day (today, or the term's end)")


class WeekOut(serializers.Serializer[Any]):
    week = serializers.DateField(help_text="the week's Monday")
    attendance = serializers.FloatField(allow_null=True)
    delivery = serializers.FloatField(allow_null=True)
    roll_call = serializers.FloatField(allow_null=True)
    check_in = serializers.FloatField(allow_null=True)
    sessions_planned = serializers.IntegerField()


class DashboardOut(serializers.Serializer[Any]):
    level = serializers.ChoiceField(
        choices=[(x, x) for x in selectors.LEVELS], allow_null=True, help_text="null: the caller supervises nothing"
    )
    code = serializers.CharField()
    name = serializers.CharField()
    breadcrumb = NodeOut(many=True)
    term = TermOut(allow_null=True)
    sort = serializers.CharField()
    stage = serializers.CharField(help_text="the school type kept, or empty for all")
    week = serializers.DateField(allow_null=True, help_text="the week's first day counted, when one week is asked")
    weeks = serializers.ListField(child=serializers.DateField(), help_text="the term's Mondays so far")
    figures = FiguresOut()
    rows_level = serializers.CharField(help_text="district, school or class")
    rows = RowOut(many=True)
    trend = WeekOut(many=True, help_text="the level's figures week by week over the term so far")
    fresh_at = serializers.DateTimeField(allow_null=True, help_text="the rollups hold every change up to here")
    computed_at = serializers.DateTimeField(allow_null=True)
    method = serializers.CharField(help_text="how the figures are computed")


def _week(text: str) -> Any:
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ValidationError({"week": [ErrorDetail(_("Give a day as YYYY-MM-DD."), code="invalid")]}) from None


class DashboardView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    dangerously_unscoped = True  # the selector checks the level against the caller's scope (404 outside it)

    @extend_schema(
        summary="A bureau's or school's dashboard: one level's figures and the level below, ranked (一站式监管)",
        description="Without `level`, the caller's own: the city for the city bureau, its district for a district "
        "bureau, its school for a school. A level outside the caller's scope is the same 404 as a missing one; a "
        "caller who supervises nothing (a teacher, a parent, an operator) gets `level: null` and no rows.",
        parameters=[
            OpenApiParameter("level", str, enum=list(selectors.LEVELS), description="default: the caller's own level"),
            OpenApiParameter("code", str, description="district: its region code; school: its school code"),
            OpenApiParameter("term", int, description="a term's id (default: the current term)"),
            OpenApiParameter("sort", str, enum=list(selectors.SORTS), description="what the rows are ranked by"),
            OpenApiParameter("stage", str, enum=["primary", "junior", "nine_year"], description="one school type"),
            OpenApiParameter("week", OpenApiTypes.DATE, description="one week of the term (any day of it)"),
        ],
        responses={200: DashboardOut, 400: ERRORS, 404: NOT_FOUND},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        term = None
        if params.get("term"):
            term = Term.objects.filter(pk=parse_id(params["term"]) or 0).first()
            if term is None:
                raise NotFound(_("Not found."))
        scope = scope_for(request.user)
        today = timezone.localdate(clock.now())
        level, code = params.get("level", ""), params.get("code", "")[:12]
        if not level:
            home = selectors.home_level(scope)
            if home is None:
                return Response(DashboardOut(selectors.nothing(today)).data)
            level, code = home
        data = selectors.dashboard(
            scope,
            level=level,
            code=code,
            today=today,
            term=term,
            sort=params.get("sort", "attendance"),
            stage=params.get("stage", ""),
            week=_week(params.get("week", "")),
        )
        if data is None:
            raise NotFound(_("Not found."))
        return Response(DashboardOut(data).data)


class ReportOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()
    issued_at = serializers.DateTimeField()
    term = serializers.IntegerField(source="term_id", allow_null=True)
    districts = serializers.SerializerMethodField(help_text="the districts it names")
    pdf_url = serializers.SerializerMethodField()
    xlsx_url = serializers.SerializerMethodField()
    pdf_sha256 = serializers.CharField()
    xlsx_sha256 = serializers.CharField()

    def get_districts(self, obj: ProgressReport) -> list[str]:
        return sorted(d.code for d in obj.districts.all())

    def get_pdf_url(self, obj: ProgressReport) -> str:
        return f"/api/v1/progress-reports/{obj.pk}/pdf"

    def get_xlsx_url(self, obj: ProgressReport) -> str:
        return f"/api/v1/progress-reports/{obj.pk}/xlsx"


@extend_schema_view(
    get=extend_schema(summary="Progress reports (通报): the city sees all; a district the reports that name it"),
    post=extend_schema(
        summary="The city bureau issues a progress report now (the schedule issues one every week)",
        request=None,
        responses={201: ReportOut, 403: ERRORS},
    ),
)
class ReportListView(ScopedListAPIView):
    serializer_class = ReportOut

    def select(self, scope: Scope) -> QuerySet[Any]:
        return ProgressReport.objects.prefetch_related("districts")

    def post(self, request: Request) -> Response:
        report = reports.report_issue(actor=request.user, now=clock.now())
        return Response(ReportOut(report).data, status=201)


class ReportFileView(ScopedObjectView):
    """A report's PDF or workbook, as a sandboxed attachment."""

    content_negotiation_class = FileNegotiation
    kind = "pdf"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return ProgressReport.objects.all()

    @extend_schema(
        summary="A progress report's file (an attachment)",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        report = self.get_object()
        field = report.pdf if self.kind == "pdf" else report.xlsx
        try:
            handle = field.open("rb")
        except OSError as exc:
            raise NotFound(_("Not found.")) from exc
        content_type = "application/pdf" if self.kind == "pdf" else XLSX_MIME
        response = FileResponse(
            handle, as_attachment=True, filename=f"通报{report.number}.{self.kind}", content_type=content_type
        )
        return uploads.sandboxed(response)


class ReportXlsxView(ReportFileView):
    kind = "xlsx"
