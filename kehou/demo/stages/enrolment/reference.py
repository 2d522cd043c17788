"""The classes stage's reference data: care fee ceilings, the schools that offer classes and how selection runs
there, rooms, waiver reasons; the windows' times relative to the load (:func:`window_times`), the lotteries' seeds
(:func:`lottery_seed`) and the term the classes belong to (:func:`choose_term`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from kehou.demo import data

# --- reference data -------------------------------------------------------------------------------------
# Basic care (基础托管) ceilings in yuan: (per day, per month). 南昌县 is stricter than the city.
CARE_STANDARDS: tuple[tuple[str, int, int], ...] = ((data.CITY_CODE, 20, 300), ("360121", 15, 240))

# The schools that offer classes, and how selection runs there (see the module docstring).
OPEN = "open"  # first come, opened an hour ago, closes in two weeks
DAYS = "days"  # first come, opened two days ago
DAY = "day"  # first come, opened yesterday
CLOSED = "closed"  # first come, closed two days ago
LOTTERY = "lottery"  # lottery for every grade, closed yesterday, drawn
STAGGERED = "staggered"  # the district bureau staggers the windows; they open in two days
SCHOOLS: tuple[tuple[str, str], ...] = (
    ("东湖区邮政路小学", OPEN),
    ("南昌市第十九中学", OPEN),
    ("南昌市育新学校", OPEN),
    ("东湖区阳明路小学", OPEN),
    ("西湖区站前路小学", DAYS),
    ("西湖区桃花小学", DAYS),
    ("南昌市实验中学", DAYS),
    ("红谷滩区沙井中心小学", DAY),
    ("南昌市外国语学校", DAY),
    ("南昌县莲塘第二小学", CLOSED),
    ("南昌县向塘中心小学", CLOSED),
    ("南昌市第二十八中学", LOTTERY),
)
STAGGERED_DISTRICT = "360104"  # 青云谱区: every joined school gets classes and a staggered window
SUSPENDING_DISTRICT = "360103"  # 西湖区 suspends one of its library's courses after classes were made from it
SUSPENSION_REASON = "授课机构场地消防复查未通过，暂停开课，整改完成后恢复。"
COURSES_PER_SCHOOL = 6
LOTTERY_COURSES_PER_GRADE = 3
PARTICIPATION = {OPEN: 0.7, DAYS: 0.82, DAY: 0.75, CLOSED: 0.88, LOTTERY: 0.88}
CARE_SHARE = 0.15  # of the pupils who take part, how many choose basic care (every afternoon) instead of courses
GRADE_NAMES = dict(
    enumerate(("一年级", "二年级", "三年级", "四年级", "五年级", "六年级", "初一", "初二", "初三"), start=1)
)

# Rooms by category code; a number is added where a school has several of a kind.
ROOMS: dict[str, tuple[str, ...]] = {
    "science": ("科技楼201", "科技楼202", "计算机教室", "科学实验室"),
    "arts": ("音乐教室", "美术教室", "舞蹈房", "综合楼302"),
    "sports": ("操场", "室内体育馆", "篮球场"),
    "humanities": ("书法教室", "阅览室", "多功能厅", "综合楼301"),
    "labour": ("劳动实践室", "学校农场", "烹饪教室"),
    "psychology": ("心理辅导室", "团体活动室"),
}
# Rooms by what a course's name says (first match), before falling back on its category.
ROOMS_BY_NAME: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("编程", "机器人", "Scratch", "信息", "无人机", "3D"), ("计算机教室", "科技楼201", "科技楼202")),
    (("实验", "科学", "天文"), ("科学实验室", "科技楼203")),
    (("烹饪", "厨"), ("烹饪教室",)),
    (("农场", "种植", "园艺", "田园", "劳动"), ("学校农场", "劳动实践室")),
    (("篮球",), ("篮球场", "室内体育馆")),
    (("足球", "田径"), ("操场",)),
    (("跆拳道", "武术", "体操"), ("室内体育馆", "体操房")),
    (("围棋", "象棋", "棋"), ("棋艺室", "阅览室")),
    (("戏剧", "赣剧"), ("多功能厅", "舞蹈房")),
    (("舞",), ("舞蹈房",)),
    (("合唱", "琴", "笛", "葫芦丝", "尤克里里", "弹唱", "合奏", "器乐", "音乐"), ("音乐教室", "综合楼302")),
    (("画", "素描", "剪纸", "陶", "美术"), ("美术教室", "综合楼303")),
    (("书法", "篆刻"), ("书法教室", "综合楼301")),
    (("模拟联合国", "辩论", "阅读", "绘本", "邮票"), ("阅览室", "多功能厅")),
    (("心理", "情绪", "团体辅导", "成长"), ("心理辅导室", "团体活动室")),
)
CARE_ROOMS = ("教学楼一楼托管教室", "教学楼二楼托管教室", "综合楼101")
WAIVER_REASONS = (
    "家庭经济困难，父母一方因病长期无法工作，已纳入城市低保。",
    "建档立卡脱贫家庭子女，由班主任家访核实。",
    "父亲去年因工伤致残，家庭收入骤减，社区出具困难证明。",
)


def lottery_seed(seed: int, school_code: str, grade: int) -> str:
    """The published seed of a demo lottery window: derived from the demo seed, the school and the grade."""
    return hashlib.sha256(f"{seed}:enrolment:lottery:{school_code}:{grade}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class WindowPlan:
    opens_at: datetime
    closes_at: datetime
    mode: str
    hold_minutes: int = 15


def window_times(kind: str, base: datetime) -> WindowPlan:
    """The times of a school's windows, as fixed offsets from ``base`` (not rounded: then every selection falls at
    the same offset in every load, and the counts are the same whenever it runs)."""
    if kind == OPEN:
        return WindowPlan(base - timedelta(hours=1), base + timedelta(days=14) - timedelta(hours=1), "first_come")
    if kind == DAYS:
        return WindowPlan(base - timedelta(days=2), base + timedelta(days=5), "first_come")
    if kind == DAY:
        return WindowPlan(base - timedelta(days=1), base + timedelta(days=6), "first_come")
    if kind == CLOSED:
        return WindowPlan(base - timedelta(days=9), base - timedelta(days=2), "first_come")
    if kind == LOTTERY:
        closes = base - timedelta(hours=15)
        return WindowPlan(closes - timedelta(days=5), closes, "lottery", hold_minutes=60)
    raise ValueError(kind)


def stagger_first_opens(base: datetime) -> datetime:
    return base + timedelta(days=2)


def choose_term(today: date) -> tuple[Any, date | None] | None:
    """The term the classes belong to (the current one, as the pages show it, or the next when fewer than two
    weeks of it would be left after selection) and the day the classes start (None: the start of the term)."""
    from kehou.orgs.models import Term
    from kehou.orgs.selectors import current_term

    term = current_term(today=today)
    if term is None:
        return None
    start = today + timedelta(days=15)
    start += timedelta(days=(7 - start.weekday()) % 7)  # the Monday after every window has closed
    if start > term.ends_on - timedelta(days=14):
        following = Term.objects.filter(starts_on__gt=today).order_by("starts_on").first()
        if following is None:
            return None
        return following, None
    return term, start if start > term.starts_on else None
