"""Forms of the submitters' and experts' pages. They parse input into the services' arguments (money in yuan becomes
integer fen without float); every rule is the services'."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kehou.core.error_codes import ErrorCode
from kehou.core.money import fen_to_yuan_str, yuan_str_to_fen
from kehou.core.templatetags.kehou_ui import grade_name

from .models import Category, ProofFile, QualityItem, SubmissionVersion
from .services.submissions import CourseFields, DossierFields

MAX_FEN = 2**31 - 1
GRADE_CHOICES = [(i, grade_name(i)) for i in range(1, 10)]


class YuanField(forms.CharField):
    """An amount typed in yuan ("30", "30.5", "¥30.50", "30元") cleaned to integer fen."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "0.00"})

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        cleaned = text.strip().lstrip("¥￥").removesuffix("元").strip().replace(",", "").replace("，", "")
        try:
            fen = yuan_str_to_fen(cleaned)
        except ValueError:
            raise ValidationError(_("Enter an amount in yuan, such as 30 or 30.50."), code=ErrorCode.INVALID_YUAN)
        if fen < 0:
            raise ValidationError(_("The amount cannot be negative."), code=ErrorCode.NEGATIVE)
        if fen > MAX_FEN:
            raise ValidationError(_("The amount is too large."), code=ErrorCode.TOO_LARGE)
        return fen


def _library_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Library"),
        choices=[("city", _("City library")), ("district", _("My district's library"))],
        widget=forms.RadioSelect,
        initial="city",
    )


def _category_field() -> forms.ModelChoiceField:  # type: ignore[type-arg]
    return forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.all(), to_field_name="code", empty_label=None
    )


def _note_field() -> forms.CharField:
    return forms.CharField(
        label=_("What changed"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Tell the reviewers what you changed after their comments."),
    )


class CourseForm(forms.Form):
    library = _library_field()
    name = forms.CharField(label=_("Course name"), max_length=80)
    category = _category_field()
    introduction = forms.CharField(
        label=_("Introduction"), max_length=3000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    grades = forms.TypedMultipleChoiceField(
        label=_("Target grades"), choices=GRADE_CHOICES, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    minutes_per_hour = forms.IntegerField(label=_("Minutes per class hour"), min_value=1, max_value=32767, initial=45)
    hours_per_term = forms.IntegerField(label=_("Class hours per term"), min_value=1, max_value=32767, initial=16)
    fee = YuanField(label=_("Fee per class hour (yuan)"))
    teacher_ids = forms.TypedMultipleChoiceField(
        label=_("Teachers"), coerce=int, widget=forms.CheckboxSelectMultiple, choices=[]
    )
    materials_description = forms.CharField(label=_("Materials"), max_length=200, required=False)
    materials_price = YuanField(label=_("Materials price (yuan)"), required=False)

    def __init__(self, *args: Any, teachers: list[tuple[int, str]], revising: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["teacher_ids"].choices = teachers  # type: ignore[attr-defined]
        if revising:
            del self.fields["library"]
            self.fields["note"] = _note_field()

    def to_fields(self) -> CourseFields:
        d = self.cleaned_data
        return CourseFields(
            name=d["name"],
            category=d["category"],
            introduction=d["introduction"],
            grades=list(d["grades"]),
            minutes_per_hour=d["minutes_per_hour"],
            hours_per_term=d["hours_per_term"],
            fee_per_hour_fen=d["fee"],
            teacher_ids=list(d["teacher_ids"]),
            materials_description=d["materials_description"],
            materials_price_fen=d["materials_price"],
        )

    @staticmethod
    def initial_from(version: SubmissionVersion) -> dict[str, Any]:
        return {
            "name": version.name,
            "category": version.submission.category.code,
            "introduction": version.introduction,
            "grades": list(version.grades or []),
            "minutes_per_hour": version.minutes_per_hour,
            "hours_per_term": version.hours_per_term,
            "fee": fen_to_yuan_str(version.fee_per_hour_fen) if version.fee_per_hour_fen is not None else "",
            "teacher_ids": list(version.teachers.values_list("pk", flat=True)),
            "materials_description": version.materials_description,
            "materials_price": (
                fen_to_yuan_str(version.materials_price_fen) if version.materials_price_fen is not None else ""
            ),
        }


class DossierForm(forms.Form):
    library = _library_field()
    teacher_id = forms.TypedChoiceField(label=_("Teacher"), coerce=int, choices=[])
    category = _category_field()
    identity_number = forms.CharField(
        label=_("Identity number"), max_length=18, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    subjects = forms.CharField(label=_("Subjects"), max_length=120)
    qualifications = forms.CharField(
        label=_("Qualifications"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    certificates = forms.CharField(
        label=_("Certificates"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    background_checked_on = forms.DateField(
        label=_("Background check date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    background_check_result = forms.CharField(label=_("Background check result"), max_length=200, required=False)

    def __init__(self, *args: Any, teachers: list[tuple[int, str]], revising: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["teacher_id"].choices = teachers  # type: ignore[attr-defined]
        if revising:
            del self.fields["library"]
            self.fields["note"] = _note_field()

    def to_fields(self) -> DossierFields:
        d = self.cleaned_data
        return DossierFields(
            teacher_id=d["teacher_id"],
            category=d["category"],
            identity_number=d["identity_number"],
            qualifications=d["qualifications"],
            subjects=d["subjects"],
            certificates=d["certificates"],
            background_checked_on=d["background_checked_on"],
            background_check_result=d["background_check_result"],
        )

    @staticmethod
    def initial_from(version: SubmissionVersion) -> dict[str, Any]:
        return {
            "teacher_id": version.teacher_id,
            "category": version.submission.category.code,
            "identity_number": version.identity_number,
            "subjects": version.subjects,
            "qualifications": version.qualifications,
            "certificates": version.certificates,
            "background_checked_on": version.background_checked_on,
            "background_check_result": version.background_check_result,
        }


class ProofForm(forms.Form):
    kind = forms.ChoiceField(label=_("What it proves"), choices=ProofFile.Kind.choices)
    file = forms.FileField(
        label=_("File (PDF, PNG or JPEG)"),
        allow_empty_file=True,
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"}),
    )


class ScoreForm(forms.Form):
    """One number per quality standard (0 to its highest score), a checkbox per veto item, and a comment."""

    comment = forms.CharField(label=_("Comment"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, items: list[QualityItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[f"item_{item.number}"] = forms.IntegerField(
                label=item.title,
                min_value=0,
                max_value=item.max_score,
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "max": item.max_score}),
            )
            if item.is_veto:
                self.fields[f"veto_{item.number}"] = forms.BooleanField(label=_("Fails this veto item"), required=False)
        self.order_fields([*(f for f in self.fields if f != "comment"), "comment"])

    def rows(self) -> list[dict[str, Any]]:
        """The table of standards: each item with its score field and, for veto items, its veto checkbox."""
        return [
            {
                "item": item,
                "score": self[f"item_{item.number}"],
                "veto": self[f"veto_{item.number}"] if item.is_veto else None,
            }
            for item in self.items
        ]

    def to_args(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "item_scores": {str(i.number): d[f"item_{i.number}"] for i in self.items},
            "vetoed_items": [i.number for i in self.items if i.is_veto and d.get(f"veto_{i.number}")],
            "comment": d["comment"],
        }


class DeclineForm(forms.Form):
    reason = forms.CharField(label=_("Reason for declining"), max_length=200)
