"""Money is integer fen (分). Never float."""

from __future__ import annotations


def fen_to_yuan_str(fen: int) -> str:
    if not isinstance(fen, int):
        raise TypeError("money must be integer fen")
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def yuan_str_to_fen(text: str) -> int:
    """Parse '12.30' into 1230 without going through float."""
    text = text.strip()
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    whole, _, frac = text.partition(".")
    if not whole.isdigit() or (frac and (not frac.isdigit() or len(frac) > 2)):
        raise ValueError(f"not a yuan amount: {text!r}")
    return sign * (int(whole) * 100 + int((frac + "00")[:2]))
