"""What the pay API reads and answers."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kehou.attendance.serializers import IdName
from kehou.core.serializers import StrictBooleanField, StrictIntegerField, StrictSerializer

from .models import PayLine, Payout, PayoutBatch


class TeacherBrief(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField(source="user.full_name")
    kind = serializers.CharField()


class PayLineSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    period = serializers.CharField(help_text="the month, YYYY-MM")
    session = serializers.IntegerField(source="session_id")
    date = serializers.DateField(source="session.date")
    starts_at = serializers.TimeField(source="session.starts_at")
    course_class = IdName(source="session.course_class")
    school = IdName()
    teacher = TeacherBrief()
    teacher_kind = serializers.CharField()
    substitute = serializers.BooleanField(help_text="ran the session as the substitute the school named")
    class_hours = serializers.IntegerField()
    rate_fen = serializers.IntegerField()
    rate_basis = serializers.CharField(
        help_text="operator_rate, district_standard, city_standard, district_fee_standard or city_fee_standard"
    )
    amount_fen = serializers.IntegerField()
    evidence = serializers.JSONField(help_text="the check-in (outcome, timing, make-up) and the roll call's counts")
    status = serializers.ChoiceField(choices=PayLine.Status.choices)
    computed_at = serializers.DateTimeField()
    school_decided_at = serializers.DateTimeField(allow_null=True)
    reject_reason = serializers.CharField(allow_blank=True)
    approved_at = serializers.DateTimeField(allow_null=True)
    accrual_key = serializers.CharField(allow_blank=True, help_text="the ledger transaction that accrued it")
    disputed_at = serializers.DateTimeField(allow_null=True)
    dispute_reason = serializers.CharField(allow_blank=True)
    dispute_answer = serializers.CharField(allow_blank=True)
    dispute_answered_at = serializers.DateTimeField(allow_null=True)
    dispute_open = serializers.BooleanField()
    payout = serializers.IntegerField(source="payout_id", allow_null=True)


class PayoutSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    batch = serializers.IntegerField(source="batch_id")
    period = serializers.CharField()
    teacher = TeacherBrief()
    teacher_kind = serializers.CharField()
    gross_fen = serializers.IntegerField()
    tax_fen = serializers.IntegerField()
    net_fen = serializers.IntegerField()
    tax_rule = serializers.CharField(allow_blank=True)
    lines = serializers.IntegerField(source="line_count")
    out_bill_no = serializers.CharField()
    channel = serializers.CharField()
    status = serializers.ChoiceField(choices=Payout.Status.choices)
    channel_state = serializers.CharField(allow_blank=True)
    transfer_bill_no = serializers.CharField(allow_blank=True)
    attempts = serializers.IntegerField()
    failure = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class PayoutBatchSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    operator = IdName()
    period = serializers.CharField()
    status = serializers.ChoiceField(choices=PayoutBatch.Status.choices)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    payouts = serializers.IntegerField(source="payout_count")
    gross_fen = serializers.IntegerField(source="gross_total")
    tax_fen = serializers.IntegerField(source="tax_total")
    net_fen = serializers.IntegerField(source="net_total")


class PeriodBody(StrictSerializer):
    period = serializers.CharField(max_length=20, allow_blank=True, help_text="the month, YYYY-MM (required)")


class ReasonBody(StrictSerializer):
    reason = serializers.CharField(max_length=200, allow_blank=True, help_text="required, 1–200 characters")


class AnswerBody(StrictSerializer):
    reinstate = StrictBooleanField(help_text="true: the rejected line awaits approval again; false: it stands")
    answer = serializers.CharField(max_length=200, allow_blank=True, help_text="required, 1–200 characters")


class BatchBody(StrictSerializer):
    period = serializers.CharField(max_length=20, allow_blank=True, help_text="the month, YYYY-MM (required)")
    request_key = serializers.CharField(max_length=64, required=False, help_text="or the Idempotency-Key header")


class ApprovedResult(serializers.Serializer[Any]):
    lines = serializers.IntegerField(help_text="how many lines moved")


class BatchResult(serializers.Serializer[Any]):
    batch = PayoutBatchSerializer()
    skipped_teachers = serializers.ListField(
        child=serializers.IntegerField(), help_text="teachers with no payout account bound: their lines wait"
    )


class RateBody(StrictSerializer):
    entry = StrictIntegerField(help_text="the library entry (course)")
    teacher_kind = serializers.ChoiceField(choices=[("staff", "staff"), ("outside", "outside")])
    rate_fen = StrictIntegerField(help_text="pay per class hour in fen, at most the authorities' standard")


class RateSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    operator = serializers.IntegerField(source="operator_id")
    entry = serializers.IntegerField(source="entry_id")
    teacher_kind = serializers.CharField()
    rate_fen = serializers.IntegerField()
    set_at = serializers.DateTimeField()


class AuditReportSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    operator = IdName()
    term = IdName()
    district = IdName()
    through = serializers.DateField(help_text="the figures are as of the end of this day")
    status = serializers.ChoiceField(choices=[("filed", "filed"), ("acknowledged", "acknowledged")])
    figures = serializers.JSONField(
        help_text=(
            "schools [{id, name, received, refunded, released, teacher_pay, training, course_development, operating, "
            "costs, remains, still_prepaid, teachers [{id, name, kind, class_hours, amount}]}] and total (fen)"
        )
    )
    trace = serializers.JSONField(help_text="per school and figure, the ledger transaction keys behind it")
    filed_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)


class ReportBody(StrictSerializer):
    term = StrictIntegerField()
    district = StrictIntegerField()


class OperatorCostSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    operator = serializers.IntegerField(source="operator_id")
    school = IdName()
    term = serializers.IntegerField(source="term_id")
    kind = serializers.CharField()
    amount_fen = serializers.IntegerField()
    description = serializers.CharField()
    incurred_on = serializers.DateField()
    receipt_name = serializers.CharField()
    receipt_sha256 = serializers.CharField()
    entered_at = serializers.DateTimeField()


class DisbursementSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    operator = IdName()
    kind = serializers.CharField(
        help_text="costs (the district's schools' entered costs) or tax (a period's withheld tax)"
    )
    district = serializers.IntegerField(source="district_id", allow_null=True, help_text="costs: the district")
    period = serializers.CharField(help_text="tax: the pay period, YYYY-MM; costs: empty")
    amount_fen = serializers.IntegerField()
    status = serializers.CharField(help_text="requested → approved (posted, paid out of escrow) or refused")
    instruction_no = serializers.CharField(help_text="the escrow bank's instruction number")
    voucher_name = serializers.CharField(help_text="tax: the tax office's certificate (its name as uploaded)")
    voucher_sha256 = serializers.CharField()
    note = serializers.CharField()
    requested_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField(help_text="why it was refused")
    items = serializers.SerializerMethodField(help_text="how many costs or payouts it carries")

    def get_items(self, obj: Any) -> int:
        if hasattr(obj, "n_costs"):  # annotated by the list (one query for the page)
            return int(obj.n_costs if obj.kind == "costs" else obj.n_payouts)
        return int(obj.costs.count() if obj.kind == "costs" else obj.payouts.count())


class DisbursementBody(StrictSerializer):
    kind = serializers.ChoiceField(choices=["costs", "tax"])
    district = serializers.IntegerField(required=False, min_value=1, help_text="costs: the district (required)")
    period = serializers.CharField(
        max_length=20, required=False, allow_blank=True, help_text="tax: the pay period YYYY-MM"
    )
    voucher = serializers.FileField(
        required=False, help_text="tax: the tax office's certificate, PDF or image (required; multipart)"
    )
    note = serializers.CharField(max_length=200, required=False, allow_blank=True)
    request_key = serializers.CharField(max_length=64, required=False, help_text="or the Idempotency-Key header")


class PayeeSerializer(serializers.Serializer[Any]):
    bound = serializers.SerializerMethodField(help_text="whether an account is bound")
    openid = serializers.SerializerMethodField(help_text="masked: the first six characters; empty when unbound")
    real_name = serializers.SerializerMethodField(help_text="empty when unbound")
    bound_at = serializers.SerializerMethodField(help_text="null when unbound")

    def get_bound(self, obj: Any) -> bool:
        return obj is not None

    def get_openid(self, obj: Any) -> str:
        return obj.openid[:6] + "…" if obj is not None else ""

    def get_real_name(self, obj: Any) -> str:
        return str(obj.real_name) if obj is not None else ""

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_bound_at(self, obj: Any) -> str | None:
        return serializers.DateTimeField().to_representation(obj.bound_at) if obj is not None else None


class PayeeBody(StrictSerializer):
    code = serializers.CharField(max_length=256, help_text="the code WeChat's web authorisation (snsapi_base) gave")
    real_name = serializers.CharField(max_length=40, help_text="as on the ID card")
