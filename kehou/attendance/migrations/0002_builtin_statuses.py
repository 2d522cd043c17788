"""The built-in roll-call statuses. Their codes are a contract (the API's ``status``); they are never renamed."""

from django.db import migrations

BUILTIN = {
    "present": ("到", "Present", "present", True, 10),
    "late": ("迟到", "Late", "present", True, 20),
    "leave_personal": ("事假", "Personal leave", "leave", False, 30),
    "leave_sick": ("病假", "Sick leave", "leave", False, 40),
    "absent": ("缺勤", "Absent", "absent", False, 50),
    "left_early": ("早退", "Left early", "present", True, 60),
    "unmarked": ("未点名", "Unmarked", "unmarked", False, 90),
}


def install(apps, schema_editor):
    Status = apps.get_model("attendance", "AttendanceStatus")
    for code, (zh, en, group, attended, position) in BUILTIN.items():
        Status.objects.update_or_create(
            code=code,
            defaults={
                "label_zh": zh,
                "label_en": en,
                "group": group,
                "counts_as_attended": attended,
                "position": position,
                "builtin": True,
                "active": True,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("attendance", "0001_initial")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
