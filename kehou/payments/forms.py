"""Forms of the payment pages. They parse input into the services' arguments (a refund rule's tiers from text,
percentages and fractions as decimals, a bill file size-limited); every rule is the services'."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .channels import enabled_channels
from .channels.simulator import SCENARIOS
from .models import Channel, RefundPolicy

MAX_BILL_BYTES = 5 * 1024 * 1024


def _channel_choices() -> list[tuple[str, Any]]:
    labels = dict(Channel.choices)
    return [(c, labels.get(c, c)) for c in enabled_channels()]


class PayForm(forms.Form):
    """Pay for a held place: the channel (not needed when nothing is to be paid), the optional materials."""

    key = forms.CharField(min_length=8, max_length=64)
    channel = forms.ChoiceField(label=_("Pay with"), choices=(), required=False, widget=forms.RadioSelect)
    materials = forms.BooleanField(label=_("Include the optional materials"), required=False)
    # The prices the page showed (fen): the order is refused if they are no longer the prices.
    shown_course_fen = forms.IntegerField(min_value=0, required=False)
    shown_materials_fen = forms.IntegerField(min_value=0, required=False)

    def expected_total_fen(self) -> int | None:
        """The total the page said this choice costs, or None when the form did not carry the prices."""
        d = self.cleaned_data
        if d.get("shown_course_fen") is None:
            return None
        return int(d["shown_course_fen"]) + (int(d.get("shown_materials_fen") or 0) if d.get("materials") else 0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = _channel_choices()  # type: ignore[attr-defined]


class CashierForm(forms.Form):
    """The simulator cashier's buttons: how the payer pays (or fails to)."""

    scenario = forms.ChoiceField(choices=[(s, s) for s in SCENARIOS if s != "reordered"])


class RefundForm(forms.Form):
    key = forms.CharField(min_length=8, max_length=64)
    reason = forms.CharField(label=_("Reason (optional)"), max_length=200, required=False)


class DecideForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])


class ReconcileForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=())
    bill_date = forms.DateField(label=_("Day of the bill"), widget=forms.DateInput(attrs={"type": "date"}))
    bill = forms.FileField(
        label=_("Bill file (optional: otherwise downloaded from the channel)"), required=False, allow_empty_file=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = _channel_choices()  # type: ignore[attr-defined]

    def clean_bill(self) -> Any:
        bill = self.cleaned_data.get("bill")
        if bill is not None and bill.size > MAX_BILL_BYTES:
            raise forms.ValidationError(_("The bill file is larger than 5 MB."))
        return bill


class PolicyForm(forms.Form):
    """A refund policy. Tiers are written "held up to:percent" separated by commas, e.g. "0.25:100, 0.5:50"."""

    region = forms.CharField(max_length=20)
    after_start = forms.ChoiceField(
        label=_("After the first session"), choices=RefundPolicy.AfterStart.choices, widget=forms.RadioSelect
    )
    tiers = forms.CharField(
        label=_("Tiers (share of sessions held : percent refunded)"),
        required=False,
        max_length=200,
        help_text=_('e.g. "0.25:100, 0.5:50"'),
    )
    no_refund_after = forms.DecimalField(
        label=_("No refund once this share of the sessions is held"),
        min_value=Decimal(0),
        max_value=Decimal(1),
        max_digits=4,
        decimal_places=3,
        initial=Decimal(1),
    )
    approval_after_start = forms.BooleanField(
        label=_("A refund after the start needs the school's approval"), required=False
    )

    def clean_tiers(self) -> list[dict[str, str]]:
        text = self.cleaned_data.get("tiers", "").strip()
        tiers = []
        for part in filter(None, (p.strip() for p in text.replace("，", ",").split(","))):
            upto, _sep, percent = part.partition(":")
            try:
                tiers.append({"held_upto": str(Decimal(upto.strip())), "percent": str(Decimal(percent.strip()))})
            except (InvalidOperation, ValueError):
                raise forms.ValidationError(_("Write each tier as share:percent, e.g. 0.25:100.")) from None
        return tiers
