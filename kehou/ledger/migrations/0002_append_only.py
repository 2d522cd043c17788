"""The database refuses UPDATE and DELETE on ledger transactions and postings (append-only, DESIGN.md rule 4).
Reuses the plpgsql function ``kehou_append_only`` from core's migration 0003."""

from django.db import migrations

TABLES = ["ledger_ledgertransaction", "ledger_posting"]


def sqlite_triggers(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}
           BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table}
           BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END""",
    ]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "sqlite":
            statements = sqlite_triggers(table)
        elif vendor == "postgresql":
            statements = [
                f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
                   FOR EACH ROW EXECUTE FUNCTION kehou_append_only()"""
            ]
        else:
            statements = []
        for sql in statements:
            schema_editor.execute(sql, params=None)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        elif vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial"), ("core", "0003_audit_append_only")]
    operations = [migrations.RunPython(forwards, backwards)]
