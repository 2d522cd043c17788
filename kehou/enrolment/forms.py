"""Forms of the class, window, stagger and waiver pages. They parse input into the services' arguments (amounts in
yuan become integer fen without float, times become aware datetimes in Asia/Shanghai); every rule is the services'."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from kehou.catalog.forms import YuanField
from kehou.core.templatetags.kehou_ui import grade_name
from kehou.orgs.models import Region, School, Term

from .models import CourseClass, SelectionWindow
from .services.classes import MAX_SLOTS, Slot

WEEKDAYS = [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday")]
WEEKDAY_SHORT = [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri")]
DATETIME_INPUT = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


def _datetime_field(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        input_formats=DATETIME_INPUT,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


def _term_field() -> forms.ModelChoiceField:  # type: ignore[type-arg]
    return forms.ModelChoiceField(label=_("Term"), queryset=Term.objects.order_by("-starts_on"), empty_label=None)


def _grade_choices(school: School | None) -> list[tuple[int, Any]]:
    grades = school.grade_range if school is not None else range(1, 10)
    return [(g, grade_name(g)) for g in grades]


class ClassForm(forms.Form):
    """A course class from the school library, or basic care priced per day or month."""

    kind = forms.ChoiceField(
        label=_("Kind"), choices=CourseClass.Kind.choices, initial=CourseClass.Kind.COURSE, widget=forms.RadioSelect
    )
    entry: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Course from the school library"), queryset=None, required=False, empty_label="—"
    )
    name = forms.CharField(
        label=_("Name shown to parents"),
        max_length=80,
        required=False,
        help_text=_("Leave empty to use the course's name."),
    )
    introduction = forms.CharField(
        label=_("Introduction"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    teacher: forms.ModelChoiceField[Any] = forms.ModelChoiceField(label=_("Teacher"), queryset=None, empty_label=None)
    term = _term_field()
    room = forms.CharField(label=_("Room"), max_length=40)
    capacity = forms.IntegerField(label=_("Capacity"), min_value=1, max_value=500, initial=30)
    grade_min = forms.TypedChoiceField(label=_("Lowest grade"), coerce=int, choices=())
    grade_max = forms.TypedChoiceField(label=_("Highest grade"), coerce=int, choices=())
    pricing = forms.ChoiceField(
        label=_("Priced"),
        choices=CourseClass.Pricing.choices,
        initial=CourseClass.Pricing.PER_HOUR,
        help_text=_("Courses are priced per class hour; basic care per day or per month."),
    )
    price = YuanField(label=_("Price per unit (yuan)"))
    materials_name = forms.CharField(label=_("Materials (optional)"), max_length=60, required=False)
    materials_fee = YuanField(label=_("Materials fee (yuan)"), required=False)
    first_date = forms.DateField(
        label=_("First day (optional)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, school: School, entries: QuerySet[Any], teachers: QuerySet[Any], **kw: Any):
        super().__init__(*args, **kw)
        self.school = school
        self.fields["entry"].queryset = entries  # type: ignore[attr-defined]
        self.fields["entry"].label_from_instance = lambda e: e.item.name  # type: ignore[attr-defined]
        self.fields["teacher"].queryset = teachers  # type: ignore[attr-defined]
        self.fields["teacher"].label_from_instance = lambda t: t.user.full_name or t.user.get_username()  # type: ignore[attr-defined]
        grades = _grade_choices(school)
        self.fields["grade_min"].choices = grades  # type: ignore[attr-defined]
        self.fields["grade_max"].choices = grades  # type: ignore[attr-defined]
        if grades:
            self.fields["grade_min"].initial = grades[0][0]
            self.fields["grade_max"].initial = grades[-1][0]
        day_choices = [("", "—")] + [(str(i), label) for i, label in enumerate(WEEKDAYS)]
        for i in range(MAX_SLOTS):
            self.fields[f"slot{i}_day"] = forms.ChoiceField(label=_("Weekday"), choices=day_choices, required=False)
            self.fields[f"slot{i}_start"] = forms.TimeField(
                label=_("Starts"), required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
            )
            self.fields[f"slot{i}_end"] = forms.TimeField(
                label=_("Ends"), required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
            )

    def slot_rows(self) -> list[tuple[Any, Any, Any]]:
        return [(self[f"slot{i}_day"], self[f"slot{i}_start"], self[f"slot{i}_end"]) for i in range(MAX_SLOTS)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        slots: list[Slot] = []
        for i in range(MAX_SLOTS):
            day, start, end = data.get(f"slot{i}_day"), data.get(f"slot{i}_start"), data.get(f"slot{i}_end")
            if not day and not start and not end:
                continue
            if day in (None, "") or start is None or end is None:
                self.add_error(f"slot{i}_day", _("Give the weekday, start and end of each time slot."))
                continue
            slots.append(Slot(int(day), start, end))
        data["slots"] = slots
        if data.get("kind") == CourseClass.Kind.COURSE and not data.get("entry"):
            self.add_error("entry", _("Choose a course from the school library."))
        return data


class WindowForm(forms.Form):
    term = _term_field()
    grade = forms.TypedChoiceField(label=_("Grade"), coerce=int, choices=())
    opens_at = _datetime_field(_("Opens at"))
    closes_at = _datetime_field(_("Closes at"))
    mode = forms.ChoiceField(
        label=_("Mode"), choices=SelectionWindow.Mode.choices, initial=SelectionWindow.Mode.FIRST_COME
    )
    max_classes = forms.IntegerField(label=_("Most classes per child"), min_value=1, max_value=10, initial=2)
    hold_minutes = forms.IntegerField(label=_("Hold while paying (minutes)"), min_value=1, max_value=120, initial=15)
    publish = forms.BooleanField(label=_("Publish to parents now"), required=False, initial=True)

    def __init__(self, *args: Any, school: School | None, **kw: Any):
        super().__init__(*args, **kw)
        self.fields["grade"].choices = _grade_choices(school)  # type: ignore[attr-defined]


class StaggerForm(forms.Form):
    term = _term_field()
    first_opens_at = _datetime_field(_("First school opens at"))
    step_minutes = forms.IntegerField(label=_("Minutes between schools"), min_value=0, max_value=1440, initial=30)
    length_minutes = forms.IntegerField(
        label=_("Each window lasts (minutes)"), min_value=10, max_value=30 * 24 * 60, initial=2 * 24 * 60
    )
    mode = forms.ChoiceField(
        label=_("Mode"), choices=SelectionWindow.Mode.choices, initial=SelectionWindow.Mode.FIRST_COME
    )
    max_classes = forms.IntegerField(label=_("Most classes per child"), min_value=1, max_value=10, initial=2)
    hold_minutes = forms.IntegerField(label=_("Hold while paying (minutes)"), min_value=1, max_value=120, initial=15)

    def __init__(self, *args: Any, districts: list[Region], **kw: Any):
        super().__init__(*args, **kw)
        if len(districts) > 1:
            self.fields["district"] = forms.ChoiceField(
                label=_("District"), choices=[(d.code, d.name) for d in districts]
            )


class WaiverForm(forms.Form):
    student_number = forms.CharField(label=_("Student number"), max_length=19)
    term = _term_field()
    reason = forms.CharField(label=_("Reason"), max_length=200, widget=forms.Textarea(attrs={"rows": 2}))


class ClassChangeForm(forms.Form):
    capacity = forms.IntegerField(label=_("Capacity"), min_value=1, max_value=500, required=False)
    room = forms.CharField(label=_("Room"), max_length=40, required=False)
