"""The roster's sheet names, limits and code lists."""

from __future__ import annotations

ROSTER_SHEET = "学生名单"
INSTRUCTIONS_SHEET = "填写说明"

MAX_NAME = 40
MAX_CLASS = 20
MIN_AGE_YEARS = 3
MAX_AGE_YEARS = 20
MAX_COLUMNS = 64  # columns read from each row; the template has 12
