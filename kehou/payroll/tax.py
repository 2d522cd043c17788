"""Tax withheld from an outside teacher's pay (劳务报酬所得, pre-withholding by the payer), by the rules in force.

Since 2019-01-01 (个人所得税法 2018 and 国家税务总局公告2018年第61号), for each payment of remuneration for
labour services (monthly income from continuing services counts as one payment):

* income ≤ 4,000 yuan: the taxable amount is income − 800 (nothing when income ≤ 800);
* income > 4,000 yuan: the taxable amount is income × 80 %;
* the tax is taxable × rate − quick deduction, by the pre-withholding table: ≤ 20,000 → 20 %; ≤ 50,000 → 30 % − 2,000;
  above → 40 % − 7,000.

Staff teachers' class-hour pay is wages, withheld by their school with their salary (累计预扣法): nothing here.
Amounts are fen; the tax is rounded half up to the fen (as withholding software does to the 分). A rule table is kept
by the date it took effect, so that a change adds a row and a payout records which rule it used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Bracket:
    upto_fen: int | None  # taxable amount up to (inclusive); None: no limit
    rate_percent: int
    quick_deduction_fen: int


@dataclass(frozen=True)
class Rule:
    code: str
    effective: date
    allowance_until_fen: int  # income up to this takes a fixed allowance …
    fixed_allowance_fen: int  # … of this much
    allowance_percent_above: int  # above it, this percent of the income is allowed
    brackets: tuple[Bracket, ...]


RULES: tuple[Rule, ...] = (
    Rule(
        code="labour-2019",
        effective=date(2019, 1, 1),
        allowance_until_fen=4000_00,
        fixed_allowance_fen=800_00,
        allowance_percent_above=20,
        brackets=(
            Bracket(upto_fen=20000_00, rate_percent=20, quick_deduction_fen=0),
            Bracket(upto_fen=50000_00, rate_percent=30, quick_deduction_fen=2000_00),
            Bracket(upto_fen=None, rate_percent=40, quick_deduction_fen=7000_00),
        ),
    ),
)


def rule_on(day: date) -> Rule:
    """The rule in force on ``day`` (the latest that took effect by then)."""
    candidates = [rule for rule in RULES if rule.effective <= day]
    if not candidates:
        raise ValueError(f"no withholding rule in force on {day}")
    return max(candidates, key=lambda rule: rule.effective)


def _round_half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def withholding(*, income_fen: int, teacher_kind: str, on: date) -> tuple[int, str]:
    """(tax to withhold in fen, the rule's code) for one payment of ``income_fen``."""
    if income_fen < 0:
        raise ValueError("income must not be negative")
    if teacher_kind != "outside":
        return 0, "staff-wages"
    rule = rule_on(on)
    if income_fen <= rule.allowance_until_fen:
        taxable = max(income_fen - rule.fixed_allowance_fen, 0)
    else:
        taxable = _round_half_up(income_fen * (100 - rule.allowance_percent_above), 100)
    if taxable <= 0:
        return 0, rule.code
    for bracket in rule.brackets:
        if bracket.upto_fen is None or taxable <= bracket.upto_fen:
            tax = _round_half_up(taxable * bracket.rate_percent, 100) - bracket.quick_deduction_fen
            return max(tax, 0), rule.code
    raise AssertionError("the last bracket has no limit")
