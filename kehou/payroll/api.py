"""The pay API: pay lines and their approvals and disputes, payout batches and payouts, the operator's rates, and
the payout channel's notify endpoint."""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.views import APIView

from kehou.catalog.models import LibraryEntry
from kehou.core import clock
from kehou.core.api import ERRORS, NOT_FOUND, ActionView, ScopedListAPIView, query_bool, query_int, request_key
from kehou.core.errors import KehouError, NotFound, error_response
from kehou.core.scope import Scope
from kehou.orgs.models import OperatorCompany, Region, School, Term

from . import selectors
from .models import AuditReport, OperatorCost, PayLine, Payout, PayRate
from .serializers import (
    AnswerBody,
    ApprovedResult,
    AuditReportSerializer,
    BatchBody,
    BatchResult,
    OperatorCostSerializer,
    PayLineSerializer,
    PayoutBatchSerializer,
    PayoutSerializer,
    PeriodBody,
    RateBody,
    RateSerializer,
    ReasonBody,
    ReportBody,
)
from .services import lines, payouts, rates, reports

log = logging.getLogger("kehou.payroll")


@extend_schema(
    summary="Pay lines (课时费) in the caller's scope",
    description=(
        "One line per session delivered with evidence (a check-in inside the radius or a make-up the school "
        "approved, and a roll call taken and closed), computed by the platform, never typed. A teacher sees their "
        "own; a school its teachers'; an operator those of its authorised schools; a bureau its schools'. "
        "`status`: computed (awaiting the school) → school_approved (awaiting the operator) → approved (locked, "
        "accrued in the ledger: `accrual_key`) → paying → paid; or rejected (with `reject_reason`)."
    ),
    parameters=[
        OpenApiParameter("period", str, description="a month, YYYY-MM"),
        OpenApiParameter("school", int),
        OpenApiParameter("teacher", int),
        OpenApiParameter("status", str, enum=PayLine.Status.values),
        OpenApiParameter("disputed", bool, description="true: only lines under an open dispute"),
    ],
)
class PayLineListView(ScopedListAPIView):
    serializer_class = PayLineSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        p = self.request.query_params
        return selectors.pay_line_list(
            scope=scope,
            period=(p.get("period") or "")[:7],
            school_id=query_int(self.request, "school"),
            teacher_id=query_int(self.request, "teacher"),
            status=p["status"] if p.get("status") in PayLine.Status.values else "",
            disputed=query_bool(self.request, "disputed"),
        )


class _SchoolAction(ActionView):
    body = PeriodBody

    def select(self, scope: Scope) -> QuerySet[Any]:
        return School.objects.all()


@extend_schema_view(
    post=extend_schema(
        summary="The school approves its teachers' lines of a month (those awaiting it, except disputed ones)",
        request=PeriodBody,
        responses={200: ApprovedResult, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class SchoolApproveView(_SchoolAction):
    def act(self, obj: Any, values: dict[str, Any], *, actor: Any, now: Any) -> Any:
        return {"lines": lines.pay_school_approve(actor=actor, school=obj, period=values["period"], now=now)}


@extend_schema_view(
    post=extend_schema(
        summary="An operator authorised for the school approves the month's lines the school approved: they lock",
        request=PeriodBody,
        responses={200: ApprovedResult, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class OperatorApproveView(_SchoolAction):
    def act(self, obj: Any, values: dict[str, Any], *, actor: Any, now: Any) -> Any:
        return {"lines": lines.pay_operator_approve(actor=actor, school=obj, period=values["period"], now=now)}


class _LineAction(ActionView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return PayLine.objects.select_related("session__course_class", "school", "teacher__user")


@extend_schema_view(
    post=extend_schema(
        summary="The school rejects a line not yet approved by the operator, saying why",
        request=ReasonBody,
        responses={200: PayLineSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class LineRejectView(_LineAction):
    body = ReasonBody

    def act(self, obj: Any, values: dict[str, Any], *, actor: Any, now: Any) -> Any:
        return PayLineSerializer(lines.pay_line_reject(actor=actor, line=obj, reason=values["reason"], now=now)).data


@extend_schema_view(
    post=extend_schema(
        summary="The line's teacher disputes it (before it is paid; one open dispute at a time)",
        request=ReasonBody,
        responses={200: PayLineSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class LineDisputeView(_LineAction):
    body = ReasonBody

    def act(self, obj: Any, values: dict[str, Any], *, actor: Any, now: Any) -> Any:
        return PayLineSerializer(lines.pay_line_dispute(actor=actor, line=obj, reason=values["reason"], now=now)).data


@extend_schema_view(
    post=extend_schema(
        summary="The school answers an open dispute (reinstate: the rejected line awaits approval again)",
        request=AnswerBody,
        responses={200: PayLineSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class LineAnswerView(_LineAction):
    body = AnswerBody

    def act(self, obj: Any, values: dict[str, Any], *, actor: Any, now: Any) -> Any:
        line = lines.pay_dispute_answer(
            actor=actor, line=obj, reinstate=values["reinstate"], answer=values["answer"], now=now
        )
        return PayLineSerializer(line).data


@extend_schema_view(
    post=extend_schema(
        summary="The operator pays a month's approved lines out: one payout per teacher, tax withheld",
        description=(
            "Idempotent by `request_key` (or the `Idempotency-Key` header). Each payout is sent by the task worker "
            "through the payout channel under its `out_bill_no`; an unknown answer is sent again under the same "
            "number, never a new one. One batch of an operator at a time (`payout_batch_running`)."
        ),
        request=BatchBody,
        responses={200: BatchResult, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class PayoutBatchStartView(ActionView):
    body = BatchBody

    def select(self, scope: Scope) -> QuerySet[Any]:
        return OperatorCompany.objects.all()

    def act(self, obj: Any, values: dict[str, Any], *, actor: Any, now: Any) -> Any:
        key = request_key(self.request, values.get("request_key", ""))
        batch, skipped = payouts.payout_batch_start(
            actor=actor, operator=obj, period=values["period"], request_key=key, now=now
        )
        return {"batch": PayoutBatchSerializer(selectors.batch_with_totals(batch)).data, "skipped_teachers": skipped}


@extend_schema(summary="Payout batches in the caller's scope, newest first")
class PayoutBatchListView(ScopedListAPIView):
    serializer_class = PayoutBatchSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        return selectors.batch_list(scope=scope)


@extend_schema(
    summary="Payouts in the caller's scope (a teacher: their own)",
    parameters=[
        OpenApiParameter("period", str),
        OpenApiParameter("status", str, enum=Payout.Status.values),
        OpenApiParameter("batch", int),
    ],
)
class PayoutListView(ScopedListAPIView):
    serializer_class = PayoutSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        p = self.request.query_params
        return selectors.payout_list(
            scope=scope,
            period=(p.get("period") or "")[:7],
            status=p["status"] if p.get("status") in Payout.Status.values else "",
            batch_id=query_int(self.request, "batch"),
        )


@extend_schema(summary="The operator's own pay rates per course (inside the authorities' standards)")
class PayRateListView(ScopedListAPIView):
    serializer_class = RateSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        return PayRate.objects.order_by("operator_id", "entry_id", "teacher_kind")


@extend_schema_view(
    post=extend_schema(
        summary="An operator sets its pay per class hour for a course (at most the authorities' standard)",
        request=RateBody,
        responses={200: RateSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND},
    )
)
class PayRateSetView(ActionView):
    body = RateBody

    def select(self, scope: Scope) -> QuerySet[Any]:
        return OperatorCompany.objects.all()

    def act(self, obj: Any, values: dict[str, Any], *, actor: Any, now: Any) -> Any:
        entry = LibraryEntry.objects.select_related("item").filter(pk=values["entry"]).first()
        if entry is None:
            raise NotFound(_("Not found."))
        rate = rates.pay_rate_set(
            actor=actor,
            operator=obj,
            entry=entry,
            teacher_kind=values["teacher_kind"],
            rate_fen=values["rate_fen"],
            now=now,
        )
        return RateSerializer(rate).data


class _RawBody(BaseParser):
    media_type = "*/*"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return {}  # pragma: no cover - the view reads request.body itself


NOTIFY_MAX_BYTES = 64 * 1024


class PayoutNotifyView(APIView):
    """Public: the payout channel's server calls it; the signature is the proof."""

    dangerously_unscoped = True  # reads no scoped rows for a caller: the channel proves itself by its signature
    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]
    parser_classes = [_RawBody]
    throttle_classes: list[Any] = []

    @extend_schema(
        summary="The payout channel's notification (MCHTRANSFER.BILL.FINISHED; called by the channel)",
        description=(
            "`channel`: `simulator` or `wechat`. Verified as WeChat Pay v3 (signature by the platform key of "
            "`Wechatpay-Serial`, timestamp within 5 minutes, resource decrypted with AES-256-GCM), matched to our "
            "payout by `out_bill_no` and applied once: a repeat changes nothing. A forged, stale or unknown one "
            "changes nothing and is answered 400 `payout_notification_rejected`."
        ),
        parameters=[OpenApiParameter("channel", str, OpenApiParameter.PATH, enum=["simulator", "wechat"])],
        request={"*/*": OpenApiTypes.BINARY},
        responses={
            200: OpenApiResponse(description="accepted"),
            204: OpenApiResponse(description="accepted"),
            400: ERRORS,
            404: NOT_FOUND,
            413: ERRORS,
            503: ERRORS,
        },
        auth=[],
    )
    def post(self, request: Request, channel: str) -> HttpResponse:
        from kehou.core.error_codes import ErrorCode

        if channel not in ("simulator", "wechat"):
            raise NotFound(_("Not found."))
        raw = request._request
        body = raw.read(NOTIFY_MAX_BYTES + 1)
        if len(body) > NOTIFY_MAX_BYTES:
            return error_response(ErrorCode.BODY_TOO_LARGE, _("The request body is too large."), 413)
        try:
            status, content_type, answer = payouts.payout_notification_receive(
                channel=channel, headers=raw.headers, body=body, now=clock.now()
            )
        except KehouError as exc:
            return error_response(exc.code, exc.message, exc.status, exc.fields)
        except Exception:  # a channel not configured here
            log.exception("payout notification for %s could not be handled", channel)
            return error_response(ErrorCode.CHANNEL_NOT_CONFIGURED, _("This channel is not configured."), 503)
        return HttpResponse(answer, status=status, content_type=content_type)


@extend_schema(summary="Audit reports (审计报告) in the caller's scope: the operator's, and those filed to a bureau")
class AuditReportListView(ScopedListAPIView):
    serializer_class = AuditReportSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        return AuditReport.objects.select_related("operator", "term", "district").order_by("-filed_at", "-pk")


@extend_schema_view(
    post=extend_schema(
        summary="The operator files (or files again, until acknowledged) its term's audit report to a district",
        request=ReportBody,
        responses={200: AuditReportSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class AuditReportFileView(ActionView):
    body = ReportBody

    def select(self, scope: Scope) -> QuerySet[Any]:
        return OperatorCompany.objects.all()

    def act(self, obj: Any, values: dict[str, Any], *, actor: Any, now: Any) -> Any:
        term = Term.objects.filter(pk=values["term"]).first()
        district = Region.objects.filter(pk=values["district"], kind=Region.Kind.DISTRICT).first()
        if term is None or district is None:
            raise NotFound(_("Not found."))
        report = reports.report_file(actor=actor, operator=obj, term=term, district=district, now=now)
        return AuditReportSerializer(report).data


@extend_schema_view(
    post=extend_schema(
        summary="The district bureau acknowledges a report filed to it (once)",
        request=None,
        responses={200: AuditReportSerializer, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class AuditReportAcknowledgeView(ActionView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return AuditReport.objects.select_related("operator", "term", "district")

    def act(self, obj: Any, values: dict[str, Any], *, actor: Any, now: Any) -> Any:
        return AuditReportSerializer(reports.report_acknowledge(actor=actor, report=obj, now=now)).data


@extend_schema(summary="Operator costs (with their receipts' names and hashes) in the caller's scope")
class OperatorCostListView(ScopedListAPIView):
    serializer_class = OperatorCostSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        return OperatorCost.objects.select_related("school").order_by("-incurred_on", "-pk")
