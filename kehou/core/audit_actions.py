"""Every action the audit log records, in one place, with the label a person reads on the audit page."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    ACCOUNT_LOCKED = "account.locked", _("Account: locked")
    CHECK_IN = "attendance.check_in", _("Check-in: taken")
    CHECK_IN_MAKEUP_REQUEST = "attendance.makeup_request", _("Check-in: make-up asked")
    CHECK_IN_MAKEUP_APPROVED = "attendance.makeup_approved", _("Check-in: make-up approved")
    CHECK_IN_MAKEUP_REJECTED = "attendance.makeup_rejected", _("Check-in: make-up rejected")
    LEAVE_APPROVER_SET = "attendance.leave_approver_set", _("School: who decides leave set")
    FOLLOW_UP_HANDLE = "attendance.follow_up_handle", _("Follow-up: closed as handled")
    PAY_RATE_SET = "payroll.rate_set", _("Pay: an operator's rate set")
    PAY_SCHOOL_APPROVE = "payroll.school_approve", _("Pay: the school approved a month")
    PAY_LINE_REJECT = "payroll.line_reject", _("Pay: a line rejected")
    PAY_LINE_DISPUTE = "payroll.line_dispute", _("Pay: a teacher disputed a line")
    PAY_DISPUTE_ANSWER = "payroll.dispute_answer", _("Pay: a dispute answered")
    PAY_OPERATOR_APPROVE = "payroll.operator_approve", _("Pay: the operator approved a month")
    PAYOUT_BATCH = "payroll.payout_batch", _("Pay: a payout batch started")
    OPERATOR_COST_ADD = "payroll.cost_add", _("Operator: a cost entered with its receipt")
    DISBURSEMENT_REQUEST = "payroll.disbursement_request", _("Disbursement: requested by the operator")
    DISBURSEMENT_APPROVE = "payroll.disbursement_approve", _("Disbursement: approved and paid out of escrow")
    DISBURSEMENT_REFUSE = "payroll.disbursement_refuse", _("Disbursement: refused")
    PAYEE_BIND = "payroll.payee_bind", _("Teacher: a WeChat account bound to receive pay")
    QR_LOGIN_SCAN = "teaching.qr_login_scan", _("Screen login: code scanned by a teacher")
    QR_LOGIN_APPROVE = "teaching.qr_login_approve", _("Screen login: approved on the phone")
    QR_LOGIN_REJECT = "teaching.qr_login_reject", _("Screen login: rejected on the phone")
    QR_LOGIN_USE = "teaching.qr_login_use", _("Screen login: the screen logged in")
    QR_LOGIN_WRONG_SECRET = "teaching.qr_login_wrong_secret", _("Screen login: polled with a wrong secret")
    AUDIT_REPORT_FILE = "payroll.audit_report_file", _("Audit report: filed")
    AUDIT_REPORT_ACKNOWLEDGE = "payroll.audit_report_acknowledge", _("Audit report: acknowledged")
    ROLL_CALL_CORRECTED = "attendance.roll_call_corrected", _("Roll call: corrected by the school")
    SUBSTITUTE_NAMED = "attendance.substitute_named", _("Session: substitute named")
    SUBSTITUTE_REMOVED = "attendance.substitute_removed", _("Session: substitute removed")
    CARE_STANDARD_SET = "care_standard.set", _("Care standard: set")
    CLASS_CANCEL = "class.cancel", _("Class: cancel")
    CLASS_CREATE = "class.create", _("Class: create")
    CLASS_UPDATE = "class.update", _("Class: update")
    DEMO_CATALOG_LOADED = "demo.catalog_loaded", _("Demo: catalog loaded")
    DEMO_ENROLMENT_LOADED = "demo.enrolment_loaded", _("Demo: enrolment loaded")
    DEMO_LOADED = "demo.loaded", _("Demo: loaded")
    DEMO_PAYMENTS_LOADED = "demo.payments_loaded", _("Demo: payments loaded")
    DEMO_RESET = "demo.reset", _("Demo: reset")
    ENROLMENT_APPLIED = "enrolment.applied", _("Enrolment: applied")
    ENROLMENT_CANCEL = "enrolment.cancel", _("Enrolment: cancel")
    ENROLMENT_CONFIRM = "enrolment.confirm", _("Enrolment: confirm")
    ENROLMENT_CONFIRMED = "enrolment.confirmed", _("Enrolment: confirmed")
    ENROLMENT_EXPIRE = "enrolment.expire", _("Enrolment: expire")
    ENROLMENT_HELD = "enrolment.held", _("Enrolment: held")
    ENROLMENT_PROMOTE = "enrolment.promote", _("Enrolment: promote")
    ENROLMENT_WAITING = "enrolment.waiting", _("Enrolment: waiting")
    EXPERT_RECUSED = "expert.recused", _("Expert: recused")
    FEE_STANDARD_CLEARED = "fee_standard.cleared", _("Fee standard: cleared")
    FEE_STANDARD_SET = "fee_standard.set", _("Fee standard: set")
    FILING_ACKNOWLEDGED = "filing.acknowledged", _("Filing: acknowledged")
    LEDGER_CORRECT = "ledger.correct", _("Ledger: correct")
    LIBRARY_ADOPTED = "library.adopted", _("Library: adopted")
    LIBRARY_PICKED = "library.picked", _("Library: picked")
    LIBRARY_STATUS_CHANGED = "library.status_changed", _("Library: status changed")
    LOTTERY_DRAW = "lottery.draw", _("Lottery: draw")
    ORDER_CLOSE = "order.close", _("Order: close")
    ORDER_CREATE = "order.create", _("Order: create")
    PANEL_CANCELLED = "panel.cancelled", _("Panel: cancelled")
    PANEL_DECIDED = "panel.decided", _("Panel: decided")
    PANEL_DRAWN = "panel.drawn", _("Panel: drawn")
    PANEL_MEMBER_DECLINED = "panel.member_declined", _("Panel: member declined")
    PANEL_SCORED = "panel.scored", _("Panel: scored")
    PAYMENT_APPLIED = "payment.applied", _("Payment: applied")
    PAYMENT_LATE_REFUNDED = "payment.late_refunded", _("Payment: late refunded")
    PROOF_ATTACHED = "proof.attached", _("Proof: attached")
    RECONCILIATION_IMPORT = "reconciliation.import", _("Reconciliation: import")
    REFUND_APPROVE = "refund.approve", _("Refund: approve")
    REFUND_FAILED = "refund.failed", _("Refund: failed")
    REFUND_REJECT = "refund.reject", _("Refund: reject")
    REFUND_REQUEST = "refund.request", _("Refund: request")
    REFUND_SUCCEEDED = "refund.succeeded", _("Refund: succeeded")
    REFUND_POLICY_SET = "refund_policy.set", _("Refund policy: set")
    REVIEW_POLICY_SET = "review_policy.set", _("Review policy: set")
    ROLE_GRANTED = "role.granted", _("Role: granted")
    ROSTER_IMPORTED = "roster.imported", _("Roster: imported")
    SUBMISSION_CREATED = "submission.created", _("Submission: created")
    SUBMISSION_REVISED = "submission.revised", _("Submission: revised")
    SUBMISSION_WITHDRAWN = "submission.withdrawn", _("Submission: withdrawn")
    TASK_FAILED = "task.failed", _("Task: failed")
    TOKEN_ISSUED = "token.issued", _("Token: issued")
    TOKEN_REVOKED = "token.revoked", _("Token: revoked")
    USER_CREATED = "user.created", _("User: created")
    WAIVER_APPROVED = "waiver.approved", _("Waiver: approved")
    WAIVER_REJECTED = "waiver.rejected", _("Waiver: rejected")
    WAIVER_REQUEST = "waiver.request", _("Waiver: request")
    WAIVER_REVOKE = "waiver.revoke", _("Waiver: revoke")
    WINDOW_CANCELLED = "window.cancelled", _("Window: cancelled")
    WINDOW_CREATE = "window.create", _("Window: create")
    WINDOW_PUBLISHED = "window.published", _("Window: published")
    WINDOW_STAGGER = "window.stagger", _("Window: stagger")
    WINDOW_UPDATE = "window.update", _("Window: update")


# Who sits on a review panel, what each expert scored and who recused is the reviewing bureau's to know: the
# submitting school (whose row it also is) must not read it in the audit log any more than in the panel API. These
# entries are shown only to a bureau whose region they are recorded under (the city bureau: all).
BUREAU_ONLY: frozenset[AuditAction] = frozenset(
    {
        AuditAction.PANEL_DRAWN,
        AuditAction.PANEL_MEMBER_DECLINED,
        AuditAction.PANEL_SCORED,
        AuditAction.PANEL_DECIDED,
        AuditAction.EXPERT_RECUSED,
    }
)
