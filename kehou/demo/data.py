"""Static data of the demo city: regions, schools, organisations, operators, names, streets and the calendar.

Everything here is fixed; :mod:`kehou.demo.build` draws the rest (pupils, families, phones …) from a seeded
random generator, so the same command always builds the same city.

Region codes are GB/T 2260 (中华人民共和国行政区划代码) except for the four management areas (开发区 and
湾里管理局). GB/T 2260 assigns them no code, so the demo uses **local codes 360161–360164**, a range the standard
leaves unused under 南昌市. They are ours, not official. Resident identity numbers (and so student numbers) are
issued with real GB/T 2260 codes only, so each management area also names the code that appears in its pupils'
numbers (``id_area``): the county or district it was carved from, or 360105 for 湾里 (the code of the former
湾里区, abolished in 2019, which the identity numbers of people born there keep).

School names, streets and coordinates are realistic but made up: any likeness to a real school's data is only
approximate. Coordinates are WGS-84.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

DEMO_PASSWORD = "Kehou@2026"  # noqa: S105 - the documented password of every demo account (passes the validators)
SEED = 20260901
BASE_PUPILS = 4320

CITY_CODE = "360100"
CITY_NAME = "南昌市"


@dataclass(frozen=True)
class District:
    code: str
    name: str
    kind: str  # Region.Kind value
    lat: float  # approximate centre of the built-up area (WGS-84)
    lon: float
    spread: float  # how far (degrees) schools scatter around the centre
    id_area: str  # GB/T 2260 code used in the identity numbers of pupils registered here
    streets: tuple[str, ...]
    local_code: bool = False  # True: not a GB/T 2260 code (see module docstring)


DISTRICTS: tuple[District, ...] = (
    District(
        "360102", "东湖区", "district", 28.6850, 115.9030, 0.014, "360102",
        ("八一大道", "阳明路", "中山路", "胜利路", "象山北路", "叠山路", "民德路", "豫章路", "邮政路", "百花洲路"),
    ),
    District(
        "360103", "西湖区", "district", 28.6570, 115.8770, 0.014, "360103",
        ("孺子路", "站前路", "系马桩街", "桃花路", "洪城路", "抚生路", "朝阳中路", "绳金塔街"),
    ),
    District(
        "360104", "青云谱区", "district", 28.6220, 115.9180, 0.015, "360104",
        ("井冈山大道", "洪都中大道", "迎宾北大道", "京山北路", "施尧路", "三店西路", "青云谱路"),
    ),
    District(
        "360111", "青山湖区", "district", 28.6820, 115.9480, 0.016, "360111",
        ("北京东路", "湖坊路", "上海路", "青山南路", "解放东路", "塘山路", "顺外路", "南京东路"),
    ),
    District(
        "360112", "新建区", "district", 28.6920, 115.8150, 0.020, "360112",
        ("长堎大道", "新建大道", "长麦路", "工农路", "望城大道", "子实路"),
    ),
    District(
        "360113", "红谷滩区", "district", 28.6880, 115.8450, 0.018, "360113",
        ("红谷中大道", "赣江中大道", "丰和中大道", "庐山南大道", "碟子湖大道", "九龙大道", "凤凰中大道", "会展路"),
    ),
    District(
        "360121", "南昌县", "county", 28.5470, 115.9440, 0.030, "360121",
        ("莲塘北大道", "澄湖西路", "向塘大道", "莲西路", "东新路"),
    ),
    District(
        "360123", "安义县", "county", 28.8450, 115.5500, 0.025, "360123",
        ("龙津大道", "凤凰路", "文峰路", "东阳大道"),
    ),
    District(
        "360124", "进贤县", "county", 28.3770, 116.2410, 0.030, "360124",
        ("民和大道", "胜利路", "青岚大道", "李渡大道", "钟陵路"),
    ),
    District(
        "360161", "南昌高新技术产业开发区", "zone", 28.6950, 115.9950, 0.020, "360111",
        ("艾溪湖北路", "紫阳大道", "火炬大街", "高新大道", "天祥大道", "瑶湖西大道", "京东大道"),
        local_code=True,
    ),
    District(
        "360162", "南昌经济技术开发区", "zone", 28.7550, 115.8350, 0.018, "360112",
        ("双港大道", "枫林大道", "蛟桥路", "玉屏大道", "秀先路"),
        local_code=True,
    ),
    District(
        "360163", "湾里管理局", "zone", 28.7150, 115.7310, 0.012, "360105",
        ("翠岩路", "梅岭大道", "幸福路", "太平街"),
        local_code=True,
    ),
    District(
        "360164", "南昌小蓝经济技术开发区", "zone", 28.5700, 115.9300, 0.012, "360121",
        ("小蓝中大道", "汇仁大道", "富山大道", "金沙大道", "雄溪路"),
        local_code=True,
    ),
)  # fmt: skip


@dataclass(frozen=True)
class SchoolSpec:
    district: str  # district code
    name: str
    stage: str  # School.Stage value
    authority: str = "district"  # School.Authority value
    joined: bool = True


P, J, N = "primary", "junior", "nine_year"
CB, PI, CP = "city_bureau", "province_institution", "city_private"

SCHOOLS: tuple[SchoolSpec, ...] = (
    # 局属: run by the city bureau, located in a district
    SchoolSpec("360102", "南昌市育新学校", N, CB),
    SchoolSpec("360102", "南昌市第十九中学", J, CB),
    SchoolSpec("360102", "南昌市第三中学", J, CB),
    SchoolSpec("360103", "南昌市豫章小学", P, CB),
    SchoolSpec("360103", "南昌市实验中学", J, CB),
    SchoolSpec("360111", "南昌市第二十八中学", J, CB),
    SchoolSpec("360113", "南昌市外国语学校", J, CB),
    # a province institution's school and a city-managed private school
    SchoolSpec("360111", "江西师范大学附属小学", P, PI),
    SchoolSpec("360112", "南昌市豫章外国语学校", N, CP),
    # district schools
    SchoolSpec("360102", "东湖区邮政路小学", P),
    SchoolSpec("360102", "东湖区阳明路小学", P),
    SchoolSpec("360102", "东湖区百花洲小学", P),
    SchoolSpec("360102", "东湖区豫章中学", J),
    SchoolSpec("360103", "西湖区站前路小学", P),
    SchoolSpec("360103", "西湖区桃花小学", P),
    SchoolSpec("360103", "西湖区系马桩小学", P),
    SchoolSpec("360103", "西湖区朝阳中学", J),
    SchoolSpec("360103", "西湖区绳金塔学校", N),
    SchoolSpec("360104", "青云谱区洪都小学", P),
    SchoolSpec("360104", "青云谱区施尧小学", P),
    SchoolSpec("360104", "青云谱区京山小学", P),
    SchoolSpec("360104", "青云谱区江南学校", N),
    SchoolSpec("360104", "青云谱区十字街中学", J),
    SchoolSpec("360111", "青山湖区湖坊小学", P),
    SchoolSpec("360111", "青山湖区塘山小学", P),
    SchoolSpec("360111", "青山湖区上沙沟小学", P),
    SchoolSpec("360111", "青山湖区罗家中学", J),
    SchoolSpec("360111", "青山湖区顺化门学校", N),
    SchoolSpec("360112", "新建区长堎小学", P),
    SchoolSpec("360112", "新建区望城中心小学", P, joined=False),
    SchoolSpec("360112", "新建区西山学校", N),
    SchoolSpec("360112", "新建区第二中学", J),
    SchoolSpec("360113", "红谷滩区沙井中心小学", P),
    SchoolSpec("360113", "红谷滩区碟子湖小学", P),
    SchoolSpec("360113", "红谷滩区九龙湖学校", N),
    SchoolSpec("360113", "红谷滩区红角洲学校", N),
    SchoolSpec("360121", "南昌县莲塘第一小学", P),
    SchoolSpec("360121", "南昌县莲塘第二小学", P),
    SchoolSpec("360121", "南昌县向塘中心小学", P),
    SchoolSpec("360121", "南昌县莲塘第三中学", J),
    SchoolSpec("360121", "南昌县塔城学校", N, joined=False),
    SchoolSpec("360123", "安义县龙津中心小学", P),
    SchoolSpec("360123", "安义县鼎湖中心小学", P),
    SchoolSpec("360123", "安义县第二中学", J),
    SchoolSpec("360123", "安义县万埠学校", N, joined=False),
    SchoolSpec("360124", "进贤县民和第一小学", P),
    SchoolSpec("360124", "进贤县民和第二小学", P),
    SchoolSpec("360124", "进贤县李渡中心小学", P, joined=False),
    SchoolSpec("360124", "进贤县第二初级中学", J),
    SchoolSpec("360161", "南昌高新区艾溪湖小学", P),
    SchoolSpec("360161", "南昌高新区麻丘中心小学", P),
    SchoolSpec("360161", "南昌高新区瑶湖学校", N),
    SchoolSpec("360162", "南昌经开区白水湖小学", P),
    SchoolSpec("360162", "南昌经开区蛟桥中心小学", P),
    SchoolSpec("360162", "南昌经开区桑海学校", N),
    SchoolSpec("360163", "湾里管理局第一小学", P),
    SchoolSpec("360163", "湾里管理局梅岭中心小学", P),
    SchoolSpec("360163", "湾里管理局太平学校", N, joined=False),
    SchoolSpec("360164", "小蓝经开区小蓝中心小学", P),
    SchoolSpec("360164", "小蓝经开区银湖小学", P),
    SchoolSpec("360164", "小蓝经开区富山学校", N),
)

# The named demo accounts live here, so that they see each other's data.
NAMED_TEACHER_SCHOOL = "东湖区邮政路小学"
NAMED_PARENT_SCHOOLS = ("东湖区邮政路小学", "南昌市第十九中学")


@dataclass(frozen=True)
class OrganisationSpec:
    name: str
    district: str
    credit_prefix: str  # the first 8 characters of the credit code: kind (2) + registration area (6)
    subjects: tuple[str, ...]
    teachers: int


ORGANISATIONS: tuple[OrganisationSpec, ...] = (
    OrganisationSpec("南昌市青少年科技教育中心", "360102", "12360100", ("机器人", "编程", "科学实验"), 7),
    OrganisationSpec("南昌市青少年宫", "360103", "12360100", ("舞蹈", "合唱", "器乐"), 6),
    OrganisationSpec("南昌赣鄱非遗文化传播有限公司", "360103", "91360103", ("剪纸", "陶艺", "赣剧"), 4),
    OrganisationSpec("南昌启航青少年体育俱乐部", "360113", "52360113", ("篮球", "足球", "跆拳道"), 6),
    OrganisationSpec("南昌八大山人书画艺术培训中心", "360104", "52360104", ("国画", "书法", "素描"), 5),
    OrganisationSpec("江西启明心理咨询服务有限公司", "360111", "91360111", ("心理健康", "团体辅导"), 3),
    OrganisationSpec("南昌绿野劳动实践教育基地有限公司", "360121", "91360121", ("劳动实践", "种植", "烹饪"), 3),
)
INDEPENDENT_OUTSIDE_TEACHERS = 4  # outside teachers with no organisation (individual social resources)
INDEPENDENT_SUBJECTS = ("围棋", "国际象棋", "戏剧表演", "摄影", "篆刻")


@dataclass(frozen=True)
class OperatorSpec:
    name: str
    credit_prefix: str
    contact: str
    districts: tuple[str, ...]  # joined district schools here are authorised
    non_district_schools: bool  # and the city-managed schools (局属, province, private)
    staff: int


OPERATORS: tuple[OperatorSpec, ...] = (
    OperatorSpec(
        "江西洪城课后教育服务有限公司", "91360100", "黎建华",
        ("360102", "360103", "360112", "360113", "360162", "360163"), True, 3,
    ),
    OperatorSpec(
        "南昌赣江优学教育科技有限公司", "91360100", "涂晓军",
        ("360104", "360111", "360121", "360124", "360161", "360164"), False, 3,
    ),
)  # fmt: skip
# 安义县 runs its after-school services itself: no operator is authorised there.

STAFF_SUBJECTS = (
    "科学", "美术", "音乐", "体育", "书法", "信息科技",
    "语文阅读", "英语绘本", "数学思维", "劳动", "心理健康", "综合实践",
)  # fmt: skip

SPECIALITIES = ("科技", "体育", "艺术", "人文", "劳动", "心理")
EXPERTS = 36
EXPERT_AFFILIATIONS: dict[str, tuple[str, ...]] = {  # by the expert's first speciality
    "科技": ("南昌大学", "江西科技师范大学", "南昌市教育科学研究所"),
    "体育": ("南昌大学体育学院", "江西师范大学", "南昌师范学院"),
    "艺术": ("江西师范大学", "南昌师范学院", "南昌市教育科学研究所"),
    "人文": ("江西师范大学", "南昌大学", "南昌市教育科学研究所"),
    "劳动": ("南昌市教育科学研究所", "江西科技师范大学", "南昌师范学院"),
    "心理": ("江西师范大学心理学院", "南昌大学", "南昌市教育科学研究所"),
}

# --- names ------------------------------------------------------------------------------------------
# Surnames with rough weights (per mille of the population), the national order nudged towards Jiangxi
# (熊 万 涂 喻 饶 邹 付 are commoner here than nationally).
SURNAMES: tuple[tuple[str, int], ...] = (
    ("王", 71), ("李", 70), ("张", 67), ("刘", 60), ("陈", 46), ("杨", 32), ("黄", 30), ("赵", 23), ("吴", 24),
    ("周", 19), ("徐", 16), ("孙", 14), ("马", 12), ("朱", 13), ("胡", 18), ("郭", 11), ("何", 10), ("高", 10),
    ("林", 9), ("罗", 13), ("郑", 8), ("梁", 7), ("谢", 8), ("宋", 6), ("唐", 6), ("许", 6), ("韩", 5), ("冯", 5),
    ("邓", 7), ("曹", 5), ("彭", 7), ("曾", 7), ("肖", 6), ("田", 4), ("董", 4), ("袁", 4), ("潘", 4), ("于", 3),
    ("蒋", 4), ("蔡", 4), ("余", 5), ("杜", 4), ("叶", 4), ("程", 4), ("苏", 3), ("魏", 4), ("吕", 3), ("丁", 3),
    ("任", 3), ("沈", 3), ("姚", 3), ("卢", 3), ("姜", 3), ("钟", 3), ("谭", 2), ("汪", 3), ("范", 2), ("金", 2),
    ("石", 2), ("廖", 3), ("夏", 2), ("付", 4), ("方", 2), ("邹", 4), ("熊", 6), ("邱", 2), ("江", 2), ("雷", 2),
    ("龚", 2), ("万", 4), ("涂", 4), ("喻", 3), ("饶", 3), ("黎", 2), ("聂", 2), ("舒", 2), ("甘", 1), ("晏", 1),
)  # fmt: skip

# Given-name characters by generation and gender. Children born 2011–2020; parents born about 1978–1995;
# grandparents about 1950–1965.
CHILD_BOY_1 = "子梓浩宇俊博泽睿一明嘉皓奕晨铭宸昊天思文家煜锦景承楷沐瑞诚逸致"
CHILD_BOY_2 = "轩宇涵睿泽辰豪杰航然铭阳哲翔琪煊霖彬瑞恒熙晨远骁翰宁诚川旭"
CHILD_GIRL_1 = "子梓欣雨诗可思语若一依心嘉佳梦书紫沐雅艺晓静安婉亦芷梓语"
CHILD_GIRL_2 = "涵萱怡琪彤悦妍晗馨瑶菲琳怡然婷雪晴月宁玥歆琦颖茜蕾桐乐"
ADULT_MAN_1 = "建志国晓俊文海永明小少振红春德鹏家卫立学东新伟"
ADULT_MAN_2 = "伟军勇磊涛强斌鹏超杰明辉峰华平刚波亮林松宇飞龙锋"
ADULT_WOMAN_1 = "晓丽小海秀春红美玉雪静婷慧丹文金桂淑艳"
ADULT_WOMAN_2 = "丽芳娟敏静燕艳霞玲婷红慧琴萍洁颖莉晶梅兰倩蓉华英"
GRANDFATHER_NAMES = (
    "建国", "国华", "志强", "德明", "永康", "福生", "金根", "水生", "长根", "和平", "春生", "国平", "福根", "冬生",
    "建华", "国庆", "火生", "细根", "国强", "荣华",
)  # fmt: skip
GRANDMOTHER_NAMES = (
    "秀英", "桂英", "玉兰", "桂兰", "秀兰", "凤英", "冬梅", "菊英", "金凤", "淑珍", "玉珍", "美华", "桂香", "水莲",
    "细妹", "春花", "兰英", "金花", "秀珍", "招娣",
)  # fmt: skip

# Mobile number prefixes of the three carriers.
PHONE_PREFIXES = (
    "134", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159", "182", "183", "187", "188",
    "198", "130", "131", "132", "155", "156", "166", "185", "186", "133", "153", "177", "180", "181", "189", "199",
)  # fmt: skip


# --- the calendar -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DaySpec:
    date: date
    kind: str  # CalendarDay.Kind value
    note: str
    follows_weekday: int | None = None  # make-up days: the weekday whose timetable they follow (0=Monday)


@dataclass(frozen=True)
class TermSpec:
    name: str
    starts_on: date
    ends_on: date
    days: tuple[DaySpec, ...]


def _holidays(first: date, last: date, note: str) -> tuple[DaySpec, ...]:
    return tuple(DaySpec(date.fromordinal(n), "holiday", note) for n in range(first.toordinal(), last.toordinal() + 1))


# Autumn 2026 follows the State Council's notice of 4 November 2025 (国办发明电〔2025〕): 中秋节 9月25日–27日;
# 国庆节 10月1日–7日 with 9月20日 (Sunday) and 10月10日 (Saturday) worked. The two make-up days stand in for
# Tuesday 6 and Wednesday 7 October, whose timetables they follow. Mid-Autumn falls on 25 September in 2026,
# not inside the National Day week.
# Spring 2027 is an assumption: the 2027 arrangement is published late in 2026. Dates follow the calendar
# (清明 5 April, 端午 8 June 2027) and the usual pattern of swapped days.
TERMS: tuple[TermSpec, ...] = (
    TermSpec(
        "2026-2027学年第一学期",
        date(2026, 9, 1),
        date(2027, 1, 22),
        (
            DaySpec(date(2026, 9, 20), "makeup", "国庆节调休补课（按周二课表）", 1),
            *_holidays(date(2026, 9, 25), date(2026, 9, 27), "中秋节"),
            *_holidays(date(2026, 10, 1), date(2026, 10, 7), "国庆节"),
            DaySpec(date(2026, 10, 10), "makeup", "国庆节调休补课（按周三课表）", 2),
            DaySpec(date(2027, 1, 1), "holiday", "元旦"),
        ),
    ),
    TermSpec(
        "2026-2027学年第二学期",
        date(2027, 2, 22),
        date(2027, 7, 2),
        (
            *_holidays(date(2027, 4, 3), date(2027, 4, 5), "清明节"),
            *_holidays(date(2027, 5, 1), date(2027, 5, 5), "劳动节"),
            DaySpec(date(2027, 5, 8), "makeup", "劳动节调休补课（按周三课表）", 2),
            *_holidays(date(2027, 6, 6), date(2027, 6, 8), "端午节"),
            DaySpec(date(2027, 6, 12), "makeup", "端午节调休补课（按周一课表）", 0),
        ),
    ),
)
