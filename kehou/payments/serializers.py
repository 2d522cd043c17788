"""Serializers of the orders, payments, refunds, channel notifications, reconciliation and ledger API. Inputs are
strict (unknown fields refused, numbers JSON integers, flags JSON booleans) and check only shapes and types; every
rule lives in the services. Outputs render what the selectors read; the scope (for masking names) comes in the
context. Money is integer fen."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kehou.core.api import MAX_ID
from kehou.core.error_codes import ErrorCode
from kehou.core.serializers import NamedRefSerializer as RefSerializer
from kehou.core.serializers import (
    SchoolRefSerializer,
    StrictBooleanField,
    StrictIntegerField,
    StrictSerializer,
    local_time,
)
from kehou.orgs.serializers import RegionRefSerializer
from kehou.people.selectors import shown_pupil_name

from .models import Channel, ChannelNotification, Order, OrderLine, PaymentAttempt, Refund, RefundPolicy
from .selectors import State, order_state


def _values(values: Any) -> str:
    return ", ".join(f"`{v}`" for v in values)


def _school(school: Any) -> dict[str, Any]:
    return {"id": school.pk, "code": school.code, "name": school.name}


def _pupil(obj: Order, context: dict[str, Any]) -> dict[str, Any]:
    scope = context.get("scope")
    name = shown_pupil_name(scope=scope, pupil=obj.pupil) if scope is not None else obj.pupil.name
    return {"id": obj.pupil_id, "name": name}


# --- inputs ------------------------------------------------------------------------------------------------------
class RequestKeyMixin(serializers.Serializer):  # type: ignore[type-arg]
    request_key = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        default="",
        help_text="the client's key, if not sent as the `Idempotency-Key` header",
    )


class OrderCreateSerializer(RequestKeyMixin, StrictSerializer):
    enrolment = StrictIntegerField(min_value=1, max_value=MAX_ID, help_text="the held seat (enrolment id) to pay for")
    include_materials = StrictBooleanField(
        required=False, default=False, help_text="add the class's optional materials as a second line"
    )


class PaySerializer(StrictSerializer):
    channel = serializers.CharField(max_length=20, help_text="one of `GET /api/v1/channels/`")
    openid = serializers.RegexField(
        r"^[A-Za-z0-9_-]{1,128}$",
        required=False,
        help_text="the payer's WeChat openid when paying inside WeChat (JSAPI); else the client's address is used",
    )


class RefundRequestSerializer(RequestKeyMixin, StrictSerializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class RefundDecideSerializer(StrictSerializer):
    approve = StrictBooleanField()


class TierSerializer(StrictSerializer):
    held_upto = serializers.DecimalField(
        max_digits=4, decimal_places=3, help_text="fraction of the sessions held (0 < x ≤ 1)"
    )
    percent = serializers.DecimalField(max_digits=5, decimal_places=2, help_text="of the pro-rata amount (0–100)")


class PolicySetSerializer(StrictSerializer):
    region = serializers.CharField(
        required=False, max_length=12, help_text="region code; the caller's own (the city for the city bureau)"
    )
    after_start = serializers.CharField(max_length=12, help_text=_values(RefundPolicy.AfterStart.values))
    tiers = TierSerializer(many=True, required=False, default=list)
    no_refund_after = serializers.DecimalField(
        max_digits=4,
        decimal_places=3,
        required=False,
        default=Decimal(1),
        help_text="no course refund once more than this fraction of the sessions are held",
    )
    approval_after_start = StrictBooleanField(required=False, default=False)

    def validate_tiers(self, value: Any) -> Any:
        if len(value) > 20:
            raise serializers.ValidationError("At most 20 tiers.", code=ErrorCode.MAX_LENGTH)
        return value


class ReconcileSerializer(StrictSerializer):
    channel = serializers.CharField(max_length=20)
    bill_date = serializers.DateField()
    file = serializers.FileField(
        required=False, allow_empty_file=True, help_text="the channel's bill as downloaded (else it is fetched)"
    )


# --- outputs: orders ---------------------------------------------------------------------------------------------
class ChannelSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()


class OrderLineSerializer(serializers.ModelSerializer[OrderLine]):
    kind = serializers.CharField(help_text=_values(OrderLine.Kind.values))

    class Meta:
        model = OrderLine
        fields = ["kind", "description", "amount_fen", "refunded_fen", "handed_out_at"]


class AttemptSerializer(serializers.ModelSerializer[PaymentAttempt]):
    status = serializers.CharField(help_text=_values(PaymentAttempt.Status.values))

    class Meta:
        model = PaymentAttempt
        fields = [
            "id",
            "channel",
            "out_trade_no",
            "amount_fen",
            "status",
            "channel_trade_no",
            "created_at",
            "finished_at",
        ]


class RefundBriefSerializer(serializers.ModelSerializer[Refund]):
    status = serializers.CharField(help_text=_values(Refund.Status.values))

    class Meta:
        model = Refund
        fields = [
            "id",
            "refund_no",
            "status",
            "channel",
            "stray",
            "course_fen",
            "materials_fen",
            "amount_fen",
            "reason",
            "basis",
            "requested_at",
            "finished_at",
            "failure",
        ]


class PupilRefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="masked (`张**`) outside the pupil's school and guardians")


class OrderSerializer(serializers.ModelSerializer[Order]):
    state = serializers.SerializerMethodField(help_text=_values(State.ALL))
    status = serializers.CharField(help_text=_values(Order.Status.values))
    school = serializers.SerializerMethodField()
    pupil = serializers.SerializerMethodField()
    course_class = serializers.SerializerMethodField()
    refundable_fen = serializers.IntegerField(read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "order_no",
            "state",
            "status",
            "school",
            "pupil",
            "enrolment",
            "course_class",
            "description",
            "total_fen",
            "paid_fen",
            "refunded_fen",
            "refundable_fen",
            "channel",
            "created_at",
            "expires_at",
            "paid_at",
            "closed_at",
        ]

    def get_state(self, obj: Order) -> str:
        return order_state(obj)

    @extend_schema_field(SchoolRefSerializer)
    def get_school(self, obj: Order) -> dict[str, Any]:
        return _school(obj.school)

    @extend_schema_field(PupilRefSerializer)
    def get_pupil(self, obj: Order) -> dict[str, Any]:
        return _pupil(obj, self.context)

    @extend_schema_field(RefSerializer)
    def get_course_class(self, obj: Order) -> dict[str, Any]:
        course_class = obj.enrolment.course_class
        return {"id": course_class.pk, "name": course_class.name}


class OrderDetailSerializer(OrderSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    attempts = AttemptSerializer(many=True, read_only=True)
    refunds = RefundBriefSerializer(many=True, read_only=True)

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "lines", "attempts", "refunds"]


class OrderTotalsSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    paid_fen = serializers.IntegerField()
    refunded_fen = serializers.IntegerField(help_text="refunds requested and not failed or rejected")


class PaymentStartSerializer(serializers.Serializer[Any]):
    kind = serializers.CharField(help_text="`redirect` (open `url`) or `jsapi` (call the wallet with `params`)")
    url = serializers.CharField()
    params = serializers.DictField(child=serializers.CharField())


class PayResultSerializer(serializers.Serializer[Any]):
    attempt = serializers.IntegerField()
    channel = serializers.CharField()
    out_trade_no = serializers.CharField()
    amount_fen = serializers.IntegerField()
    expires_at = serializers.DateTimeField()
    start = PaymentStartSerializer()


class QuoteSerializer(serializers.Serializer[Any]):
    order = serializers.IntegerField()
    course_fen = serializers.IntegerField()
    materials_fen = serializers.IntegerField()
    amount_fen = serializers.IntegerField()
    refundable_fen = serializers.IntegerField(help_text="paid and not yet refunded")
    needs_approval = serializers.BooleanField(help_text="the school approves first (the policy after the start)")
    basis = serializers.DictField(help_text="`sessions_total`, `sessions_held`, `rule`")


# --- outputs: refunds --------------------------------------------------------------------------------------------
class OrderRefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    order_no = serializers.CharField()
    description = serializers.CharField()


class RefundSerializer(RefundBriefSerializer):
    order = serializers.SerializerMethodField()
    school = serializers.SerializerMethodField()
    pupil = serializers.SerializerMethodField()
    out_trade_no = serializers.CharField(source="attempt.out_trade_no")

    class Meta(RefundBriefSerializer.Meta):
        fields = [*RefundBriefSerializer.Meta.fields, "order", "school", "pupil", "out_trade_no", "channel_refund_id"]

    @extend_schema_field(OrderRefSerializer)
    def get_order(self, obj: Refund) -> dict[str, Any]:
        return {"id": obj.order_id, "order_no": obj.order.order_no, "description": obj.order.description}

    @extend_schema_field(SchoolRefSerializer)
    def get_school(self, obj: Refund) -> dict[str, Any]:
        return _school(obj.order.school)

    @extend_schema_field(PupilRefSerializer)
    def get_pupil(self, obj: Refund) -> dict[str, Any]:
        return _pupil(obj.order, self.context)


class RefundTotalsSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    amount_fen = serializers.IntegerField(help_text="all refunds listed")
    succeeded_fen = serializers.IntegerField(help_text="refunded by the channel")
    in_progress_fen = serializers.IntegerField(help_text="awaiting the school or the channel")


class RefundRequestResultSerializer(serializers.Serializer[Any]):
    created = serializers.BooleanField(help_text="false for a retry with the same key")
    refund = RefundSerializer(allow_null=True, help_text="null when nothing was refundable (the place is cancelled)")
    order = OrderDetailSerializer()


# --- outputs: policies, notifications ----------------------------------------------------------------------------
class RefundPolicySerializer(serializers.ModelSerializer[RefundPolicy]):
    region = serializers.SerializerMethodField()
    after_start = serializers.CharField(help_text=_values(RefundPolicy.AfterStart.values))
    no_refund_after = serializers.DecimalField(max_digits=4, decimal_places=3, coerce_to_string=True)

    class Meta:
        model = RefundPolicy
        fields = ["id", "region", "after_start", "tiers", "no_refund_after", "approval_after_start", "set_at"]

    @extend_schema_field(RegionRefSerializer)
    def get_region(self, obj: RefundPolicy) -> dict[str, Any]:
        return {"id": obj.region_id, "code": obj.region.code, "name": obj.region.name, "kind": obj.region.kind}


class ChannelNotificationSerializer(serializers.ModelSerializer[ChannelNotification]):
    outcome = serializers.CharField(help_text=_values(ChannelNotification.Outcome.values))
    channel = serializers.CharField(help_text=_values(Channel.values))
    order = serializers.SerializerMethodField()

    class Meta:
        model = ChannelNotification
        fields = [
            "id",
            "channel",
            "received_at",
            "verified",
            "outcome",
            "reason",
            "alert",
            "out_trade_no",
            "out_refund_no",
            "order",
            "source_ip",
            "truncated",
            "repeats",
        ]

    @extend_schema_field(OrderRefSerializer(allow_null=True))
    def get_order(self, obj: ChannelNotification) -> dict[str, Any] | None:
        if obj.order is None:
            return None
        return {"id": obj.order_id, "order_no": obj.order.order_no, "description": obj.order.description}


class ChannelNotificationDetailSerializer(ChannelNotificationSerializer):
    class Meta(ChannelNotificationSerializer.Meta):
        fields = [*ChannelNotificationSerializer.Meta.fields, "headers", "body"]


class ChannelNotificationTotalsSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    alerts = serializers.IntegerField()


class NotifyAckSerializer(serializers.Serializer[Any]):
    """The channel's own answer (WeChat Pay v3: 204 or 4xx JSON; Alipay: ``success``/``fail`` text)."""


__all__ = ["local_time"]
