"""Check characters of Chinese identifiers, shared by the models, the roster import and the demo loader."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kehou.core.error_codes import ErrorCode

_ID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2


def id_check_digit(body17: str) -> str:
    """The check character of an 18-character resident identity number (GB 11643, ISO 7064 MOD 11-2)."""
    if len(body17) != 17 or not body17.isdigit():
        raise ValueError("an identity number body is 17 digits")
    total = sum(int(c) * w for c, w in zip(body17, _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def validate_student_number_check(value: str) -> None:
    """A ``G`` student number embeds an identity number, whose check character must be right."""
    if len(value) == 19 and value[0] == "G" and value[1:18].isdigit() and id_check_digit(value[1:18]) != value[18]:
        raise ValidationError(_("The check digit of the student number is wrong."), code=ErrorCode.BAD_CHECK_DIGIT)


USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: no I, O, S, V, Z
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]


def uscc_check_char(body17: str) -> str:
    """The check character of a unified social credit code (GB 32100-2015)."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]
