"""The term's audit reports (审计报告) and the operator's costs, composed from payroll's selectors and services: the
operator enters costs with their receipts and files a report per district; the district's bureau reads and
acknowledges it; each report exported as Excel (with every posting behind its figures) and as a PDF."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehou.core import clock
from kehou.core.errors import KehouError
from kehou.core.money import yuan_str_to_fen
from kehou.core.pages import ActionPage, ScopedPage, local, yuan
from kehou.core.scope import Scope
from kehou.orgs.models import OperatorCompany, Region, School, Term
from kehou.payroll.models import AuditReport, OperatorCost
from kehou.payroll.services import reports

COLUMNS = reports.COLUMNS


def _rows(report: AuditReport) -> list[dict[str, Any]]:
    f = report.figures
    out = []
    for row in [*f.get("schools", []), {"name": _("Total"), "total": True, **f.get("total", {})}]:
        out.append(
            {
                "name": row["name"],
                "total": row.get("total", False),
                "cells": [(_(reports.LABELS[c]), yuan(row.get(c, 0))) for c in COLUMNS],
                "teachers": [
                    {
                        **t,
                        "amount_yuan": yuan(t["amount"]),
                        "kind_label": _("Outside teacher") if t["kind"] == "outside" else _("Staff teacher"),
                    }
                    for t in row.get("teachers", [])
                ],
            }
        )
    return out


class ReportListPage(ScopedPage):
    title = gettext_lazy("Audit reports")
    template_name = "portal/reports.html"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return AuditReport.objects.select_related("operator", "term", "district")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        scope = self.scope
        today = timezone.localdate(clock.now())
        operators = list(OperatorCompany.objects.filter(pk__in=scope.operator_ids).order_by("name"))
        schools = list(School.objects.filter(operators__in=operators).distinct().order_by("name"))
        districts = list(Region.objects.filter(pk__in={s.district_id for s in schools}).order_by("code"))
        terms = list(Term.objects.filter(starts_on__lte=today).order_by("-starts_on"))
        costs = scope.filter(OperatorCost.objects.select_related("school", "term")).order_by("-incurred_on", "-pk")
        ctx = self.base_context() | {
            "reports": [
                {"report": r, "total": yuan(r.figures.get("total", {}).get("remains", 0)), "filed": local(r.filed_at)}
                for r in self.get_queryset().order_by("-filed_at", "-pk")[:100]
            ],
            "operators": operators,
            "schools": schools,
            "districts": districts,
            "terms": terms,
            "today": today,
            "kinds": OperatorCost.Kind.choices,
            "costs": [{"cost": c, "amount": yuan(c.amount_fen)} for c in costs[:100]],
        }
        return render(request, self.template_name, ctx)


class ReportDetailPage(ScopedPage):
    title = gettext_lazy("Audit report")
    template_name = "portal/report_detail.html"

    def select(self, scope: Scope) -> QuerySet[Any]:
        return AuditReport.objects.select_related("operator", "term", "district", "filed_by", "acknowledged_by")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        report = self.get_queryset().filter(pk=kwargs["pk"]).first()
        if report is None:
            raise Http404
        name = f"audit-report-{report.term_id}-{report.district_id}-{report.operator_id}"
        if request.GET.get("format") == "pdf":
            response = HttpResponse(reports.report_pdf(report), content_type="application/pdf")
            response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
            return response
        if request.GET.get("format") == "xlsx":
            response = HttpResponse(
                reports.report_xlsx(report),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
            return response
        scope = self.scope
        ctx = self.base_context() | {
            "wide": True,
            "report": report,
            "rows": _rows(report),
            "filed": local(report.filed_at),
            "acknowledged": local(report.acknowledged_at),
            "may_acknowledge": report.status == "filed" and report.district_id in scope.district_ids,
            "may_file": report.status == "filed" and report.operator_id in scope.operator_ids,
            "trace": [
                {"school": s, "figure": _(reports.LABELS.get(fig, fig)), "key": k, "at": at, "amount": yuan(a)}
                for s, fig, k, at, a in reports.trace_rows(report)[:400]
            ],
        }
        return render(request, self.template_name, ctx)


class ReportFileAction(ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return OperatorCompany.objects.all()

    def fallback(self, obj: Any) -> str:
        return reverse("portal:reports")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        term = Term.objects.filter(pk=_int(request.POST.get("term"))).first()
        district = Region.objects.filter(pk=_int(request.POST.get("district")), kind="district").first()
        if term is None or district is None:
            from kehou.core.error_codes import ErrorCode

            raise KehouError(_("Choose the term and the district."), code=ErrorCode.REPORT_INVALID)
        report = reports.report_file(actor=request.user, operator=obj, term=term, district=district, now=clock.now())
        return _("The audit report was filed to %(district)s.") % {"district": district.name}, reverse(
            "portal:report", args=[report.pk]
        )


class ReportAcknowledgeAction(ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return AuditReport.objects.select_related("operator", "term")

    def fallback(self, obj: Any) -> str:
        return reverse("portal:report", args=[obj.pk])

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        reports.report_acknowledge(actor=request.user, report=obj, now=clock.now())
        return _("Acknowledged."), None


class CostAddAction(ActionPage):
    def select(self, scope: Scope) -> QuerySet[Any]:
        return OperatorCompany.objects.all()

    def fallback(self, obj: Any) -> str:
        return reverse("portal:reports")

    def act(self, request: HttpRequest, obj: Any) -> tuple[str, str | None]:
        from kehou.core.error_codes import ErrorCode

        school = School.objects.filter(pk=_int(request.POST.get("school"))).first()
        term = Term.objects.filter(pk=_int(request.POST.get("term"))).first()
        if school is None or term is None:
            raise KehouError(_("Choose the school and the term."), code=ErrorCode.COST_INVALID)
        try:
            amount = yuan_str_to_fen(request.POST.get("amount", ""))
            incurred = date.fromisoformat(request.POST.get("incurred_on", ""))
        except (ValueError, KehouError):
            raise KehouError(
                _("Enter the amount in yuan (e.g. 1200.50) and the date."), code=ErrorCode.COST_INVALID
            ) from None
        cost = reports.cost_add(
            actor=request.user,
            operator=obj,
            school=school,
            term=term,
            kind=request.POST.get("kind", ""),
            amount_fen=amount,
            description=request.POST.get("description", ""),
            incurred_on=incurred,
            receipt=request.FILES.get("receipt"),
            now=clock.now(),
        )
        return _("Cost entered: %(amount)s, %(school)s.") % {
            "amount": yuan(cost.amount_fen),
            "school": school.name,
        }, None


def _int(value: Any) -> int:
    try:
        return int(str(value or "0"))
    except ValueError:
        return 0
