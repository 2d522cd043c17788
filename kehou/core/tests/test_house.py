"""The house rules that a machine can check: stable error codes and audit actions as enums, the docs table generated
from them, and no model looked up by name (``apps.get_model``) outside migrations."""

from __future__ import annotations

import ast
from pathlib import Path

from kehou.core.audit_actions import AuditAction
from kehou.core.error_codes import CODES, ErrorCode
from kehou.core.management.commands import error_codes

KEHOU = Path(__file__).resolve().parents[2]
ERROR_CLASSES = {"KehouError", "NotFound", "Forbidden", "Conflict", "error_response", "error_body"}


def production_modules() -> list[Path]:
    skip = ("/migrations/", "/tests/", "/testing/")
    return [p for p in sorted(KEHOU.rglob("*.py")) if not any(s in str(p) for s in skip) and p.name != "conftest.py"]


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def test_every_error_code_is_described():
    assert set(CODES) == set(ErrorCode)
    assert all(info.when and 400 <= info.status < 600 for info in CODES.values())


def test_the_docs_table_is_generated_from_the_enum():
    text = error_codes.api_md().read_text(encoding="utf-8")
    assert error_codes.rewritten(text) == text, "run: python manage.py error_codes --write"


def test_the_docs_check_fails_when_the_enum_changes(monkeypatch):
    text = error_codes.api_md().read_text(encoding="utf-8")
    monkeypatch.setattr(error_codes, "CODES", {k: v for k, v in list(CODES.items())[1:]})
    assert error_codes.rewritten(text) != text


def test_no_free_string_codes_or_actions_in_production_code():
    """Codes passed to the error classes and actions passed to the audit log are enum members, never literals."""
    offenders = []
    for path in production_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            for kw in node.keywords:
                literal = isinstance(kw.value, ast.Constant | ast.JoinedStr)
                if kw.arg == "code" and _name(node.func) in ERROR_CLASSES and literal:
                    offenders.append(f"{path.relative_to(KEHOU)}:{node.lineno} code={ast.unparse(kw.value)}")
                if kw.arg == "action" and _name(node.func) == "record" and literal:
                    offenders.append(f"{path.relative_to(KEHOU)}:{node.lineno} action={ast.unparse(kw.value)}")
    assert offenders == []


def test_no_get_model_outside_migrations():
    """A model looked up by name hides a dependency from the import contract: import it, or use a hook."""
    offenders = []
    for path in production_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "get_model":
                offenders.append(f"{path.relative_to(KEHOU)}:{node.lineno}")
    assert offenders == []


def test_audit_actions_are_values():
    assert AuditAction("class.cancel") is AuditAction.CLASS_CANCEL
    assert str(AuditAction.CLASS_CANCEL.label)
