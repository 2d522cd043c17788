"""The audit log page: who did what to which object, in words.

Actions are shown by their label (``AuditAction``: "退费：批准", "Refund: approve" in English), the object by the
name of its kind and its description, and the change as key and value lines ("状态：待审批 → 处理中", "金额：
¥225.00"): amounts in yuan, scores in points, times local, codes of a model's choices by their labels. Internal ids
are left out of the page; the action's code is on hover, and the API (``/api/v1/audit/``) keeps every entry as
recorded for whoever needs the raw JSON.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehou.core.pages import ScopedListPage, exporting

from .audit_actions import AuditAction
from .cells import Cell, stacked
from .money import fen_to_yuan_str
from .scope import Scope
from .selectors import audit_list

SHOWN_INLINE = 6  # key/value lines shown before "n more"

# The keys the services record, in words. A key not listed here is named by the object's model field of that name
# (its verbose name), or else shown as it is.
KEY_LABELS: dict[str, Any] = {
    "status": gettext_lazy("Status"),
    "reason": gettext_lazy("Reason"),
    "note": gettext_lazy("Note"),
    "amount_fen": gettext_lazy("Amount"),
    "total_fen": gettext_lazy("Total"),
    "fee_fen": gettext_lazy("Fee"),
    "course_fen": gettext_lazy("Course fee"),
    "materials_fen": gettext_lazy("Materials"),
    "materials_fee_fen": gettext_lazy("Materials fee"),
    "unit_price_fen": gettext_lazy("Unit price"),
    "max_per_day_fen": gettext_lazy("Ceiling per day"),
    "max_per_month_fen": gettext_lazy("Ceiling per month"),
    "bill_total_fen": gettext_lazy("Channel's bill total"),
    "our_total_fen": gettext_lazy("Our total"),
    "settled_fen": gettext_lazy("Settled"),
    "settlement_net_fen": gettext_lazy("Net settlement"),
    "channel": gettext_lazy("Channel"),
    "out_trade_no": gettext_lazy("Trade number"),
    "refund": gettext_lazy("Refund number"),
    "quote": gettext_lazy("Quote"),
    "rule": gettext_lazy("Rule applied"),
    "sessions_total": gettext_lazy("Sessions in all"),
    "sessions_held": gettext_lazy("Sessions held"),
    "failure": gettext_lazy("Channel's answer"),
    "after_start": gettext_lazy("After the first session"),
    "tiers": gettext_lazy("Tiers"),
    "no_refund_after": gettext_lazy("No refund after"),
    "date": gettext_lazy("Date"),
    "rows": gettext_lazy("Rows"),
    "matched": gettext_lazy("Matched"),
    "differences": gettext_lazy("Differences"),
    "missing": gettext_lazy("Missing"),
    "extra": gettext_lazy("Extra"),
    "amount": gettext_lazy("Amount differences"),
    "source": gettext_lazy("Source"),
    "class": gettext_lazy("Course class"),
    "classes": gettext_lazy("Classes"),
    "pupil": gettext_lazy("Pupil"),
    "enrolment": gettext_lazy("Place"),
    "term": gettext_lazy("Term"),
    "grade": gettext_lazy("Grade"),
    "grade_min": gettext_lazy("From grade"),
    "grade_max": gettext_lazy("To grade"),
    "opens_at": gettext_lazy("Opens"),
    "closes_at": gettext_lazy("Closes"),
    "first_opens_at": gettext_lazy("First opens"),
    "step_minutes": gettext_lazy("Minutes between schools"),
    "length_minutes": gettext_lazy("Length in minutes"),
    "created": gettext_lazy("Created"),
    "skipped": gettext_lazy("Skipped"),
    "drawn": gettext_lazy("Drawn"),
    "drawn_at": gettext_lazy("Drawn"),
    "mode": gettext_lazy("Mode"),
    "max_classes": gettext_lazy("Classes per child"),
    "hold_minutes": gettext_lazy("Hold (minutes)"),
    "capacity": gettext_lazy("Capacity"),
    "taken": gettext_lazy("Taken"),
    "room": gettext_lazy("Room"),
    "name": gettext_lazy("Name"),
    "title": gettext_lazy("Title"),
    "introduction": gettext_lazy("Introduction"),
    "materials_name": gettext_lazy("Materials"),
    "pricing": gettext_lazy("Pricing"),
    "session_count": gettext_lazy("Sessions in all"),
    "kind": gettext_lazy("Kind"),
    "library": gettext_lazy("Library"),
    "version": gettext_lazy("Version"),
    "item": gettext_lazy("Catalog item"),
    "upstream": gettext_lazy("Taken from entry"),
    "filing": gettext_lazy("Filing"),
    "downstream_affected": gettext_lazy("Copies affected"),
    "library_entry": gettext_lazy("Library entry"),
    "outcome": gettext_lazy("Outcome"),
    "mean_bp": gettext_lazy("Mean score"),
    "total_bp": gettext_lazy("Total score"),
    "admit_threshold_bp": gettext_lazy("Admission threshold"),
    "return_threshold_bp": gettext_lazy("Revision threshold"),
    "reasons": gettext_lazy("Reasons"),
    "scores": gettext_lazy("Scores"),
    "vetoed": gettext_lazy("Veto items failed"),
    "vetoed_items": gettext_lazy("Veto items failed"),
    "seed": gettext_lazy("Seed"),
    "pool": gettext_lazy("Pool (expert ids)"),
    "members": gettext_lazy("Members (expert ids)"),
    "size": gettext_lazy("Panel size"),
    "member": gettext_lazy("Panel seat"),
    "declined": gettext_lazy("Declined (expert id)"),
    "replacement": gettext_lazy("Replacement (expert id)"),
    "draw_position": gettext_lazy("Draw position"),
    "region": gettext_lazy("Region"),
    "category": gettext_lazy("Category"),
    "set_at": gettext_lazy("Set at"),
    "user": gettext_lazy("Account"),
    "username": gettext_lazy("Username"),
    "full_name": gettext_lazy("Name"),
    "role": gettext_lazy("Role"),
    "expires_at": gettext_lazy("Expires"),
    "locked_for_seconds": gettext_lazy("Locked for (seconds)"),
    "for_client_address": gettext_lazy("For the address"),
    "task": gettext_lazy("Task"),
    "attempts": gettext_lazy("Attempts"),
    "error": gettext_lazy("Error"),
    "corrects": gettext_lazy("Corrects"),
}
# Keys whose value is the id of another row: shown as "#20", after the rest.
REFERENCE_KEYS = {
    "class",
    "pupil",
    "enrolment",
    "item",
    "upstream",
    "filing",
    "member",
    "term",
    "library_entry",
    "declined",
    "replacement",
}
# Internal row ids and bookkeeping the page leaves out (the API keeps them).
HIDDEN_KEYS = {"id", "created_at", "created_by_id"}
# Codes recorded as values that the entry's own model does not name (the labels are those of the models that do:
# a decision's outcome, a window's mode, the refund rules).
VALUE_LABELS: dict[str, Any] = {
    "admitted": gettext_lazy("Admitted"),
    "returned": gettext_lazy("Returned for revision"),
    "rejected": gettext_lazy("Rejected"),
    "first_come": gettext_lazy("First come, first served"),
    "lottery": gettext_lazy("Lottery when oversubscribed"),
    "before_start": gettext_lazy("Before the first session: the whole course fee"),
    "pro_rata": gettext_lazy("Pro rata to the sessions not yet held"),
    "tiered": gettext_lazy("Tiered by the share of sessions held"),
    "after_deadline": gettext_lazy("Past the refund deadline: no course fee refunded"),
    "automatic": gettext_lazy("Automatic refund"),
    "veto": gettext_lazy("A veto item was failed"),
    "mean_at_or_above_admit_threshold": gettext_lazy("Mean at or above the admission threshold"),
    "mean_between_thresholds": gettext_lazy("Mean between the thresholds"),
    "mean_below_return_threshold": gettext_lazy("Mean below the revision threshold"),
    "hold expired": gettext_lazy("Hold expired"),
    "download": gettext_lazy("Downloaded from the channel"),
    "upload": gettext_lazy("Uploaded"),
    "SUCCESS": gettext_lazy("Succeeded"),
}
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
# A description that ends with a code of the model's status or change, "941 → 22 (held)", "… @ 东湖区: added".
CODE_AT_END = re.compile(r"(?: \((?P<paren>[a-z_]+)\)|: (?P<colon>[a-z_]+))$")
# Models whose own name is not a word a bureau reads.
OBJECT_KINDS: dict[str, Any] = {"catalog.panel": gettext_lazy("Review panel")}


class AuditListPage(ScopedListPage):
    title = gettext_lazy("Audit log")
    export_name = "audit"
    search_placeholder = gettext_lazy("Action code, e.g. refund.approve")

    @property
    def columns(self) -> Any:  # type: ignore[override]
        if exporting(self.request):
            return [
                (gettext_lazy("Time"), lambda e: timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M:%S")),
                (gettext_lazy("Actor"), actor_text),
                (gettext_lazy("Action"), lambda e: action_label(e.action)),
                (gettext_lazy("Action code"), lambda e: e.action),
                (gettext_lazy("Object"), object_text),
                (gettext_lazy("Details"), lambda e: "; ".join(f"{k}: {v}" for k, v in details(e))),
                (gettext_lazy("Client address"), lambda e: e.client_ip or ""),
            ]
        return [
            (gettext_lazy("Time"), lambda e: timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M:%S")),
            (gettext_lazy("Actor"), lambda e: stacked(actor_name(e), e.actor_label if e.actor_id else "")),
            (
                gettext_lazy("Action"),
                lambda e: Cell(format_html('<span title="{}">{}</span>', e.action, action_label(e.action))),
            ),
            (gettext_lazy("Object"), lambda e: Cell(object_text(e), "fold wide-fold")),
            (gettext_lazy("Details"), lambda e: Cell(details_html(e), "details")),
            (gettext_lazy("Client address"), lambda e: e.client_ip or ""),
        ]

    def select(self, scope: Scope) -> QuerySet[Any]:
        g = self.request.GET
        return audit_list(
            scope=scope,
            action=g.get("q", "").strip() or g.get("action", ""),
            object_type=g.get("object_type", ""),
            actor=g.get("actor", ""),
            since=g.get("since", ""),
            until=g.get("until", ""),
        ).select_related("actor")

    def filters(self) -> list[dict[str, Any]]:
        g = self.request.GET
        actions = sorted(((a.value, str(a.label)) for a in AuditAction), key=lambda choice: choice[1])
        return [
            {"name": "action", "label": _("Action"), "choices": actions, "value": g.get("action", "")},
            {"name": "since", "label": _("Date from"), "type": "date", "value": g.get("since", "")},
            {"name": "until", "label": _("Date to"), "type": "date", "value": g.get("until", "")},
        ]

    def extra_context(self) -> dict[str, Any]:
        return {"wide": True}


def action_label(action: str) -> str:
    """The audited action in words ("退费：批准"); an action no longer in the enum is shown as it was recorded."""
    try:
        return str(AuditAction(action).label)
    except ValueError:
        return action


def actor_name(entry: Any) -> str:
    if entry.actor_id is None:
        return _("System") if entry.actor_label in ("", "system") else entry.actor_label
    return entry.actor.full_name or entry.actor_label


def actor_text(entry: Any) -> str:
    name = actor_name(entry)
    return f"{name} ({entry.actor_label})" if entry.actor_id and name != entry.actor_label else name


@functools.cache
def _models_by_label() -> dict[str, Any]:
    """Every installed model by its label ("payments.refund"), the way the audit log names its rows. Only for
    presenting an entry (the kind of object, a field's verbose name and choices): core imports no app's models."""
    return {model._meta.label_lower: model for model in apps.get_models()}


def _model(object_type: str) -> Any:
    return _models_by_label().get(object_type)


def object_text(entry: Any) -> str:
    """ "订单 KH2610…": the kind of object in words and its description (the id only when there is nothing else);
    a status code its description ends with, "(confirmed)", in words."""
    model = _model(entry.object_type)
    kind = str(OBJECT_KINDS.get(entry.object_type) or (capfirst(model._meta.verbose_name) if model else ""))
    what = entry.object_repr or (f"#{entry.object_id}" if entry.object_id else "")
    if model is not None and (m := CODE_AT_END.search(what)):
        code = m.group("paren") or m.group("colon")
        for name in ("status", "change"):
            if code in (labels := _choices(model, name)):
                label = labels[code]
                what = f"{what[: m.start()]} ({label})" if m.group("paren") else f"{what[: m.start()]}: {label}"
                break
    return " ".join(part for part in (kind, what) if part) or entry.object_type


def _choices(model: Any, key: str) -> dict[Any, Any]:
    """The labels of a key's codes: the choices of the entry's own model field of that name."""
    if model is None:
        return {}
    try:
        field = model._meta.get_field(key)
    except FieldDoesNotExist:
        return {}
    return dict(field.choices) if getattr(field, "choices", None) else {}


def _label(model: Any, key: str) -> str:
    if key in KEY_LABELS:
        return str(KEY_LABELS[key])
    if model is not None:
        try:
            verbose = getattr(model._meta.get_field(key), "verbose_name", None)
        except FieldDoesNotExist:
            verbose = None
        if verbose:
            return str(verbose).capitalize()
    return key.replace("_", " ")


def _value(model: Any, key: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if key in REFERENCE_KEYS and isinstance(value, int):
        return f"#{value}"
    if key.endswith("_fen") and isinstance(value, int):
        return f"¥{fen_to_yuan_str(value)}"
    if key.endswith("_bp") and isinstance(value, int):
        return f"{value / 100:.2f}"
    if isinstance(value, list):
        return "、".join(_value(model, key, v) for v in value)
    if isinstance(value, dict):
        # In key order: PostgreSQL's jsonb keeps no other (SQLite keeps the order written), the page must not differ.
        return "; ".join(f"{_label(model, k)}: {_value(model, k, v)}" for k, v in sorted(value.items()) if _shown(k))
    if isinstance(value, str):
        if ISO_TIME.match(value) and (moment := _parse_time(value)) is not None:
            return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
        choices = _choices(model, key)
        if value in choices:
            return str(choices[value])
        if value in VALUE_LABELS:
            return str(VALUE_LABELS[value])
    return str(value)


def _parse_time(text: str) -> datetime | None:
    try:
        moment = parse_datetime(text)
    except ValueError:
        return None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _shown(key: str) -> bool:
    return key not in HIDDEN_KEYS and not key.endswith("_id")


def details(entry: Any) -> list[tuple[str, str]]:
    """The change as (label, value) lines: a key recorded before and after reads "before → after"."""
    model = _model(entry.object_type)
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    lines: list[tuple[str, str]] = []
    keys = [*after, *(k for k in before if k not in after)]
    for key in sorted(keys, key=lambda k: (k in REFERENCE_KEYS, k)):  # one order on every database (jsonb sorts)
        if not _shown(key):
            continue
        label = _label(model, key)
        if key in before and key in after:
            old, new = _value(model, key, before[key]), _value(model, key, after[key])
            lines.append((label, new if old == new else f"{old} → {new}"))
        elif key in after:
            lines.append((label, _value(model, key, after[key])))
        else:
            lines.append((label, f"{_value(model, key, before[key])} → —"))
    return lines


def details_html(entry: Any) -> SafeString:
    lines = details(entry)
    if not lines:
        return format_html("{}", "")

    def dl(rows: list[tuple[str, str]]) -> SafeString:
        return format_html('<dl class="kv">{}</dl>', format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows))

    if entry.action.startswith("demo."):  # the demo loader's own figures, for whoever checks the load
        return format_html(
            '<details class="more-kv"><summary>{}</summary>{}</details>',
            _("%(n)s figures of the demo load") % {"n": len(lines)},
            dl(lines),
        )
    if len(lines) <= SHOWN_INLINE:
        return dl(lines)
    rest = len(lines) - SHOWN_INLINE + 1
    return format_html(
        '{}<details class="more-kv"><summary>{}</summary>{}</details>',
        dl(lines[: SHOWN_INLINE - 1]),
        _("%(n)s more") % {"n": rest},
        dl(lines[SHOWN_INLINE - 1 :]),
    )
