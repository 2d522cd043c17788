"""Teachers' class-hour pay (课时费): rates, pay lines computed from the evidence of delivery, their approval by the
school and then the operator, and payouts through a transfer channel.

A pay line exists only for a session delivered with evidence (a check-in inside the school's radius, or a make-up
the school approved, and a roll call that was taken and closed); it names whoever ran the session (a substitute's
session pays the substitute). Lines are computed by :func:`kehou.payroll.services.lines.pay_lines_compute`, never
typed, and recomputed only while nobody has decided on them. A line moves

    computed → school_approved → approved (locked; the ledger accrues it) → paying → paid
    computed → rejected (with a reason) → (the teacher disputes; the school reinstates it →) computed

and a payout carries one teacher's approved lines of one period, tax withheld for outside teachers.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kehou.catalog.models import PUBLIC
from kehou.core.scope import ScopeSpec

PERIOD = RegexValidator(r"^20[0-9]{2}-(0[1-9]|1[0-2])$", _("A period is a month: YYYY-MM."))
# A pay line or a payout: the school and its district see it, the operators authorised for the school, the teacher.
_PAY_SCOPE = ScopeSpec.via_school("school", teacher="teacher")


class PayStandard(models.Model):
    """The authorities' teacher pay per class hour for one kind of teacher (staff or outside), set by the city or,
    stricter, by a district. Without one, the fee standard's ``teacher_pay_fen`` applies to both kinds."""

    region = models.ForeignKey("orgs.Region", on_delete=models.PROTECT, related_name="+")
    # No category: the standard for care sessions (看护), which belong to no course category.
    category = models.ForeignKey("catalog.Category", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    teacher_kind = models.CharField(
        _("teacher"), max_length=10, choices=[("staff", _("Staff")), ("outside", _("Outside"))]
    )
    rate_fen = models.PositiveIntegerField(_("pay per class hour (fen)"))
    set_at = models.DateTimeField()

    kehou_scope: ClassVar[ScopeSpec] = PUBLIC

    class Meta:
        verbose_name = _("pay standard")
        verbose_name_plural = _("pay standards")
        constraints = [
            models.UniqueConstraint(fields=["region", "category", "teacher_kind"], name="pay_standard_once"),
            models.CheckConstraint(condition=Q(rate_fen__gt=0, rate_fen__lte=10_000_00), name="pay_standard_range"),
        ]

    def __str__(self) -> str:
        return f"{self.region_id}/{self.category_id}/{self.teacher_kind} {self.rate_fen}"


class PayRate(models.Model):
    """An operator's own rate for one course (library entry), inside the authorities' standard."""

    operator = models.ForeignKey("orgs.OperatorCompany", on_delete=models.PROTECT, related_name="pay_rates")
    entry = models.ForeignKey("catalog.LibraryEntry", on_delete=models.PROTECT, related_name="+")
    teacher_kind = models.CharField(
        _("teacher"), max_length=10, choices=[("staff", _("Staff")), ("outside", _("Outside"))]
    )
    rate_fen = models.PositiveIntegerField(_("pay per class hour (fen)"))
    set_at = models.DateTimeField()
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(operator="operator", operator_via_school=False)

    class Meta:
        verbose_name = _("pay rate")
        verbose_name_plural = _("pay rates")
        constraints = [
            models.UniqueConstraint(fields=["operator", "entry", "teacher_kind"], name="pay_rate_once"),
            models.CheckConstraint(condition=Q(rate_fen__gt=0), name="pay_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.operator_id}/{self.entry_id}/{self.teacher_kind} {self.rate_fen}"


class Payee(models.Model):
    """Where a teacher's pay goes: the WeChat openid under the platform's app and the real name the channel checks."""

    teacher = models.OneToOneField("people.TeacherProfile", on_delete=models.CASCADE, related_name="payee")
    openid = models.CharField(_("WeChat openid"), max_length=64)
    real_name = models.CharField(_("real name"), max_length=40)
    bound_at = models.DateTimeField()

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(
        district="teacher__schools__district", school="teacher__schools", teacher="teacher"
    )

    class Meta:
        verbose_name = _("payee account")
        verbose_name_plural = _("payee accounts")

    def __str__(self) -> str:
        return f"{self.teacher_id} → {self.openid[:6]}…"


class Payout(models.Model):
    """One transfer to one teacher for their approved lines of one period: gross, tax withheld, net sent.

    Its ``out_bill_no`` is chosen once and every send (and re-send after an unknown answer) uses it; a payout the
    channel failed for good gives its lines back (approved again) and a later batch pays them under a new number."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("With the channel")
        PAID = "paid", _("Paid out")
        FAILED = "failed", _("Failed")

    batch = models.ForeignKey("PayoutBatch", on_delete=models.PROTECT, related_name="payouts")
    schools = models.ManyToManyField("orgs.School", related_name="+")  # the schools whose lines it carried
    teacher = models.ForeignKey("people.TeacherProfile", on_delete=models.PROTECT, related_name="payouts")
    period = models.CharField(_("period"), max_length=7, validators=[PERIOD])
    teacher_kind = models.CharField(max_length=10)
    gross_fen = models.PositiveBigIntegerField(_("gross (fen)"))
    tax_fen = models.PositiveBigIntegerField(_("tax withheld (fen)"), default=0)
    net_fen = models.PositiveBigIntegerField(_("sent (fen)"))
    tax_rule = models.CharField(_("tax rule"), max_length=40, blank=True)
    line_ids = models.JSONField(default=list)  # the lines it carried (kept when a failed payout gives them back)
    out_bill_no = models.CharField(_("bill number"), max_length=32, unique=True)
    channel = models.CharField(_("channel"), max_length=12)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    transfer_bill_no = models.CharField(max_length=64, blank=True)
    channel_state = models.CharField(max_length=20, blank=True)
    failure = models.CharField(_("failure"), max_length=200, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    remittance = models.ForeignKey(
        "Disbursement", null=True, blank=True, on_delete=models.PROTECT, related_name="payouts"
    )  # the live tax remittance that carries its withheld tax

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(
        district="schools__district", school="schools", teacher="teacher", operator="batch__operator"
    )

    class Meta:
        ordering = ["-created_at", "pk"]
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        constraints = [
            models.CheckConstraint(condition=Q(net_fen=F("gross_fen") - F("tax_fen")), name="payout_net"),
            models.CheckConstraint(condition=Q(net_fen__gt=0), name="payout_positive"),
        ]
        indexes = [models.Index(fields=["status", "sent_at"])]

    def __str__(self) -> str:
        return self.out_bill_no


class PayoutBatch(models.Model):
    """An operator pays one period's approved lines out: one payout per teacher and school. Only one batch of an
    operator is being sent at a time (the database refuses a second)."""

    class Status(models.TextChoices):
        SENDING = "sending", _("Being sent")
        DONE = "done", _("Done")

    operator = models.ForeignKey("orgs.OperatorCompany", on_delete=models.PROTECT, related_name="payout_batches")
    period = models.CharField(_("period"), max_length=7, validators=[PERIOD])
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.SENDING)
    request_key = models.CharField(max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(
        district="payouts__schools__district",
        school="payouts__schools",
        teacher="payouts__teacher",
        operator="operator",
        operator_via_school=False,
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("payout batch")
        verbose_name_plural = _("payout batches")
        constraints = [
            models.UniqueConstraint(
                fields=["operator"], condition=Q(status="sending"), name="payout_batch_one_at_a_time"
            ),
            models.UniqueConstraint(fields=["created_by", "request_key"], name="payout_batch_request_once"),
        ]

    def __str__(self) -> str:
        return f"{self.operator_id} {self.period} #{self.pk}"


class PayLine(models.Model):
    class Status(models.TextChoices):
        COMPUTED = "computed", _("Awaiting the school")
        SCHOOL_APPROVED = "school_approved", _("Awaiting the operator")
        REJECTED = "rejected", _("Rejected")
        APPROVED = "approved", _("Approved")
        PAYING = "paying", _("Being paid")
        PAID = "paid", _("Paid out")

    session = models.OneToOneField("enrolment.ClassSession", on_delete=models.PROTECT, related_name="pay_line")
    teacher = models.ForeignKey("people.TeacherProfile", on_delete=models.PROTECT, related_name="pay_lines")
    school = models.ForeignKey("orgs.School", on_delete=models.PROTECT, related_name="+")
    period = models.CharField(_("period"), max_length=7, validators=[PERIOD])
    teacher_kind = models.CharField(_("teacher"), max_length=10)
    class_hours = models.PositiveSmallIntegerField(_("class hours"), default=1)
    rate_fen = models.PositiveIntegerField(_("pay per class hour (fen)"))
    rate_basis = models.CharField(_("rate from"), max_length=20)  # operator_rate | district_standard | …
    amount_fen = models.PositiveIntegerField(_("amount (fen)"))
    substitute = models.BooleanField(_("as substitute"), default=False)
    evidence = models.JSONField(default=dict)  # check-in outcome/timing/make-up, roll call counts and close time
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.COMPUTED)
    computed_at = models.DateTimeField()
    school_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    school_decided_at = models.DateTimeField(null=True, blank=True)
    reject_reason = models.CharField(_("reason"), max_length=200, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    accrual_key = models.CharField(_("ledger transaction"), max_length=120, blank=True)  # the accrual that locked it
    disputed_at = models.DateTimeField(null=True, blank=True)
    dispute_reason = models.CharField(_("dispute"), max_length=200, blank=True)
    dispute_answer = models.CharField(_("answer"), max_length=200, blank=True)
    dispute_answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    dispute_answered_at = models.DateTimeField(null=True, blank=True)
    payout = models.ForeignKey(Payout, null=True, blank=True, on_delete=models.PROTECT, related_name="lines")

    kehou_scope: ClassVar[ScopeSpec] = _PAY_SCOPE

    class Meta:
        ordering = ["period", "school_id", "teacher_id", "session_id"]
        verbose_name = _("pay line")
        verbose_name_plural = _("pay lines")
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen=F("rate_fen") * F("class_hours")), name="pay_line_amount"),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(reject_reason=""), name="pay_line_reject_reason"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "paying", "paid"]) | Q(approved_at__isnull=False),
                name="pay_line_approved_when",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["paying", "paid"], payout__isnull=False)
                | (~Q(status__in=["paying", "paid"]) & Q(payout__isnull=True)),
                name="pay_line_payout_binding",
            ),
            models.CheckConstraint(
                condition=Q(disputed_at__isnull=True) | ~Q(dispute_reason=""), name="pay_line_dispute_reason"
            ),
        ]
        indexes = [
            models.Index(fields=["school", "period", "status"]),
            models.Index(fields=["teacher", "period"]),
        ]

    def __str__(self) -> str:
        return f"{self.session_id} {self.teacher_id} {self.amount_fen}"

    @property
    def dispute_open(self) -> bool:
        return self.disputed_at is not None and self.dispute_answered_at is None


class OperatorCost(models.Model):
    """A cost the operator bore for a school in a term (training, course development, operating), entered with its
    receipt (a PDF or image, checked by its content like the proof files). Entering it accrues it in the ledger
    (``cost:<id>``: Dr earned:school, Cr operator_costs_payable): it comes out of what the school's delivered sessions
    earned."""

    class Kind(models.TextChoices):
        TRAINING = "training", _("Training")
        COURSE_DEVELOPMENT = "course_development", _("Course development")
        OPERATING = "operating", _("Operating")

    operator = models.ForeignKey("orgs.OperatorCompany", on_delete=models.PROTECT, related_name="costs")
    school = models.ForeignKey("orgs.School", on_delete=models.PROTECT, related_name="+")
    term = models.ForeignKey("orgs.Term", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    amount_fen = models.PositiveBigIntegerField(_("amount (fen)"))
    description = models.CharField(_("description"), max_length=200)
    receipt = models.FileField(_("receipt"), upload_to="receipts/%Y/%m/", max_length=200)
    receipt_name = models.CharField(max_length=200)
    receipt_sha256 = models.CharField(max_length=64)
    receipt_size = models.PositiveIntegerField()
    receipt_type = models.CharField(max_length=40)
    incurred_on = models.DateField(_("incurred on"))
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField()
    disbursement = models.ForeignKey(
        "Disbursement", null=True, blank=True, on_delete=models.PROTECT, related_name="costs"
    )  # the live disbursement that pays it out of escrow

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(
        district="school__district", school="school", operator="operator", operator_via_school=False
    )

    class Meta:
        ordering = ["-incurred_on", "-pk"]
        verbose_name = _("operator cost")
        verbose_name_plural = _("operator costs")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_fen__gt=0, amount_fen__lte=10_000_000_00), name="operator_cost_amount_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operator_id} {self.kind} {self.amount_fen}"


class AuditReport(models.Model):
    """The operator's report on a term (审计报告) for the schools of one district, filed to that district's bureau:
    per school and in total, fees received, refunds, released, teachers' pay (per teacher, with class hours), costs by
    kind and what remains, generated from the ledger and the pay lines (``figures``, with the postings behind each
    figure in ``trace``), never typed. Filed again while not acknowledged; the bureau acknowledges it once."""

    class Status(models.TextChoices):
        FILED = "filed", _("Filed")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")

    operator = models.ForeignKey("orgs.OperatorCompany", on_delete=models.PROTECT, related_name="audit_reports")
    term = models.ForeignKey("orgs.Term", on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey("orgs.Region", on_delete=models.PROTECT, related_name="+")
    through = models.DateField(_("figures through"))
    figures = models.JSONField(default=dict)
    trace = models.JSONField(default=dict)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.FILED)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filed_at = models.DateTimeField()
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(district="district", operator="operator", operator_via_school=False)

    class Meta:
        ordering = ["-filed_at", "-pk"]
        verbose_name = _("audit report")
        verbose_name_plural = _("audit reports")
        constraints = [
            models.UniqueConstraint(fields=["operator", "term", "district"], name="audit_report_once"),
            models.CheckConstraint(
                condition=Q(status="filed", acknowledged_at__isnull=True)
                | Q(status="acknowledged", acknowledged_at__isnull=False),
                name="audit_report_acknowledged_when",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operator_id} {self.term_id} {self.district_id}"


class Disbursement(models.Model):
    """Money the operator takes out of the escrow account besides teachers' pay (支出划付), on the supervisor's word:

    * ``costs``: its entered costs of one district's schools, approved by that district's bureau;
    * ``tax``: the tax withheld from outside teachers' pay in one month, remitted to the tax office, with the tax
      office's certificate (完税证明) uploaded and checked like a receipt, approved by the city bureau.

    A cost or a payout's tax is carried by one live disbursement at most (its ``disbursement`` / ``remittance``
    field); a refused one gives them back. Approval posts it (``disburse:<id>:<school>`` per school for costs,
    ``disburse:<id>`` for tax: Dr the payable, Cr escrow) and names the instruction the escrow bank carries out."""

    class Kind(models.TextChoices):
        COSTS = "costs", _("Operator costs")
        TAX = "tax", _("Tax withheld")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Awaiting the bureau")
        APPROVED = "approved", _("Approved and paid out")
        REFUSED = "refused", _("Refused")

    operator = models.ForeignKey("orgs.OperatorCompany", on_delete=models.PROTECT, related_name="disbursements")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    district = models.ForeignKey("orgs.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    period = models.CharField(_("period"), max_length=7, blank=True)
    amount_fen = models.PositiveBigIntegerField(_("amount (fen)"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED)
    instruction_no = models.CharField(_("instruction number"), max_length=32, unique=True)
    voucher = models.FileField(_("certificate"), upload_to="vouchers/%Y/%m/", max_length=200, blank=True)
    voucher_name = models.CharField(max_length=200, blank=True)
    voucher_sha256 = models.CharField(max_length=64, blank=True)
    voucher_type = models.CharField(max_length=40, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    request_key = models.CharField(max_length=64)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec(district="district", operator="operator", operator_via_school=False)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("disbursement")
        verbose_name_plural = _("disbursements")
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="disbursement_positive"),
            models.CheckConstraint(
                condition=(Q(kind="costs", district__isnull=False, period="") | Q(kind="tax", district__isnull=True))
                & ~Q(kind="tax", period=""),
                name="disbursement_kind_fields",
            ),
            models.UniqueConstraint(fields=["requested_by", "request_key"], name="disbursement_request_once"),
        ]

    def __str__(self) -> str:
        return self.instruction_no
