"""The city bureau's reconciliation report: a channel's daily bill matched against our payments and refunds
(``services.reconciliation.reconcile``), listed, opened with its differences, exported to Excel. Reconciliations
reach no school: only a scope that sees everything (the city bureau, a superuser) sees any."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser, JSONParser, MultiPartParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from kehou.core import clock, uploads
from kehou.core.api import ERRORS, NOT_FOUND, ScopedObjectView, ScopedReadOnlyViewSet, parsed
from kehou.core.error_codes import ErrorCode
from kehou.core.errors import KehouError
from kehou.core.excel import XLSX_MIME
from kehou.core.scope import Scope

from . import selectors_reconciliation as recon_selectors
from .api import query_choice, query_date
from .models import Channel, Reconciliation, ReconciliationItem
from .serializers import ReconcileSerializer
from .services.reconciliation import reconcile, reconciliation_workbook

# A day's bill of a busy channel is a few megabytes; refused (413) before it is read when larger than this.
BILL_MAX_BYTES = int(getattr(settings, "KEHOU_BILL_MAX_BYTES", 20 * 1024 * 1024))
MULTIPART_SLACK = 16 * 1024


class ReconciliationItemSerializer(serializers.ModelSerializer[ReconciliationItem]):
    kind = serializers.CharField(help_text="`missing`, `extra`, `amount`, `status`")
    trade_kind = serializers.CharField(help_text="`payment`, `refund` or `settlement`")

    class Meta:
        model = ReconciliationItem
        fields = ["id", "kind", "trade_kind", "reference", "bill_amount_fen", "our_amount_fen", "note"]


class ReconciliationSerializer(serializers.ModelSerializer[Reconciliation]):
    imported_by = serializers.SerializerMethodField()
    missing = serializers.IntegerField(read_only=True)
    extra = serializers.IntegerField(read_only=True)
    amount_mismatch = serializers.IntegerField(read_only=True)
    status_mismatch = serializers.IntegerField(read_only=True)

    class Meta:
        model = Reconciliation
        fields = [
            "id",
            "channel",
            "bill_date",
            "imported_at",
            "imported_by",
            "rows",
            "matched",
            "differences",
            "missing",
            "extra",
            "amount_mismatch",
            "status_mismatch",
            "bill_total_fen",
            "our_total_fen",
        ]

    def get_imported_by(self, obj: Reconciliation) -> str | None:
        user = obj.imported_by
        return None if user is None else (user.full_name or user.username)


class ReconciliationDetailSerializer(ReconciliationSerializer):
    settled_fen = serializers.SerializerMethodField(help_text="moved from the channel's clearing into escrow")
    items = serializers.SerializerMethodField()

    class Meta(ReconciliationSerializer.Meta):
        fields = [*ReconciliationSerializer.Meta.fields, "settled_fen", "items"]

    def get_settled_fen(self, obj: Reconciliation) -> int:
        return recon_selectors.settled_fen(obj.channel, obj.bill_date)

    @extend_schema_field(ReconciliationItemSerializer(many=True))
    def get_items(self, obj: Reconciliation) -> list[Any]:
        return list(ReconciliationItemSerializer(self.context["items"], many=True).data)


class _XlsxOrJson(BaseContentNegotiation):
    """The export answers an .xlsx itself; anything DRF renders (errors) is JSON whatever the Accept."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


@extend_schema_view(
    list=extend_schema(
        summary="Reconciliations of the channels' daily bills (the city bureau's report)",
        description=(
            "One per channel and day: rows in the bill, matched, differences by kind (`missing`: ours, not in the "
            "bill; `extra`: in the bill, unknown to us; `amount_mismatch`; `status_mismatch`), and the nets "
            "(payments − refunds) on each side. Only the city bureau sees any."
        ),
        parameters=[
            OpenApiParameter("channel", str, enum=Channel.values),
            OpenApiParameter("date_from", OpenApiTypes.DATE),
            OpenApiParameter("date_to", OpenApiTypes.DATE),
        ],
    ),
    retrieve=extend_schema(
        summary="One reconciliation with its differences",
        parameters=[
            OpenApiParameter("kind", str, enum=ReconciliationItem.Kind.values),
            OpenApiParameter("trade_kind", str, enum=["payment", "refund", "settlement"]),
        ],
    ),
)
class ReconciliationViewSet(ScopedReadOnlyViewSet):
    parser_classes = [MultiPartParser, JSONParser]

    def get_serializer_class(self) -> type[Any]:
        return ReconciliationDetailSerializer if self.action == "retrieve" else ReconciliationSerializer

    def select(self, scope: Scope) -> QuerySet[Any]:
        return recon_selectors.reconciliation_list(
            scope=scope,
            channel=query_choice(self.request, "channel", Channel.values),
            date_from=query_date(self.request, "date_from"),
            date_to=query_date(self.request, "date_to"),
        )

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        reconciliation = self.get_object()
        items = recon_selectors.reconciliation_items(
            scope=self.scope,
            reconciliation=reconciliation,
            kind=query_choice(request, "kind", ReconciliationItem.Kind.values),
            trade_kind=query_choice(request, "trade_kind", ["payment", "refund", "settlement"]),
        )
        return Response(ReconciliationDetailSerializer(reconciliation, context={"items": items}).data)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if request.method == "POST":
            # before authentication may read the body
            uploads.refuse_oversized(request._request, limit=BILL_MAX_BYTES, slack=MULTIPART_SLACK)
        super().initial(request, *args, **kwargs)

    @extend_schema(
        summary="Reconcile a channel's bill of a day (the city bureau)",
        description=(
            "Matches the bill against our payments and refunds of that day, records every difference (importing "
            "the day again replaces them) and posts the day's settlement into escrow once. The bill is downloaded "
            "through the channel, or sent as the multipart field `file` (JSON bodies have no file). Codes: "
            "`channel_unknown`, `bill_unavailable`, `bill_unreadable`, `bill_wrong_merchant`, `bill_wrong_date`; "
            "403 `not_city_admin` for anyone but the city bureau; 413 `file_too_large`."
        ),
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "channel": {"type": "string", "enum": [c for c in Channel.values if c != Channel.WAIVER]},
                    "bill_date": {"type": "string", "format": "date"},
                    "file": {"type": "string", "format": "binary"},
                },
                "required": ["channel", "bill_date"],
                "additionalProperties": False,
            },
            "application/json": {
                "type": "object",
                "properties": {
                    "channel": {"type": "string"},
                    "bill_date": {"type": "string", "format": "date"},
                },
                "required": ["channel", "bill_date"],
                "additionalProperties": False,
            },
        },
        responses={201: ReconciliationDetailSerializer, 400: ERRORS, 403: ERRORS, 413: ERRORS},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        v = parsed(request, ReconcileSerializer)
        scope = self.scope
        if not scope.everything:
            raise KehouError(
                _("Only the city bureau reconciles the channels' bills."), code=ErrorCode.NOT_CITY_ADMIN, status=403
            )
        upload = v.get("file")
        content = upload.read() if upload is not None else None
        done = reconcile(
            channel=v["channel"], bill_date=v["bill_date"], content=content, actor=request.user, now=clock.now()
        )
        fresh = recon_selectors.reconciliation_list(scope=scope).get(pk=done.pk)
        items = recon_selectors.reconciliation_items(scope=scope, reconciliation=fresh)
        body = ReconciliationDetailSerializer(fresh, context={"items": items}).data
        return Response(body, status=status.HTTP_201_CREATED)


class ReconciliationExportView(ScopedObjectView):
    content_negotiation_class = _XlsxOrJson

    def select(self, scope: Scope) -> QuerySet[Any]:
        return Reconciliation.objects.all()

    @extend_schema(
        summary="A reconciliation as an Excel workbook (one row per difference, then the day's figures)",
        responses={(200, XLSX_MIME): OpenApiTypes.BINARY, 404: NOT_FOUND},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        reconciliation = self.get_object()
        response = HttpResponse(reconciliation_workbook(reconciliation), content_type=XLSX_MIME)
        name = f"reconciliation-{reconciliation.channel}-{reconciliation.bill_date.isoformat()}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
