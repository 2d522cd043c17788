from django.contrib import admin

from .models import CalendarDay, OperatorCompany, Organisation, Region, School, Term


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name", "district", "stage", "authority", "joined_at")
    list_filter = ("district", "stage", "authority")
    search_fields = ("code", "name")


admin.site.register(Region, list_display=("code", "name", "kind"))
admin.site.register(OperatorCompany)
admin.site.register(Organisation)
admin.site.register(Term)
admin.site.register(CalendarDay, list_display=("term", "date", "kind", "school"))
