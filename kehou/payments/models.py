"""Orders, payment attempts through the channels, channel notifications, refunds, refund policies, reconciliation.

Invariants in the database (DESIGN.md rule 3): an order's total is its lines; an order is paid at most once and
never for more than its total; refunded ≤ paid on the order and on every line (check constraints, moved by
conditional UPDATEs); one order per held seat; every channel trade number and refund number is unique; a client's
request key is one order / one refund.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kehou.catalog.models import PUBLIC
from kehou.core.scope import ScopeSpec


class Channel(models.TextChoices):
    WECHAT = "wechat", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")
    GANFUTONG = "ganfutong", _("Ganfutong (provincial government payment)")
    SIMULATOR = "simulator", _("Simulator (demo)")
    WAIVER = "waiver", _("Fee waived (no payment)")


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting payment")
        PAID = "paid", _("Paid")
        CLOSED = "closed", _("Closed unpaid")

    order_no = models.CharField(_("order number"), max_length=32, unique=True)
    enrolment = models.OneToOneField("enrolment.Enrolment", on_delete=models.PROTECT, related_name="order")
    school = models.ForeignKey("orgs.School", on_delete=models.PROTECT, related_name="orders")
    pupil = models.ForeignKey("people.Pupil", on_delete=models.PROTECT, related_name="orders")
    payer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    description = models.CharField(_("description"), max_length=120)
    total_fen = models.PositiveIntegerField(_("total (fen)"))
    paid_fen = models.PositiveIntegerField(_("paid (fen)"), default=0)
    refunded_fen = models.PositiveIntegerField(_("refunded (fen)"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    channel = models.CharField(_("paid through"), max_length=12, choices=Channel.choices, blank=True)
    request_key = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(_("pay before"))
    paid_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.via_school("school", pupil="pupil", owner="payer")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(fields=["payer", "request_key"], name="order_request_once"),
            models.CheckConstraint(condition=Q(refunded_fen__lte=F("paid_fen")), name="order_refund_within_paid"),
            models.CheckConstraint(condition=Q(paid_fen=0) | Q(paid_fen=F("total_fen")), name="order_paid_in_full"),
            models.CheckConstraint(
                condition=Q(status="paid", paid_at__isnull=False) | (~Q(status="paid") & Q(paid_fen=0)),
                name="order_paid_state",
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"]), models.Index(fields=["school", "status"])]

    def __str__(self) -> str:
        return self.order_no

    @property
    def refundable_fen(self) -> int:
        return self.paid_fen - self.refunded_fen


class OrderLine(models.Model):
    class Kind(models.TextChoices):
        COURSE = "course", _("Course fee")
        MATERIALS = "materials", _("Materials (optional)")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="lines")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    description = models.CharField(_("description"), max_length=120)
    amount_fen = models.PositiveIntegerField(_("amount (fen)"))
    refunded_fen = models.PositiveIntegerField(_("refunded (fen)"), default=0)
    # Released from the prepayments by delivery (sessions held with evidence): no longer refundable.
    released_fen = models.PositiveIntegerField(_("released (fen)"), default=0)
    handed_out_at = models.DateTimeField(_("materials handed out at"), null=True, blank=True)

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.through("order", Order.kehou_scope)

    class Meta:
        ordering = ["order_id", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["order", "kind"], name="order_line_once_per_kind"),
            models.CheckConstraint(condition=Q(refunded_fen__lte=F("amount_fen")), name="line_refund_within_amount"),
            # What is refunded and what is released never add up to more than was charged (a refund racing a
            # release: one of the two conditional UPDATEs finds the room gone).
            models.CheckConstraint(
                condition=Q(refunded_fen__lte=F("amount_fen") - F("released_fen")), name="line_refund_release_within"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind} {self.amount_fen}"


class Release(models.Model):
    """One session's share of one paid order line, moved from the school's prepayments to its earned account when the
    session was delivered with evidence (ledger ``release:session:<id>``). At most one per line and session."""

    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="releases")
    session = models.ForeignKey("enrolment.ClassSession", on_delete=models.PROTECT, related_name="releases")
    amount_fen = models.PositiveIntegerField(_("amount (fen)"))
    at = models.DateTimeField()

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.through("line", OrderLine.kehou_scope)

    class Meta:
        ordering = ["session_id", "line_id"]
        constraints = [
            models.UniqueConstraint(fields=["line", "session"], name="release_once_per_session"),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="release_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.line_id}@{self.session_id} {self.amount_fen}"


class PaymentAttempt(models.Model):
    """One try to pay an order through one channel (a parent may switch channels). ``out_trade_no`` is the
    merchant's trade number the channel knows the payment by."""

    class Status(models.TextChoices):
        CREATED = "created", _("Created")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")
        CLOSED = "closed", _("Closed")
        STRAY = "stray", _("Paid twice: refunded")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="attempts")
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    out_trade_no = models.CharField(max_length=32, unique=True)
    amount_fen = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CREATED)
    channel_trade_no = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.through("order", Order.kehou_scope)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # An order is paid by exactly one attempt.
            models.UniqueConstraint(fields=["order"], condition=Q(status="paid"), name="attempt_paid_once"),
        ]

    def __str__(self) -> str:
        return self.out_trade_no


class Refund(models.Model):
    class Status(models.TextChoices):
        PENDING_APPROVAL = "pending_approval", _("Awaiting the school's approval")
        PROCESSING = "processing", _("With the channel")
        SUCCEEDED = "succeeded", _("Refunded")
        FAILED = "failed", _("Failed")
        REJECTED = "rejected", _("Rejected by the school")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    # The payment refunded: a refund goes back through the channel and trade it was paid with.
    attempt = models.ForeignKey(PaymentAttempt, on_delete=models.PROTECT, related_name="refunds")
    # A second payment of an already paid order (the payer paid twice through two channels) is refunded whole
    # and is not part of the order's paid/refunded counters.
    stray = models.BooleanField(default=False)
    refund_no = models.CharField(_("refund number"), max_length=32, unique=True)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    course_fen = models.PositiveIntegerField(_("course fee refunded (fen)"), default=0)
    materials_fen = models.PositiveIntegerField(_("materials refunded (fen)"), default=0)
    amount_fen = models.PositiveIntegerField(_("amount (fen)"))
    reason = models.CharField(_("reason"), max_length=200)
    # How the amount was worked out: sessions held/total, rule applied (for the parent and for audits).
    basis = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=Status.choices)
    channel_refund_id = models.CharField(max_length=64, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    request_key = models.CharField(max_length=64)
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    failure = models.CharField(max_length=200, blank=True)

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.through("order", Order.kehou_scope)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.UniqueConstraint(fields=["requested_by", "request_key"], name="refund_request_once"),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="refund_positive"),
            models.CheckConstraint(
                condition=Q(amount_fen=F("course_fen") + F("materials_fen")), name="refund_amount_is_its_parts"
            ),
        ]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return self.refund_no


class ChannelNotification(models.Model):
    """Every notification a channel sent, kept as received (with secrets never present: channels sign, they do
    not send keys), with what was done with it."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("Applied")
        DUPLICATE = "duplicate", _("Duplicate (already applied)")
        LATE_REFUNDED = "late_refunded", _("Arrived after the order closed: refunded")
        REJECTED = "rejected", _("Rejected")

    channel = models.CharField(max_length=12, choices=Channel.choices)
    received_at = models.DateTimeField()
    headers = models.JSONField(default=dict)
    body = models.TextField(max_length=20000)
    verified = models.BooleanField(default=False)
    outcome = models.CharField(max_length=14, choices=Outcome.choices)
    reason = models.CharField(max_length=120, blank=True)
    out_trade_no = models.CharField(max_length=32, blank=True)
    out_refund_no = models.CharField(max_length=32, blank=True)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="notifications")
    alert = models.BooleanField(default=False)
    # Where it came from (REMOTE_ADDR), and, past the rejected notifications one address (or everyone) may have
    # stored in full per minute, a truncated row that counts in ``repeats`` the further ones like it (same channel,
    # reason and address, within the minute) instead of storing each.
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    truncated = models.BooleanField(default=False)
    repeats = models.PositiveIntegerField(default=0)

    # Forged or mismatching notifications are security events: the city bureau (everything) sees them all.
    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec.via_school("order__school", operator_via_school=False)

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [
            models.Index(fields=["alert", "received_at"]),
            models.Index(fields=["outcome", "received_at"]),
            models.Index(fields=["source_ip", "received_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.outcome} {self.received_at:%Y-%m-%d %H:%M:%S}"


class RefundPolicy(models.Model):
    """How much a cancellation refunds: the city's default, a district's override.

    Before the first session the whole course fee is refunded. After it, ``after_start`` decides: ``pro_rata``
    refunds the sessions not yet held; ``tiered`` multiplies that by the percentage of the first tier whose
    ``held_upto`` (fraction of sessions held) is not exceeded; once more than ``no_refund_after`` of the sessions
    are held nothing is refunded. ``approval_after_start`` sends refunds after the start to the school first.
    Materials are refundable until handed out.
    """

    class AfterStart(models.TextChoices):
        PRO_RATA = "pro_rata", _("Pro rata to the sessions not held")
        TIERED = "tiered", _("Tiered")

    region = models.OneToOneField("orgs.Region", on_delete=models.PROTECT, related_name="refund_policy")
    after_start = models.CharField(max_length=10, choices=AfterStart.choices, default=AfterStart.PRO_RATA)
    tiers = models.JSONField(default=list, blank=True)  # [{"held_upto": 0.25, "percent": 100}, …]
    no_refund_after = models.DecimalField(max_digits=4, decimal_places=3, default=1)
    approval_after_start = models.BooleanField(default=False)
    set_at = models.DateTimeField()

    kehou_scope: ClassVar[ScopeSpec] = PUBLIC

    class Meta:
        verbose_name = _("refund policy")
        verbose_name_plural = _("refund policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(no_refund_after__gte=0, no_refund_after__lte=1), name="policy_deadline_fraction"
            )
        ]

    def __str__(self) -> str:
        return f"{self.region}: {self.after_start}"


class Reconciliation(models.Model):
    """A channel's daily bill matched against our payments and refunds."""

    channel = models.CharField(max_length=12, choices=Channel.choices)
    bill_date = models.DateField()
    imported_at = models.DateTimeField()
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    rows = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    differences = models.PositiveIntegerField(default=0)
    bill_total_fen = models.BigIntegerField(default=0)
    our_total_fen = models.BigIntegerField(default=0)

    # The city bureau's report (no school path: only "everything" sees it).
    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec()

    class Meta:
        ordering = ["-bill_date", "channel"]
        constraints = [models.UniqueConstraint(fields=["channel", "bill_date"], name="reconciliation_once")]

    def __str__(self) -> str:
        return f"{self.channel} {self.bill_date}"


class ReconciliationItem(models.Model):
    class Kind(models.TextChoices):
        MISSING = "missing", _("Ours, missing from the bill")
        EXTRA = "extra", _("In the bill, unknown to us")
        AMOUNT = "amount", _("Amounts differ")
        STATUS = "status", _("States differ")

    reconciliation = models.ForeignKey(Reconciliation, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    trade_kind = models.CharField(max_length=10)  # payment | refund
    reference = models.CharField(max_length=64)  # out_trade_no or out_refund_no
    bill_amount_fen = models.BigIntegerField(null=True)
    our_amount_fen = models.BigIntegerField(null=True)
    note = models.CharField(max_length=200, blank=True)

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec()

    class Meta:
        ordering = ["reconciliation_id", "kind", "reference"]

    def __str__(self) -> str:
        return f"{self.kind} {self.reference}"


class SimulatorTrade(models.Model):
    """The simulator channel's own memory of a trade or a refund (what a real channel keeps on its side)."""

    kind = models.CharField(max_length=10)  # payment | refund
    out_trade_no = models.CharField(max_length=32)
    out_refund_no = models.CharField(max_length=32, blank=True)
    channel_id = models.CharField(max_length=64, unique=True)
    amount_fen = models.PositiveIntegerField()
    status = models.CharField(max_length=12)  # created | paid | failed | closed | processing | succeeded
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "out_trade_no", "out_refund_no"], name="simulator_trade_once")
        ]

    def __str__(self) -> str:
        return self.channel_id


class SimulatorDelivery(models.Model):
    """A notification the simulator will send at ``deliver_at`` (encrypted and signed like WeChat Pay v3 when it is
    sent): lets the demo and the tests delay, duplicate and reorder notifications."""

    event_type = models.CharField(max_length=40)  # TRANSACTION.SUCCESS, REFUND.SUCCESS, …
    data = models.JSONField()  # the resource, encrypted and signed when it is sent (as the platform does per try)
    deliver_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    answer = models.CharField(max_length=40, blank=True)

    kehou_scope: ClassVar[ScopeSpec] = ScopeSpec()

    class Meta:
        ordering = ["deliver_at", "pk"]
        indexes = [models.Index(fields=["delivered_at", "deliver_at"])]

    def __str__(self) -> str:
        return f"delivery {self.pk} at {self.deliver_at}"
