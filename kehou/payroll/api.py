"""The pay API: pay lines and their approvals and disputes, payout batches and payouts, the operator's rates, and
the payout channel's notify endpoint."""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import Count, QuerySet
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions
from rest_framework.parsers import BaseParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kehou.catalog.models import LibraryEntry
from kehou.core import clock
from kehou.core.api import ERRORS, NOT_FOUND, ActionView, ScopedListAPIView, query_bool, query_int, request_key
from kehou.core.errors import KehouError, NotFound, error_response
from kehou.core.scope import Scope
from kehou.orgs.models import OperatorCompany, Region, School, Term

from . import selectors
from .models import AuditReport, Disbursement, OperatorCost, Payee, PayLine, Payout, PayRate
from .serializers import (
    AnswerBody,
    ApprovedResult,
    AuditReportSerializer,
    BatchBody,
    BatchResult,
    DisbursementBody,
    DisbursementSerializer,
    OperatorCostSerializer,
    PayeeBody,
    PayeeSerializer,
    PayLineSerializer,
    PayoutBatchSerializer,
    PayoutSerializer,
    PeriodBody,
    RateBody,
    RateSerializer,
    ReasonBody,
    ReportBody,
)
from .services import disbursements, lines, payees, payouts, rates, reports

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


@extend_schema(
    summary="Disbursements from escrow (支出划付) in the caller's scope: the operator's costs and its tax remittances",
    parameters=[
        OpenApiParameter("status", str, enum=Disbursement.Status.values),
        OpenApiParameter("kind", str, enum=Disbursement.Kind.values),
    ],
)
class DisbursementListView(ScopedListAPIView):
    serializer_class = DisbursementSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        qs = (
            Disbursement.objects.select_related("operator")
            .annotate(n_costs=Count("costs", distinct=True), n_payouts=Count("payouts", distinct=True))
            .order_by("-requested_at", "-pk")
        )
        status = self.request.query_params.get("status", "")
        if status in Disbursement.Status.values:
            qs = qs.filter(status=status)
        kind = self.request.query_params.get("kind", "")
        if kind in Disbursement.Kind.values:
            qs = qs.filter(kind=kind)
        return qs


@extend_schema_view(
    post=extend_schema(
        summary="The operator asks to pay out of escrow its waiting costs of a district, or a period's withheld tax",
        description=(
            "`kind=costs` with `district`: every entered cost of the operator's schools there not yet paid out "
            "(decided by that district's bureau). `kind=tax` with `period` and the tax office's certificate as "
            "`voucher` (multipart): the tax withheld from that period's paid payouts (decided by the city bureau). "
            "Idempotent by `Idempotency-Key` (201 first, 200 after). Nothing waiting: 409 `disbursement_nothing`."
        ),
        request={
            "application/json": DisbursementBody,
            "multipart/form-data": DisbursementBody,
        },
        responses={
            200: DisbursementSerializer,
            201: DisbursementSerializer,
            400: ERRORS,
            403: ERRORS,
            404: NOT_FOUND,
            409: ERRORS,
            413: ERRORS,
        },
    )
)
class DisbursementRequestView(ActionView):
    body = DisbursementBody
    parser_classes = [JSONParser, MultiPartParser]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        from kehou.catalog.services.proofs import max_bytes
        from kehou.core import uploads

        uploads.refuse_oversized(request._request, limit=max_bytes())
        super().initial(request, *args, **kwargs)

    def select(self, scope: Scope) -> QuerySet[Any]:
        return OperatorCompany.objects.all()

    def act(self, obj: Any, values: dict[str, Any], *, actor: Any, now: Any) -> Any:
        key = request_key(self.request, values.get("request_key", ""))
        district = None
        if values.get("district"):
            district = Region.objects.filter(pk=values["district"], kind=Region.Kind.DISTRICT).first()
        d, created = disbursements.disbursement_request(
            actor=actor,
            operator=obj,
            kind=values["kind"],
            district=district,
            period=values.get("period", ""),
            voucher=values.get("voucher"),
            note=values.get("note", ""),
            request_key=key,
            now=now,
        )
        return Response(DisbursementSerializer(d).data, status=201 if created else 200)


class _DisbursementAction(ActionView):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return Disbursement.objects.select_related("operator")


@extend_schema_view(
    post=extend_schema(
        summary="The supervisor approves a disbursement: posted in the ledger, paid out of escrow",
        description="Costs: the district's bureau; tax: the city bureau. Others who see it: 403 "
        "`not_disbursement_approver`. Decided already: 409 `disbursement_decided`; escrow short: 409 "
        "`ledger_insufficient`.",
        request=None,
        responses={200: DisbursementSerializer, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class DisbursementApproveView(_DisbursementAction):
    def act(self, obj: Any, values: dict[str, Any], *, actor: Any, now: Any) -> Any:
        return DisbursementSerializer(disbursements.disbursement_approve(actor=actor, disbursement=obj, now=now)).data


@extend_schema_view(
    post=extend_schema(
        summary="The supervisor refuses a disbursement with a reason: its costs or tax wait again",
        request=ReasonBody,
        responses={200: DisbursementSerializer, 400: ERRORS, 403: ERRORS, 404: NOT_FOUND, 409: ERRORS},
    )
)
class DisbursementRefuseView(_DisbursementAction):
    body = ReasonBody

    def act(self, obj: Any, values: dict[str, Any], *, actor: Any, now: Any) -> Any:
        d = disbursements.disbursement_refuse(actor=actor, disbursement=obj, reason=values["reason"], now=now)
        return DisbursementSerializer(d).data


@extend_schema_view(
    get=extend_schema(
        summary="The calling teacher's payout account (where class-hour pay is transferred)",
        description="`bound` false (and the other fields empty) while none is bound, and for callers who are not "
        "teachers.",
        responses={200: PayeeSerializer},
    ),
    post=extend_schema(
        summary="The calling teacher binds their WeChat account: the code of WeChat's web authorisation and the "
        "real name",
        description="The openid comes from exchanging `code` (snsapi_base; five minutes, once), never from the "
        "client. A code that does not verify: 400 `payee_invalid`; a payout on its way to the current account: "
        "409 `payee_busy`.",
        request=PayeeBody,
        responses={200: PayeeSerializer, 400: ERRORS, 403: ERRORS, 409: ERRORS},
    ),
)
class PayeeView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    dangerously_unscoped = True  # the caller's own payout account only

    def get(self, request: Request) -> Response:
        profile = getattr(request.user, "teacher_profile", None)
        payee = Payee.objects.filter(teacher=profile).first() if profile is not None else None
        if payee is None:
            return Response({"bound": False, "openid": "", "real_name": "", "bound_at": None})
        return Response(PayeeSerializer(payee).data)

    def post(self, request: Request) -> Response:
        from kehou.core.api import parsed

        values = parsed(request, PayeeBody)
        payee = payees.payee_bind(
            actor=request.user, code=values["code"], real_name=values["real_name"], now=clock.now()
        )
        return Response(PayeeSerializer(payee).data)
