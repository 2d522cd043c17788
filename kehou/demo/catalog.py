"""The demo libraries and review: categories, the 20 quality standards, fee standards, review policies, experts'
recusals, submissions in every state, panels, scores and decisions, district and school libraries, and filings.

Reference data (categories, quality standards, fee standards, review policies, recusals) is written directly:
it is the bureau's configuration, not anyone's action. Everything else goes through the catalog services
(``submission_create``, ``submission_revise``, ``panel_draw``, ``member_decline``, ``score_submit``,
``panel_decide``, ``library_adopt``, ``library_pick``, ``library_set_status``, ``filing_acknowledge``), acting as
the demo accounts, so the audit log, the libraries' invariants and the filings are the real ones.

Deterministic: every choice comes from a generator seeded with the demo seed and a fixed label, every time is
taken from a fixed timeline (late August to late November 2026), and every panel is drawn with a seed derived
from the demo seed, the submission's index in :data:`SPECS` and the panel's round
(:func:`panel_seed`). The draw itself orders experts by their database ids, so the same database state gives
the same panels; a fresh database gives the same city every time.

One choice is made after a draw, and it is said here: of the science and humanities submissions that are
reviewed last (``fate="candidate"``), those whose panel seats the named ``expert`` are left half-scored ("in
review") and the others are decided, so that the demo expert has open seats to score. The seeds are never
searched for a wanted panel.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, F

from kehou.core import audit
from kehou.core.errors import KehouError
from kehou.people.validators import id_check_digit

from . import data
from .build import TZ, DemoError, LoadResult, _digest, _natural, _random_day, _rng, _utc, demo_state

LOADED_ACTION = "demo.catalog_loaded"

# --- reference data -------------------------------------------------------------------------------------
CATEGORIES: tuple[tuple[str, str], ...] = (
    ("science", "科技"),
    ("sports", "体育"),
    ("arts", "艺术"),
    ("humanities", "人文"),
    ("labour", "劳动"),
    ("psychology", "心理"),
)

# The city's 20 quality standards: (title, description, weight, veto). Weights add up to 100.
QUALITY_ITEMS: tuple[tuple[str, str, int, bool], ...] = (
    ("课程目标明确，符合学生身心发展规律",
     "目标具体、可评价，与学段特点相适应，不超出学生的认知与体能水平。", 6, False),
    ("坚持正确育人方向，内容无意识形态与宗教问题",
     "课程内容、教材和资料符合社会主义核心价值观，无宗教传播、封建迷信和错误价值导向。", 5, True),
    ("师德师风良好，无违法犯罪记录",
     "授课教师经教职员工准入查询和无犯罪记录核查，无体罚、有偿补课等违规行为。", 5, True),
    ("属非学科类课程，不变相开展学科类培训", "不以超前、超标学习或应试训练为内容，不布置书面作业。", 5, True),
    ("课程内容科学系统，体现素质教育特色", "内容准确、结构完整，有明确的学期进度和单元安排。", 6, False),
    ("教学设计合理，注重实践与体验", "以活动、探究、练习为主，学生动手动脑的时间不少于每课时的一半。", 6, False),
    ("课时安排合理", "每课时40至45分钟，每学期课时数与课程目标相匹配。", 4, False),
    ("教学安全预案完备", "有场地、器材、用电、运动伤害等安全预案和突发事件处置流程。", 6, False),
    ("教师资质符合要求", "具有相应的教师资格或专业资格证书，持证上岗。", 6, False),
    ("师资配备充足稳定", "师生比合理，有备课与代课安排，学期内不随意更换教师。", 4, False),
    ("收费符合标准，材料费单列自愿",
     "每课时收费在主管部门公布的标准以内，材料另行标价、自愿购买，不与课程捆绑。", 5, False),
    ("教材与资料来源合规", "自编材料经单位审核，引用资料注明出处，无商业广告。", 4, False),
    ("课程评价方式多元", "采用过程性评价、作品展示等方式，不以考试排名评价学生。", 5, False),
    ("学生兴趣与参与度", "内容贴近学生生活，能激发兴趣，适合不同基础的学生分层参与。", 5, False),
    ("家校沟通与反馈机制", "定期向家长反馈学习情况，有意见收集与回应渠道。", 4, False),
    ("场地与设施条件满足教学需要", "场地、器材数量与班额相适应，符合卫生与消防要求。", 4, False),
    ("课程特色与创新", "体现地方文化或学科前沿，有区别于同类课程的特色。", 5, False),
    ("以往开课成效", "有既往开课记录、学生作品或满意度调查结果。", 5, False),
    ("课程管理规范", "有考勤、教学日志和学生作品档案等管理记录。", 5, False),
    ("服务承诺与退费规则明确", "公开课程安排、收费和退费规则，按规定退还未上课时的费用。", 5, False),
)  # fmt: skip

# Fee standards in yuan per class hour: (lowest fee, highest fee, teacher pay). The city's for every category;
# 南昌县 has its own (lower) for every category, 进贤县 for two (the rest fall back to the city's).
FEE_STANDARDS: dict[str, dict[str, tuple[int, int, int]]] = {
    data.CITY_CODE: {
        "science": (30, 50, 90), "sports": (20, 40, 70), "arts": (25, 45, 80),
        "humanities": (15, 30, 60), "labour": (15, 25, 60), "psychology": (20, 35, 100),
    },
    "360121": {
        "science": (25, 40, 75), "sports": (15, 30, 60), "arts": (20, 35, 65),
        "humanities": (12, 25, 60), "labour": (12, 20, 60), "psychology": (15, 30, 80),
    },
    "360124": {"science": (25, 40, 80), "arts": (20, 38, 70)},
}  # fmt: skip
FEES_SET_AT = datetime(2026, 8, 20, 10, 0, tzinfo=TZ)

# Review policies: (region, panel size, admit at ≥ ‱, return at ≥ ‱). 红谷滩区 reviews with panels of three under
# the city's thresholds; every other district follows the city's policy.
POLICIES: tuple[tuple[str, int, int, int], ...] = ((data.CITY_CODE, 5, 7500, 6000), ("360113", 3, 7500, 6000))

# Recusals: (the expert's speciality, affiliation — or a username with "@", what they recuse from, reason).
# A recusal is skipped if one of the expert's specialities has fewer than seven experts, so that no panel of
# five becomes impossible to fill (or to redraw after a decline).
KJ = "南昌市青少年科技教育中心"
SNG = "南昌市青少年宫"
FY = "南昌赣鄱非遗文化传播有限公司"
QH = "南昌启航青少年体育俱乐部"
BD = "南昌八大山人书画艺术培训中心"
QM = "江西启明心理咨询服务有限公司"
LY = "南昌绿野劳动实践教育基地有限公司"
RECUSALS: tuple[tuple[str, str, str, str], ...] = (
    ("", "@expert", "school:江西师范大学附属小学", "本人所在单位（江西师范大学）的附属学校"),
    ("艺术", "南昌师范学院", f"org:{SNG}", "近两年在该单位兼职指导童声合唱团"),
    ("科技", "江西科技师范大学", f"org:{KJ}", "与该单位有青少年机器人竞赛合作项目"),
    ("心理", "江西师范大学心理学院", f"org:{QM}", "曾担任该公司心理咨询师的督导"),
    ("劳动", "南昌师范学院", f"org:{LY}", "该基地为本人所在学院的学生实习基地"),
)
RECUSALS_DECLARED_AT = datetime(2026, 8, 21, 15, 0, tzinfo=TZ)


# --- what is submitted, by whom, and what becomes of it ------------------------------------------------------
@dataclass(frozen=True)
class Course:
    name: str
    category: str  # category code
    grades: tuple[int, int]  # first and last grade
    minutes: int
    hours: int
    fee: int  # yuan per class hour
    intro: str
    materials: tuple[str, int] | None = None  # description, price in yuan (optional, never in the fee)


@dataclass(frozen=True)
class Revision:
    note: str
    fee: int | None = None
    hours: int | None = None
    intro_add: str = ""
    materials: tuple[str, int] | None = None


@dataclass(frozen=True)
class Spec:
    """One submission. ``by``: ``org:<name>``, ``indep`` (an outside teacher with no organisation) or
    ``school:<name>``. ``teacher``: a subject the teacher teaches (``机器人``; ``国际象棋#2`` for the second such
    teacher) or ``@username``. A spec without a course is a teacher dossier.

    ``fate``: admitted, admitted_v2 (returned, revised, then admitted), revised (returned, a second version
    awaits a panel), returned (awaits revision), rejected_veto, rejected_low, in_review (some scores missing),
    candidate (in review or admitted, see the module docstring), submitted (awaits a panel)."""

    by: str
    fate: str
    teacher: str
    course: Course | None = None
    library: str = "city"
    batch: int = 1
    revision: Revision | None = None
    note: str = ""  # a reviewer's comment for a returned or rejected submission
    later: tuple[str, str] | None = None  # (status, reason) the city entry gets after use
    decline: bool = False  # a panel member declines and is replaced
    two_teachers: bool = False


def _c(
    name: str,
    category: str,
    grades: tuple[int, int],
    minutes: int,
    hours: int,
    fee: int,
    intro: str,
    materials: tuple[str, int] | None = None,
) -> Course:
    return Course(name, category, grades, minutes, hours, fee, intro, materials)


def _org(name: str) -> str:
    return f"org:{name}"


def _school(name: str) -> str:
    return f"school:{name}"


SPECS: tuple[Spec, ...] = (
    # --- the first review round (late August): outside organisations and teachers -------------------------
    Spec(_org(KJ), "admitted", "机器人", _c(
        "乐高机器人搭建与编程", "science", (3, 6), 45, 16, 45,
        "以积木机器人为载体，学生分组完成齿轮传动、传感器与简单程序设计，每学期完成一件可演示的机器人作品。"
        "课程注重动手与合作，不做竞赛培训。", ("机器人搭建套件（可重复使用，自愿购买）", 180)), two_teachers=True),
    Spec(_org(KJ), "admitted", "编程", _c(
        "Scratch创意编程", "science", (3, 6), 45, 16, 40,
        "使用图形化编程工具制作动画、小游戏和互动故事，在创作中理解顺序、循环、条件等基本概念。"
        "学期末举办作品展示会，家长可在线观看。")),
    Spec(_org(KJ), "admitted", "科学实验", _c(
        "趣味科学实验室", "science", (1, 3), 40, 16, 35,
        "围绕空气、水、光、磁等主题设计安全的小实验，引导低年级学生观察、提问、记录，培养科学好奇心。"
        "所用器材均为适合低龄儿童的安全材料。", ("实验材料包", 60))),
    Spec(_org(SNG), "admitted", "舞蹈", _c(
        "少儿中国舞", "arts", (1, 4), 45, 16, 40,
        "以中国舞基本功训练为主，兼学汉族、傣族、蒙古族民间舞组合，提升身体协调性与节奏感。"
        "不以考级为目的，学期末进行汇报演出。")),
    Spec(_org(SNG), "admitted", "合唱", _c(
        "童声合唱", "arts", (2, 6), 40, 16, 30,
        "学习科学发声方法与二声部合唱，曲目以中外优秀儿童歌曲和江西民歌为主，培养音乐感受力与集体合作意识。")),
    Spec(_org(SNG), "admitted", "器乐", _c(
        "葫芦丝入门", "arts", (3, 6), 40, 16, 30,
        "从持笛、呼吸、指法入手，循序渐进学习十余首乐曲，学期末能独立吹奏《月光下的凤尾竹》片段。",
        ("葫芦丝（C调，自愿购买）", 85))),
    Spec(_org(FY), "admitted", "剪纸", _c(
        "非遗剪纸", "arts", (2, 6), 40, 16, 30,
        "由非遗传承人团队授课，学习折剪、阴刻、阳刻等技法，了解剪纸在节庆民俗中的寓意，作品用于校园文化布置。",
        ("剪纸工具与彩纸包", 45))),
    Spec(_org(FY), "admitted", "陶艺", _c(
        "陶艺手作", "arts", (3, 9), 45, 16, 42,
        "学习捏塑、泥条盘筑、泥板成型等手工成型方法，完成杯、碗、小摆件等作品并统一送窑烧制。"
        "课堂不使用电窑等高温设备。", ("陶泥与烧制费", 120))),
    Spec(_org(FY), "admitted", "赣剧", _c(
        "赣剧唱腔与身段", "humanities", (3, 7), 45, 14, 28,
        "介绍赣剧的历史与弋阳腔、青阳腔等声腔特点，学唱经典唱段、练习基本身段，让学生亲近江西地方戏曲。")),
    Spec(_org(QH), "admitted", "篮球", _c(
        "少儿篮球基础", "sports", (3, 6), 45, 16, 32,
        "以运球、传接球、投篮等基本技术为主，结合小场地比赛，提升体能与团队意识。每课含热身与放松环节，"
        "现场配备急救包。")),
    Spec(_org(QH), "admitted", "足球", _c(
        "校园足球", "sports", (1, 6), 45, 16, 30,
        "按年龄分组开展球性练习、传接配合和五人制小场比赛，落实校园足球普及要求，注重运动安全与体育精神。")),
    Spec(_org(QH), "admitted", "跆拳道", _c(
        "少儿跆拳道", "sports", (1, 6), 45, 16, 35,
        "学习礼仪、基本步法、腿法与品势，强调礼仪修养与自我保护；对抗练习只在佩戴护具时轻接触进行。",
        ("道服（自愿购买）", 120)),
        later=("suspended", "家长反映训练场地防护垫破损，暂停开课，整改复查合格后恢复。")),
    Spec(_org(BD), "admitted", "国画", _c(
        "少儿国画", "arts", (2, 6), 45, 16, 38,
        "从笔墨技法入手，学习花鸟、蔬果、山水小品，欣赏八大山人等名家作品，体会中国画的意趣。",
        ("笔墨纸砚套装", 98)), decline=True),
    Spec(_org(BD), "admitted", "书法", _c(
        "软笔书法", "humanities", (3, 9), 45, 16, 30,
        "以颜体楷书为主，练习基本笔画、结构与章法，了解汉字演变和书法名家故事，培养静心专注的习惯。",
        ("文房四宝套装", 80))),
    Spec(_org(BD), "admitted", "素描", _c(
        "素描基础", "arts", (4, 9), 45, 16, 40,
        "学习线条、明暗、透视与构图，从几何体写生过渡到静物与校园风景写生。")),
    Spec(_org(QM), "admitted", "心理健康", _c(
        "情绪小管家", "psychology", (1, 3), 40, 14, 25,
        "通过绘本、游戏与角色扮演，帮助低年级学生认识和表达情绪，学习简单的情绪调节方法。"
        "由持证心理咨询师授课，课程不做心理诊断。")),
    Spec(_org(QM), "admitted", "团体辅导", _c(
        "阳光成长团体辅导", "psychology", (4, 6), 40, 14, 28,
        "以小组活动开展人际交往、合作与自信心主题的团体辅导，每组不超过20人，每次活动后向班主任反馈。")),
    Spec(_org(QM), "admitted", "心理健康", _c(
        "青春期心理成长", "psychology", (7, 9), 45, 14, 30,
        "围绕青春期身心变化、同伴关系、学业压力与生涯初探等主题，以讨论、情景剧和体验活动为主。")),
    Spec(_org(LY), "admitted", "种植", _c(
        "小小农场主", "labour", (1, 6), 45, 16, 22,
        "在校园一角或种植箱中完成翻土、播种、浇水、观察记录到收获的全过程，认识二十四节气与赣鄱农事。",
        ("种子与园艺工具包", 50))),
    Spec(_org(LY), "admitted", "烹饪", _c(
        "小厨师烹饪实践", "labour", (3, 9), 45, 14, 25,
        "学习洗切配、凉拌、蒸煮等基本技能和厨房安全常识，学做南昌拌粉、瓦罐汤等家常菜。刀具使用全程由教师指导。",
        ("食材费（按实际采购）", 90))),
    Spec("indep", "admitted", "国际象棋", _c(
        "国际象棋启蒙", "sports", (1, 4), 40, 16, 30,
        "认识棋盘棋子、基本走法与简单战术，在对局游戏中培养专注力和规则意识。"),
        later=("withdrawn", "授课教师已离开南昌，本人申请退出课程库。")),
    Spec("indep", "admitted", "戏剧表演", _c(
        "儿童戏剧表演", "arts", (2, 6), 45, 16, 35,
        "以即兴游戏、肢体表达和台词训练为基础，排演一部原创短剧，学期末在学校礼堂展演。")),
    Spec("indep", "admitted", "篆刻", _c(
        "篆刻入门", "humanities", (5, 9), 45, 14, 30,
        "了解篆书与印章文化，学习印稿设计、刻制与钤印，完成一方姓名印。刻刀使用有专门的安全规范。",
        ("印石与刻刀", 60))),
    # --- the first round: schools, for their own teachers ------------------------------------------------------
    Spec(_school("南昌市育新学校"), "admitted", "信息科技", _c(
        "3D打印创意设计", "science", (4, 9), 45, 16, 45,
        "学习三维建模软件与3D打印流程，从钥匙扣、笔筒到校园模型，完成从设计、打印到改进的完整作品。",
        ("打印耗材包", 80))),
    Spec(_school("南昌市第十九中学"), "admitted", "语文阅读", _c(
        "模拟联合国", "humanities", (7, 9), 45, 16, 25,
        "扮演各国代表，围绕环境保护、粮食安全等议题查找资料、撰写立场文件、进行会议辩论，提升表达与国际视野。")),
    Spec(_school("南昌市第三中学"), "admitted", "体育", _c(
        "校园排球", "sports", (7, 9), 45, 16, 25,
        "学习垫球、传球、发球等基本技术和六人制比赛规则，组织班级联赛。")),
    Spec(_school("南昌市外国语学校"), "admitted", "英语绘本", _c(
        "英语戏剧社", "arts", (7, 9), 45, 16, 35,
        "改编排演英语经典童话与课本剧，练习语音语调、舞台走位和团队协作，每学期公演一次。")),
    Spec(_school("南昌市豫章外国语学校"), "admitted", "信息科技", _c(
        "机器人足球", "science", (4, 9), 45, 16, 48,
        "学习轮式机器人的结构、传感器与程序控制，分组完成机器人足球的传球与射门任务。",
        ("足球机器人套件（自愿购买）", 200))),
    Spec(_school("青云谱区施尧小学"), "admitted", "音乐", _c(
        "竖笛合奏", "arts", (3, 6), 40, 16, 25,
        "学习八孔竖笛的指法与吐音，演奏二声部合奏曲目，参加学校艺术节展演。", ("竖笛（自愿购买）", 25))),
    Spec(_school("青山湖区湖坊小学"), "admitted", "体育", _c(
        "中国象棋", "sports", (2, 6), 40, 16, 20,
        "学习象棋基本规则、开局常识与简单杀法，开展班级擂台赛，培养思考与耐心。")),
    Spec(_school("新建区长堎小学"), "admitted", "劳动", _c(
        "校园小菜园", "labour", (1, 6), 40, 16, 15,
        "每班认领一块菜地，完成整地、播种、施肥、除草与采收，收获的蔬菜送学校食堂。", ("种植工具包", 30))),
    Spec(_school("红谷滩区沙井中心小学"), "admitted", "体育", _c(
        "少儿武术", "sports", (1, 6), 45, 16, 25,
        "学习武术基本功、五步拳与少儿长拳，弘扬中华武术精神，注重礼仪与安全。")),
    Spec(_school("南昌县莲塘第一小学"), "admitted", "音乐", _c(
        "采茶戏小戏骨", "arts", (3, 6), 45, 14, 25,
        "学唱南昌采茶戏经典唱段，学习扇子、手帕等基本功，排演采茶戏小戏片段。")),
    Spec(_school("安义县龙津中心小学"), "admitted", "综合实践", _c(
        "安义古村探秘", "humanities", (4, 6), 45, 14, 15,
        "走进罗田、水南、京台古村，了解赣派民居、家训与宗族文化，制作古村手绘地图和解说词。")),
    Spec(_school("进贤县民和第一小学"), "admitted", "书法", _c(
        "文港毛笔制作体验", "labour", (3, 6), 45, 14, 20,
        "了解文港毛笔制作技艺的历史，体验选毫、齐毫、扎笔、装套等工序，亲手做一支毛笔并用它写字。",
        ("毛笔制作材料包", 40))),
    Spec(_school("小蓝经开区小蓝中心小学"), "admitted", "劳动", _c(
        "家务小能手", "labour", (1, 4), 40, 14, 15,
        "学习整理书包衣物、洗袜子、叠被子、简单收纳和垃圾分类，家长在家中配合打卡。")),
    Spec(_school(data.NAMED_TEACHER_SCHOOL), "admitted", "@teacher", _c(
        "口风琴与班级合奏", "arts", (1, 4), 40, 16, 25,
        "学习口风琴的吹奏姿势、指法和简单和声，以班级为单位排练合奏曲目，参加学校艺术节。",
        ("口风琴（自愿购买）", 95))),
    # --- the first round: district libraries, through the districts' own panels -------------------------------
    Spec(_org(KJ), "admitted", "科学实验", _c(
        "青少年天文观测", "science", (4, 8), 45, 14, 38,
        "认识星座、月相与行星运动，学习使用天文望远镜，组织校园夜间观测与天象摄影。"), library="district"),
    Spec(_school(data.NAMED_TEACHER_SCHOOL), "admitted", "劳动", _c(
        "邮票里的中国", "humanities", (3, 6), 40, 14, 18,
        "以邮票为窗口认识祖国的山川、名人、传统节日和重大成就，参观邮政路邮局，设计一枚“我心中的南昌”邮票。"),
        library="district"),
    Spec(_org(QH), "admitted", "篮球", _c(
        "飞盘运动", "sports", (3, 9), 45, 14, 28,
        "学习正反手传盘与接盘、跑位和极限飞盘规则，无身体对抗，男女同场，注重自我裁判的体育精神。",
        ("飞盘（自愿购买）", 45)), library="district"),
    Spec(_school("红谷滩区九龙湖学校"), "admitted", "科学", _c(
        "湿地生态观察", "science", (4, 8), 45, 14, 30,
        "依托九龙湖与赣江湿地，观察记录候鸟、水生植物与水质变化，学习制作生态观察报告。"), library="district"),
    Spec(_org(LY), "admitted", "劳动实践", _c(
        "田园劳动研学", "labour", (3, 6), 45, 14, 18,
        "在基地完成插秧、采摘、喂养家禽等农事劳动，学习农具使用与劳动安全，体验“粒粒皆辛苦”。"),
        library="district"),
    # --- the first round: returned, revised and admitted; rejected ------------------------------------------
    Spec(_org(QM), "admitted_v2", "团体辅导", _c(
        "心理沙盘体验", "psychology", (2, 6), 40, 14, 35,
        "通过沙盘游戏帮助学生表达内心感受、增进自我认识，每组16人，由心理咨询师带领。"),
        revision=Revision("按评审意见补充沙具消毒与个案转介流程，每组人数由16人降为12人，收费下调。", fee=32,
                          intro_add="每组12人，沙具每次课后消毒；发现需要个别关注的学生，按流程转介学校心理教师。"),
        note="沙盘活动的个案转介与隐私保护流程缺失，每组人数偏多，请修改后重新申报。"),
    Spec(_school("南昌市实验中学"), "rejected_veto", "数学思维", _c(
        "数学思维拓展训练", "science", (7, 9), 45, 18, 40,
        "以数学竞赛常见题型为主线，系统讲授解题技巧，拓展和加深课内数学内容，提升学生应试能力。"),
        note="课程内容以数学竞赛解题训练为主，拓展加深课内内容，属变相学科类培训，一票否决。"),
    Spec(_school("南昌市育新学校"), "rejected_low", "综合实践", _c(
        "影视欣赏与评论", "arts", (4, 9), 45, 16, 25,
        "每次课观看一部影片并讨论。"),
        note="课程以观看影片为主，目标与评价方式不明确，学生实践环节不足，不符合特色课程要求。"),
    # --- teacher dossiers of the first round --------------------------------------------------------------
    Spec(_org(KJ), "admitted", "@teacher-outside"),
    Spec(_org(KJ), "admitted", "编程"),
    Spec(_org(SNG), "admitted", "器乐"),
    Spec(_org(SNG), "admitted", "舞蹈"),
    Spec(_org(FY), "admitted", "陶艺"),
    Spec(_org(FY), "admitted", "赣剧"),
    Spec(_org(QH), "admitted", "跆拳道"),
    Spec(_org(QH), "admitted", "足球"),
    Spec(_org(QH), "admitted", "篮球"),
    Spec(_org(BD), "admitted", "国画"),
    Spec(_org(BD), "admitted", "书法"),
    Spec(_org(QM), "admitted", "心理健康"),
    Spec(_org(LY), "admitted", "烹饪"),
    Spec(_org(LY), "admitted", "种植"),
    Spec("indep", "admitted", "国际象棋"),
    Spec("indep", "admitted", "戏剧表演"),
    Spec("indep", "admitted", "篆刻"),
    Spec(_school(data.NAMED_TEACHER_SCHOOL), "admitted", "@teacher"),
    Spec(_school("南昌市育新学校"), "admitted", "信息科技"),
    # --- the second round (October) ---------------------------------------------------------------------------
    Spec(_org(SNG), "admitted", "器乐", _c(
        "尤克里里弹唱", "arts", (4, 9), 45, 16, 38,
        "学习尤克里里的基本和弦与扫弦节奏，边弹边唱校园歌曲，学期末举办班级音乐会。",
        ("尤克里里（自愿购买）", 220)), batch=2),
    Spec(_org(QH), "admitted", "篮球", _c(
        "初中篮球进阶", "sports", (7, 9), 45, 16, 35,
        "在基本技术之上学习挡拆、联防等团队战术，组织校际友谊赛，兼顾体能与运动损伤预防。"), batch=2),
    Spec("indep", "admitted", "国际象棋#2", _c(
        "国际象棋进阶", "sports", (4, 9), 45, 16, 35,
        "学习开局原理、中局战术组合与基本残局，参加市青少年棋类公开赛。"), batch=2),
    Spec(_org(BD), "admitted", "书法", _c(
        "硬笔书法", "humanities", (2, 6), 40, 16, 20,
        "规范硬笔楷书的坐姿、执笔与笔画，练习常用字的间架结构，养成良好书写习惯。"), batch=2),
    Spec(_school("南昌经开区白水湖小学"), "admitted", "体育", _c(
        "花样跳绳", "sports", (1, 6), 40, 16, 20,
        "学习单摇、双摇、交叉跳与集体长绳，编排花样跳绳展示，提高心肺耐力与协调性。"), batch=2),
    Spec(_school("南昌高新区瑶湖学校"), "admitted", "科学", _c(
        "物理小制作", "science", (5, 9), 45, 16, 32,
        "动手制作潜望镜、简易电动机、水火箭等作品，在做中理解光、电、力的原理。"), batch=2),
    Spec(_org(QM), "admitted", "团体辅导", batch=2),
    Spec(_org(SNG), "admitted", "合唱", batch=2),
    Spec(_org(KJ), "revised", "编程", _c(
        "Python编程入门", "science", (5, 8), 45, 18, 48,
        "学习Python语法、循环与函数，编写猜数字、绘图等小程序，参加信息学奥赛初赛模拟。"),
        batch=2,
        revision=Revision("按专家意见删去竞赛内容，课时由18调为16，增加信息安全与网络素养单元。", fee=45, hours=16,
                          intro_add="删去竞赛模拟，增设信息安全与网络素养单元。"),
        note="课程包含信息学竞赛训练内容，课时偏多，请删去竞赛内容后重新申报。"),
    Spec(_school("南昌市第十九中学"), "revised", "体育", _c(
        "羽毛球", "sports", (7, 9), 45, 16, 30,
        "学习握拍、发球、高远球与网前球技术，开展单打与双打比赛。"),
        batch=2,
        revision=Revision("补充场地安全预案与分组轮换方案，每场地不超过8人。",
                          intro_add="每片场地不超过8人，分组轮换练习；配备急救包并制定运动伤害处置流程。"),
        note="场地数量与班额不匹配，安全预案缺少运动伤害处置流程，请修改后重新申报。"),
    Spec(_school(data.NAMED_TEACHER_SCHOOL), "revised", "音乐", _c(
        "绘本创编", "humanities", (1, 3), 40, 14, 18,
        "阅读经典图画书，学习故事结构，分组创编并绘制自己的绘本。"),
        batch=2,
        revision=Revision("调整为低年级适用的活动设计，增加亲子共读环节和作品展示。",
                          intro_add="每月一次亲子共读，学期末举办“小作者”绘本展。"),
        note="活动设计对一年级学生偏难，评价方式单一，请修改后重新申报。"),
    # --- the third round (November): returned, in review, awaiting a panel -----------------------------------
    Spec(_org(FY), "returned", "陶艺", _c(
        "南昌瓷板画体验", "arts", (4, 9), 45, 16, 45,
        "学习瓷板画的勾线、填色与施釉，作品送窑厂烧制后带回家。", ("瓷板、颜料与烧制费", 160)),
        batch=3, note="材料费偏高，请提供低价替代方案；烧制委托外部窑厂，运输与安全安排需说明。"),
    Spec(_org(KJ), "in_review", "机器人", _c(
        "无人机科普与编程飞行", "science", (5, 9), 45, 16, 50,
        "了解飞行原理与航空法规，学习编程控制小型无人机完成航线与编队任务。飞行只在室内防护网内进行。",
        ("编程无人机（自愿购买）", 260)), batch=3),
    Spec(_org(SNG), "in_review", "器乐", _c(
        "非洲鼓节奏", "arts", (2, 6), 40, 14, 32,
        "学习非洲鼓的基本击法与节奏型，在集体合奏中感受节奏与律动。", ("非洲鼓（可租用）", 160)),
        batch=3, decline=True),
    Spec(_org(LY), "in_review", "劳动实践", _c(
        "竹编与草编", "labour", (3, 6), 45, 14, 24,
        "学习竹篾、稻草的基本编法，编织杯垫、小篮子和草鞋，了解传统手工艺。", ("竹篾草料包", 35)), batch=3),
    Spec(_school("南昌经开区桑海学校"), "in_review", "心理健康", _c(
        "心理情景剧", "psychology", (4, 9), 45, 14, 22,
        "把校园生活中的困扰编成情景剧，在表演与讨论中学习沟通、换位思考与求助。"), batch=3),
    Spec("indep", "in_review", "国际象棋#2", batch=3),
    Spec(_school("南昌市豫章小学"), "candidate", "综合实践", _c(
        "豫章古城寻访", "humanities", (3, 6), 40, 14, 20,
        "寻访滕王阁、万寿宫、绳金塔等古迹，了解南昌的历史变迁，制作城市文化小报。"), batch=3),
    Spec(_school("南昌市第二十八中学"), "candidate", "信息科技", _c(
        "人工智能初探", "science", (7, 9), 45, 16, 45,
        "体验图像识别、语音识别等人工智能应用，学习用图形化工具训练简单模型，讨论人工智能伦理。"), batch=3),
    Spec(_school("江西师范大学附属小学"), "candidate", "科学", _c(
        "科学探究小课题", "science", (3, 6), 40, 16, 35,
        "从身边的问题出发选定小课题，经历提出假设、设计实验、收集数据和交流的完整探究过程。"), batch=3),
    Spec(_school("西湖区绳金塔学校"), "candidate", "综合实践", _c(
        "绳金塔民俗文化", "humanities", (3, 8), 40, 14, 20,
        "走访绳金塔街区，了解庙会、灯彩、南昌方言童谣等民俗，采访老街坊并整理口述故事。"), batch=3),
    Spec(_school("南昌高新区艾溪湖小学"), "candidate", "信息科技", _c(
        "编程小达人", "science", (3, 6), 40, 16, 35,
        "用图形化编程控制micro:bit，制作计步器、电子骰子和智能小夜灯。"), batch=3),
    Spec(_school("西湖区站前路小学"), "candidate", "科学", _c(
        "火车模型与交通科普", "science", (3, 6), 40, 14, 30,
        "从南昌站出发认识铁路的发展，动手搭建轨道模型，了解信号、调度与交通安全知识。"), batch=3),
    Spec(_school("东湖区阳明路小学"), "candidate", "语文阅读", _c(
        "经典诵读与吟诵", "humanities", (1, 6), 40, 14, 15,
        "诵读《三字经》、唐诗宋词等经典篇目，学习传统吟诵调，每学期举办诵读会。"), batch=3),
    Spec(_org(BD), "candidate", "国画", _c(
        "八大山人与中国画", "humanities", (4, 9), 45, 14, 28,
        "走进八大山人纪念馆，了解朱耷的生平与艺术风格，临摹其花鸟小品，体会写意精神。"), batch=3),
    Spec(_school("东湖区百花洲小学"), "in_review", "语文阅读", _c(
        "百花洲诗词诵读", "humanities", (2, 6), 40, 14, 18,
        "以百花洲、滕王阁相关诗文为线索，诵读、赏析古诗词，创作校园小诗。"), library="district", batch=3),
    Spec(_school("东湖区百花洲小学"), "submitted", "体育", _c(
        "趣味田径", "sports", (1, 6), 40, 16, 22,
        "以游戏方式练习跑、跳、投，开展迎面接力、立定跳远等趣味比赛。"), batch=3),
    Spec(_school("南昌市豫章小学"), "submitted", "音乐", _c(
        "口琴吹奏", "arts", (2, 6), 40, 16, 25,
        "学习24孔口琴的吹吸方法与单音吹奏，演奏简单乐曲与合奏。", ("口琴（自愿购买）", 60)), batch=3),
    Spec(_org(QM), "submitted", "心理健康", _c(
        "正念与专注力", "psychology", (3, 6), 40, 14, 30,
        "通过呼吸练习、身体扫描和专注力游戏，帮助学生缓解紧张情绪、提升课堂专注力。"), batch=3),
    Spec(_org(QM), "submitted", "团体辅导", batch=3),
    Spec(_school("江西师范大学附属小学"), "submitted", "科学", batch=3),
    Spec(_org(KJ), "submitted", "机器人", _c(
        "Arduino创客电子", "science", (5, 9), 45, 16, 45,
        "学习电路基础与Arduino编程，制作温湿度计、智能浇花器等创客作品。", ("电子元件包", 150)),
        library="district", batch=3),
    Spec(_school("东湖区豫章中学"), "submitted", "心理健康", _c(
        "初中生涯规划", "psychology", (7, 9), 45, 14, 25,
        "认识自我的兴趣与能力，了解职业世界，学习制定初中阶段的成长计划。"), library="district", batch=3),
    Spec(_org(QH), "submitted", "足球", _c(
        "五人制足球进阶", "sports", (4, 9), 45, 14, 30,
        "学习五人制足球的技术与战术配合，组织区内校际联赛。"), library="district", batch=3),
)  # fmt: skip

# Subjects a dossier's teacher teaches, mapped to the category the dossier is reviewed in.
SUBJECT_CATEGORY = {
    "机器人": "science", "编程": "science", "科学实验": "science", "科学": "science", "信息科技": "science",
    "数学思维": "science", "舞蹈": "arts", "合唱": "arts", "器乐": "arts", "剪纸": "arts", "陶艺": "arts",
    "国画": "arts", "素描": "arts", "戏剧表演": "arts", "摄影": "arts", "美术": "arts", "音乐": "arts",
    "篮球": "sports", "足球": "sports", "跆拳道": "sports", "围棋": "sports", "国际象棋": "sports",
    "体育": "sports", "赣剧": "humanities", "书法": "humanities", "篆刻": "humanities", "语文阅读": "humanities",
    "英语绘本": "humanities", "心理健康": "psychology", "团体辅导": "psychology", "劳动实践": "labour",
    "种植": "labour", "烹饪": "labour", "劳动": "labour", "综合实践": "labour",
}  # fmt: skip

QUALIFICATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "science": (
        ("本科，计算机科学与技术专业；初级中学教师资格（信息技术）", "全国青少年机器人技术等级考试考评员证书"),
        ("本科，电子信息工程专业；小学教师资格（科学）", "中国电子学会青少年编程能力等级考试指导教师证书"),
        ("硕士研究生，物理学专业；高级中学教师资格（物理）", "江西省科技辅导员培训合格证书"),
    ),
    "sports": (
        ("本科，体育教育专业；初级中学教师资格（体育与健康）", "国家二级社会体育指导员；红十字救护员证"),
        ("本科，运动训练专业；小学教师资格（体育）", "中国足球协会D级教练员证书；红十字救护员证"),
        ("大专，社会体育专业", "国际象棋协会一级棋士；国家三级社会体育指导员"),
    ),
    "arts": (
        ("本科，音乐学专业；小学教师资格（音乐）", "中国音乐家协会考级委员会指导教师证书"),
        ("本科，舞蹈学专业；初级中学教师资格（音乐）", "中国舞蹈家协会中国舞考级教师资格证书"),
        ("本科，美术学专业；小学教师资格（美术）", "江西省工艺美术大师工作室结业证书"),
    ),
    "humanities": (
        ("本科，汉语言文学专业；初级中学教师资格（语文）", "中国书法家协会书法水平测试辅导员证书"),
        ("本科，戏曲表演专业", "江西省非物质文化遗产（赣剧）代表性传承人弟子结业证书"),
        ("本科，历史学专业；小学教师资格（语文）", "南昌市中小学研学旅行指导师证书"),
    ),
    "labour": (
        ("本科，农学专业；小学教师资格（科学）", "农业技术员职业资格证书；食品安全管理员证"),
        ("大专，烹饪工艺与营养专业", "中式烹调师（四级）职业技能等级证书；健康证"),
    ),
    "psychology": (
        ("硕士研究生，应用心理学专业；初级中学教师资格（心理健康教育）", "心理咨询师（三级）；沙盘游戏治疗师培训证书"),
        ("本科，心理学专业；小学教师资格（心理健康教育）", "江西省中小学心理健康教育C证"),
    ),
}  # fmt: skip
ID_AREAS = ("360102", "360103", "360104", "360111", "360121", "360123", "360124", "360402", "360502", "361002")

ADMIT_COMMENTS = (
    "课程目标清晰，内容贴近学生生活，安全预案完整，建议入库。",
    "教学设计以实践体验为主，学生参与度高；收费在标准以内，材料费单列自愿，同意入库。",
    "师资资质齐全，课程有地方特色，学期安排合理。建议补充过程性评价的记录样例。",
    "内容科学系统，课时安排合理，家校反馈机制完整，同意入库。",
    "课程特色鲜明，既往开课成效较好；建议进一步细化分层教学安排。",
    "符合非学科类课程要求，场地与器材条件满足教学需要，建议入库。",
)
DOSSIER_COMMENTS = (
    "资质证书齐全，背景核查无异常，既往授课评价良好，同意入库。",
    "专业背景与任教科目相符，持证上岗，同意入库。",
    "准入查询与无犯罪记录证明齐全，教学经历丰富，建议入库。",
)
RETURN_COMMENTS = (
    "课程方向正确，但安全预案过于笼统，需按场地和器材逐项细化后再审。",
    "学期进度安排偏紧，部分内容超出该学段学生的能力，建议调整课时与目标。",
    "评价方式单一，缺少过程性评价设计；材料费说明不够清楚，请修改后重新申报。",
)
LOW_COMMENTS = (
    "教学设计缺少系统性，评价与安全预案缺失，不建议入库。",
    "内容与课后服务特色课程的定位不符，师资与场地条件说明不足。",
)
VETO_OTHER_COMMENTS = ("课程内容与课内数学高度重合，是否属于学科类培训需进一步核实；活动设计偏重讲授。",)
DECLINE_REASONS = (
    "评审期间参加省级教研活动，无法按时完成评审。",
    "经核实与申报单位近期有业务往来，申请回避。",
)
DISTRICT_SUSPENSION = ("360111", "区内承接学校的专用教室改造未通过消防验收，暂停使用，整改完成后恢复。")
SCHOOL_WITHDRAWAL = ("东湖区百花洲小学", "授课时段与学校课后托管安排冲突，本学期不再开设。")

# Quality targets (mean item score out of 10) by what a panel should decide; margins keep them well clear
# of the thresholds, and every planned sheet is checked against the decision rule before it is submitted.
TARGETS = {"admit": (8.0, 9.2), "return": (6.6, 7.0), "low": (4.6, 5.3), "veto": (6.8, 7.4)}
OPEN_CANDIDATES = 4  # of the candidates, how many stay in review
VETO_ITEM = 4  # 属非学科类课程，不变相开展学科类培训


# --- the timeline ------------------------------------------------------------------------------------------
def _d(month: int, day: int) -> date:
    return date(2026, month, day)


@dataclass(frozen=True)
class Window:
    submit: tuple[date, date]
    draw: tuple[date, date]
    score: tuple[date, date]
    decide: tuple[date, date]


ROUNDS = {
    1: Window((_d(8, 25), _d(8, 28)), (_d(8, 31), _d(9, 1)), (_d(9, 2), _d(9, 4)), (_d(9, 7), _d(9, 7))),
    2: Window((_d(10, 9), _d(10, 14)), (_d(10, 15), _d(10, 16)), (_d(10, 17), _d(10, 22)), (_d(10, 23), _d(10, 23))),
    # returned in the third round
    3: Window((_d(10, 19), _d(10, 21)), (_d(11, 2), _d(11, 3)), (_d(11, 4), _d(11, 6)), (_d(11, 9), _d(11, 9))),
    # in review and candidates
    4: Window((_d(11, 2), _d(11, 11)), (_d(11, 16), _d(11, 18)), (_d(11, 19), _d(11, 26)), (_d(11, 27), _d(11, 27))),
}
SUBMITTED_WINDOW = (_d(11, 19), _d(11, 27))
REVISE_V2_WINDOW = (_d(9, 14), _d(9, 18))  # admitted_v2: the second version (reviewed in round 2)
REVISE_LATE_WINDOW = (_d(11, 16), _d(11, 20))  # revised: the second version awaits a panel
ADOPT_DAYS = {1: (_d(9, 8), _d(9, 11)), 2: (_d(10, 26), _d(10, 28))}
PICK_DAYS = {1: (_d(9, 14), _d(9, 25)), 2: (_d(11, 2), _d(11, 11))}
CITY_SUSPENSION_AT = datetime(2026, 10, 20, 10, 30, tzinfo=TZ)
DISTRICT_SUSPENSION_AT = datetime(2026, 10, 29, 15, 10, tzinfo=TZ)
CITY_WITHDRAWAL_AT = datetime(2026, 11, 6, 9, 40, tzinfo=TZ)
SCHOOL_WITHDRAWAL_AT = datetime(2026, 11, 10, 16, 20, tzinfo=TZ)
SECOND_ROUND = datetime(2026, 10, 1, tzinfo=TZ)  # entries admitted after this come from the second round
ACK_ALL_BEFORE = datetime(2026, 11, 1, tzinfo=TZ)  # most filings before this are acknowledged
ACK_SOME_BEFORE = datetime(2026, 11, 16, tzinfo=TZ)  # some before this; later ones are still filed
TIMELINE_END = datetime(2026, 11, 27, 18, 0, tzinfo=TZ)


def _when(rng: Any, first: date, last: date, *, weekdays: bool = True, hours: tuple[int, int] = (9, 17)) -> datetime:
    """A time between two days (office days only, unless ``weekdays`` is false), within office hours."""
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    if weekdays:
        days = [d for d in days if d.weekday() < 5] or days
    day = rng.choice(days)
    return datetime.combine(day, time(rng.randint(hours[0], hours[1] - 1), rng.randrange(60)), tzinfo=TZ)


def panel_seed(seed: int, index: int, round_no: int) -> str:
    """The published seed of a demo panel: derived from the demo seed, the submission's index and the round."""
    return hashlib.sha256(f"{seed}:catalog:panel:{index}:{round_no}".encode()).hexdigest()[:32]


# --- loading ------------------------------------------------------------------------------------------------
def catalog_state() -> str:
    """``"loaded"`` (the demo catalog was loaded), ``"absent"`` (no submissions nor library entries) or
    ``"partial"`` (the catalog holds data the demo did not load)."""
    from kehou.catalog.models import LibraryEntry, Panel, Submission
    from kehou.core.models import AuditEntry

    if AuditEntry.objects.filter(action=LOADED_ACTION).exists():
        return "loaded"
    if Submission.objects.exists() or LibraryEntry.objects.exists() or Panel.objects.exists():
        return "partial"
    return "absent"


def build_catalog(*, seed: int = data.SEED, now: datetime) -> LoadResult:
    """Load the demo libraries and review into the demo city, unless they are there (then nothing is written)."""
    if demo_state() != "loaded":
        raise DemoError("Load the demo city first: the demo catalog is made by its schools, teachers and experts.")
    state = catalog_state()
    if state == "loaded":
        return LoadResult(False, state, {})
    if state == "partial":
        raise DemoError(
            "The catalog already holds submissions or library entries that the demo did not load; the demo catalog "
            "is loaded only into an empty catalog. Start from a fresh database, or load with --no-catalog."
        )
    try:
        with transaction.atomic():
            counts = _Loader(seed).run()
            audit.record(
                actor=None,
                action=LOADED_ACTION,
                object_type="demo.catalog",
                object_id=data.CITY_CODE,
                object_repr=f"{data.CITY_NAME} (demo libraries and review)",
                after={"seed": seed, "digest": catalog_digest(), **counts},
                now=now,
            )
    except KehouError as exc:
        if isinstance(exc, DemoError):
            raise
        raise DemoError(f"The demo catalog could not be loaded: {exc.message} ({exc.code}, {exc.fields})") from exc
    return LoadResult(True, state, counts)


@dataclass
class _Sub:
    index: int
    spec: Spec
    actor: Any
    school: Any  # the submitting school, or None
    submission: Any = None
    panel: Any = None
    teacher: Any = None  # a dossier's teacher


class _Loader:
    def __init__(self, seed: int) -> None:
        from kehou.catalog.models import Category, QualityItem
        from kehou.orgs.models import Organisation, Region, School
        from kehou.people.models import ExpertProfile, TeacherProfile, User

        self.seed = seed
        self.Category, self.QualityItem = Category, QualityItem
        self.regions = {r.code: r for r in Region.objects.all()}
        self.city = self.regions[data.CITY_CODE]
        self.schools = {s.name: s for s in School.objects.select_related("district")}
        self.orgs = {o.name: o for o in Organisation.objects.select_related("district")}
        self.users: dict[str, Any] = {
            u.username: u
            for u in User.objects.filter(username__regex=r"^(city|district-\d+|school-\d+|teacher.*|expert.*)$")
        }
        self.experts = list(ExpertProfile.objects.select_related("user").order_by("pk"))
        for e in self.experts:  # one object per person, so that each keeps its cached scope and profile
            self.users[e.user.username] = e.user
            e.user.expert_profile = e
        self.expert_by_username = {e.user.username: e for e in self.experts}
        teachers = list(TeacherProfile.objects.select_related("user", "organisation").prefetch_related("schools"))
        teachers.sort(key=lambda t: _natural(t.user.username))
        self.teachers = teachers
        for t in teachers:
            self.users[t.user.username] = t.user
            t.user.teacher_profile = t
        self.named_expert = self.expert_by_username.get("expert")
        self.subs: list[_Sub] = []
        self.dossier_teachers: set[int] = set()
        self.adopted_on: dict[str, date] = {}
        self.standards: dict[tuple[int, int], Any] = {}
        self.policies: dict[int, Any] = {}

    # --- reference data ------------------------------------------------------------------------------------
    def reference(self) -> None:
        from kehou.catalog.models import ExpertRecusal, FeeStandard, QualityItem, ReviewPolicy

        self.categories: dict[str, Any] = {}
        for i, (code, name) in enumerate(CATEGORIES):
            self.categories[code] = self.Category.objects.get_or_create(code=code, defaults={"name": name, "order": i})[
                0
            ]
        self.category_by_name = {c.name: c for c in self.categories.values()}
        if not QualityItem.objects.exists():
            QualityItem.objects.bulk_create(
                QualityItem(number=n, title=t, description=d, weight=w, max_score=10, is_veto=v)
                for n, (t, d, w, v) in enumerate(QUALITY_ITEMS, start=1)
            )
        self.items = list(QualityItem.objects.order_by("number"))
        existing = set(FeeStandard.objects.values_list("region__code", "category__code"))
        FeeStandard.objects.bulk_create(
            FeeStandard(
                region=self.regions[region],
                category=self.categories[cat],
                min_fee_fen=low * 100,
                max_fee_fen=high * 100,
                teacher_pay_fen=pay * 100,
                set_at=FEES_SET_AT,
            )
            for region, standards in FEE_STANDARDS.items()
            for cat, (low, high, pay) in standards.items()
            if (region, cat) not in existing
        )
        have = set(ReviewPolicy.objects.values_list("region__code", flat=True))
        ReviewPolicy.objects.bulk_create(
            ReviewPolicy(region=self.regions[code], panel_size=size, admit_threshold_bp=admit, return_threshold_bp=ret)
            for code, size, admit, ret in POLICIES
            if code not in have
        )
        per_speciality = Counter(sp for e in self.experts for sp in e.specialities)
        recusals = []
        for speciality, who, target, reason in RECUSALS:
            if who.startswith("@"):
                expert = self.expert_by_username.get(who[1:])
            else:
                expert = next(
                    (e for e in self.experts if e.specialities[:1] == [speciality] and e.affiliation == who), None
                )
            if expert is None or any(per_speciality[sp] < 7 for sp in expert.specialities):
                continue
            kind, name = target.split(":", 1)
            school = self.schools.get(name) if kind == "school" else None
            org = self.orgs.get(name) if kind == "org" else None
            if school or org:
                recusals.append(
                    ExpertRecusal(
                        expert=expert, school=school, organisation=org, reason=reason, declared_at=RECUSALS_DECLARED_AT
                    )
                )
        ExpertRecusal.objects.bulk_create(recusals)

    # --- people ---------------------------------------------------------------------------------------------
    def provider(self, by: str) -> tuple[Any, Any, list[Any]]:
        """(acting user, submitting school or None, the teachers this submitter may put forward)."""
        if by.startswith("school:"):
            school = self.schools[by.split(":", 1)[1]]
            staff = [t for t in self.teachers if t.kind == "staff" and school in t.schools.all()]
            return self.users[f"school-{school.code}"], school, staff
        if by.startswith("org:"):
            org = self.orgs[by.split(":", 1)[1]]
            members = [t for t in self.teachers if t.organisation_id == org.pk]
            contact = next((t for t in members if t.user.username == "teacher-outside"), members[0])
            return contact.user, None, members
        independents = [t for t in self.teachers if t.kind == "outside" and t.organisation_id is None]
        return None, None, independents  # the teacher submits for themselves: see teacher_for

    @staticmethod
    def _matches(candidates: list[Any], wanted: str) -> list[Any]:
        if wanted.startswith("@"):
            return [t for t in candidates if t.user.username == wanted[1:]] or candidates
        subject, _, nth = wanted.partition("#")
        found = [t for t in candidates if subject in t.subjects] or candidates
        n = int(nth or 1) - 1
        return found[n % len(found) :] + found[: n % len(found)]

    # --- submitting ------------------------------------------------------------------------------------------
    def create(self, sub: _Sub, at: datetime) -> None:
        from kehou.catalog.services import submissions

        spec = sub.spec
        actor, school, candidates = self.provider(spec.by)
        matches = self._matches(candidates, spec.teacher)
        rng = _rng(self.seed, f"catalog:sub:{sub.index}")
        if spec.course is None:  # a teacher dossier: a teacher who has none yet
            teacher = next((t for t in matches if t.pk not in self.dossier_teachers), matches[0])
            self.dossier_teachers.add(teacher.pk)
            sub.teacher = teacher
            actor = actor or teacher.user
            fields: Any = self.dossier_fields(rng, teacher)
        else:
            teachers = matches[:2] if spec.two_teachers else matches[:1]
            actor = actor or teachers[0].user
            fields = self.course_fields(spec.course, school, [t.pk for t in teachers])
        sub.actor, sub.school = actor, school
        sub.submission = submissions.submission_create(
            actor=actor, school=school, library=spec.library, fields=fields, now=at
        )

    def course_fields(self, course: Course, school: Any, teacher_ids: list[int], rev: Revision | None = None) -> Any:
        from kehou.catalog.services import submissions

        grades = list(range(course.grades[0], course.grades[1] + 1))
        if school is not None:
            grades = [g for g in grades if g in school.grade_range] or list(school.grade_range)
        fee, hours, materials, intro = course.fee, course.hours, course.materials, course.intro
        if rev is not None:
            fee = rev.fee or fee
            hours = rev.hours or hours
            materials = rev.materials or materials
            intro = f"{intro}{rev.intro_add}"
        return submissions.CourseFields(
            name=course.name,
            category=self.categories[course.category],
            introduction=intro,
            grades=grades,
            minutes_per_hour=course.minutes,
            hours_per_term=hours,
            fee_per_hour_fen=fee * 100,
            teacher_ids=teacher_ids,
            materials_description=materials[0] if materials else "",
            materials_price_fen=materials[1] * 100 if materials else None,
        )

    def dossier_fields(self, rng: Any, teacher: Any) -> Any:
        from kehou.catalog.services import submissions

        subjects = teacher.subjects.split("、")
        category = self.categories[SUBJECT_CATEGORY.get(subjects[0], "humanities")]
        qualification, certificate = rng.choice(QUALIFICATIONS[category.code])
        birth = _random_day(rng, date(1972, 1, 1), date(1999, 12, 31))
        body = f"{rng.choice(ID_AREAS)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
        school = teacher.schools.all()[0] if teacher.schools.all() else None
        district = school.district.name if school else "东湖区"
        return submissions.DossierFields(
            teacher_id=teacher.pk,
            category=category,
            identity_number=body + id_check_digit(body),
            qualifications=qualification,
            certificates=certificate,
            subjects=teacher.subjects,
            background_checked_on=_random_day(rng, date(2026, 6, 1), date(2026, 8, 14)),
            background_check_result=(
                "经全国教职员工准入查询系统核查，无性侵害、虐待、拐卖、暴力伤害等违法犯罪记录；"
                f"南昌市公安局{district}分局出具无犯罪记录证明。"
            ),
        )

    def revise(self, sub: _Sub, at: datetime) -> None:
        from kehou.catalog.services import submissions

        spec = sub.spec
        assert spec.course is not None and spec.revision is not None
        version = sub.submission.versions.get(number=sub.submission.version_count)
        teacher_ids = sorted(version.teachers.values_list("pk", flat=True))
        fields = self.course_fields(spec.course, sub.school, teacher_ids, spec.revision)
        submissions.submission_revise(
            actor=sub.actor, submission=sub.submission, fields=fields, note=spec.revision.note, now=at
        )
        sub.submission.refresh_from_db()

    # --- reviewing --------------------------------------------------------------------------------------------
    def admin_of(self, region: Any) -> Any:
        return self.users["city"] if region.is_city else self.users[f"district-{region.code}"]

    def draw(self, sub: _Sub, at: datetime) -> Any:
        from kehou.catalog.services import review

        submission = sub.submission
        round_no = submission.panels.count() + 1
        sub.panel = review.panel_draw(
            actor=self.admin_of(submission.library_region),
            submission=submission,
            now=at,
            seed=panel_seed(self.seed, sub.index, round_no),
        )
        return sub.panel

    def decline(self, sub: _Sub, at: datetime) -> None:
        from kehou.catalog.services import review

        members = self.active_members(sub.panel)
        member = next(m for m in members[1:] if m.expert != self.named_expert)
        review.member_decline(
            actor=self.users[member.expert.user.username],
            member=member,
            reason=DECLINE_REASONS[sub.index % len(DECLINE_REASONS)],
            now=at,
        )

    def active_members(self, panel: Any) -> list[Any]:
        return list(panel.members.filter(status="active").select_related("expert__user").order_by("draw_position"))

    def sheet(self, rng: Any, quality: float, *, veto: bool = False) -> tuple[dict[str, int], list[int]]:
        bias = rng.uniform(-0.35, 0.35)
        scores: dict[str, int] = {}
        for item in self.items:
            value = quality + bias + rng.uniform(-0.9, 0.9)
            if item.is_veto and not veto:
                value = max(value, 7.0 + rng.random() * 2)
            scores[str(item.number)] = max(0, min(item.max_score, round(value * item.max_score / 10)))
        vetoed: list[int] = []
        if veto:
            scores[str(VETO_ITEM)] = rng.randint(1, 2)
            vetoed = [VETO_ITEM]
        return scores, vetoed

    def plan_sheets(self, sub: _Sub, members: list[Any], outcome: str) -> list[tuple[dict[str, int], list[int]]]:
        """Score sheets for every member, checked against the decision rule before anyone submits one."""
        from kehou.catalog.services import review

        target = {"admitted": "admit", "returned": "return"}.get(outcome, "low")
        if sub.spec.fate == "rejected_veto":
            target = "veto"
        region = sub.submission.library_region
        if region.pk not in self.policies:
            self.policies[region.pk] = review.policy_for(region)
        policy = self.policies[region.pk]
        for attempt in range(50):
            rng = _rng(self.seed, f"catalog:sheets:{sub.index}:{sub.panel.round}:{attempt}")
            quality = rng.uniform(*TARGETS[target])
            vetoers = {1, 3} if target == "veto" else set()
            sheets = [self.sheet(rng, quality, veto=i in vetoers) for i in range(len(members))]
            totals = [review.score_total_bp(self.items, {int(k): v for k, v in s.items()}) for s, _ in sheets]
            got, _, _ = review.decision_rule(policy=policy, totals=totals, vetoes=[v for _, vs in sheets for v in vs])
            if got == outcome:
                return sheets
        raise DemoError(f"Could not plan score sheets for {sub.spec} ({outcome}).")

    def comment(self, sub: _Sub, outcome: str, position: int, vetoed: bool) -> str:
        spec = sub.spec
        if vetoed or (spec.note and position == 0 and outcome != "admitted"):
            return spec.note
        pool: tuple[str, ...]
        if outcome == "admitted":
            pool = ADMIT_COMMENTS if spec.course is not None else DOSSIER_COMMENTS
        elif outcome == "returned":
            pool = RETURN_COMMENTS
        else:
            pool = LOW_COMMENTS if spec.fate == "rejected_low" else VETO_OTHER_COMMENTS
        return pool[(sub.index + position) % len(pool)]

    def score(self, sub: _Sub, window: tuple[date, date], outcome: str, *, only: list[Any] | None = None) -> None:
        from kehou.catalog.services import review

        members = self.active_members(sub.panel)
        sheets = self.plan_sheets(sub, members, outcome)
        rng = _rng(self.seed, f"catalog:score-times:{sub.index}:{sub.panel.round}")
        for position, (member, (scores, vetoed)) in enumerate(zip(members, sheets, strict=True)):
            at = _when(rng, *window, weekdays=False, hours=(8, 22))
            if only is not None and member not in only:
                continue
            review.score_submit(
                actor=self.users[member.expert.user.username],
                member=member,
                item_scores=scores,
                vetoed_items=vetoed,
                comment=self.comment(sub, outcome, position, bool(vetoed)),
                now=at,
            )

    def decide(self, sub: _Sub, at: datetime, outcome: str) -> None:
        from kehou.catalog.services import review

        decision = review.panel_decide(actor=self.admin_of(sub.panel.region), panel=sub.panel, now=at)
        if decision.outcome != outcome:
            raise DemoError(f"{sub.spec.by} {sub.submission.title}: decided {decision.outcome}, planned {outcome}.")
        sub.submission.refresh_from_db()

    def full_review(self, sub: _Sub, round_key: int, outcome: str) -> None:
        w = ROUNDS[round_key]
        rng = _rng(self.seed, f"catalog:review:{sub.index}:{round_key}")
        drawn = _when(rng, *w.draw)
        self.draw(sub, drawn)
        if sub.spec.decline and outcome == "admitted":
            self.decline(sub, drawn + timedelta(hours=3))
        self.score(sub, w.score, outcome)
        self.decide(sub, _when(rng, *w.decide, hours=(14, 17)), outcome)

    def partial_review(self, sub: _Sub) -> None:
        """Draw and leave in review: some members have scored, some have not (the named expert has not)."""
        rng = _rng(self.seed, f"catalog:partial:{sub.index}")
        members = self.active_members(sub.panel)
        others = [m for m in members if m.expert != self.named_expert]
        k = rng.randint(1, max(1, len(members) - 2))
        self.score(sub, ROUNDS[4].score, "admitted", only=rng.sample(others, min(k, len(others))))

    # --- the rounds ---------------------------------------------------------------------------------------------
    def run(self) -> dict[str, int]:
        self.reference()
        for index, spec in enumerate(SPECS):
            self.subs.append(_Sub(index, spec, None, None))
        by_fate: dict[str, list[_Sub]] = defaultdict(list)
        for sub in self.subs:
            by_fate[sub.spec.fate].append(sub)

        # Round 1 (late August – early September).
        first = [s for s in self.subs if s.spec.batch == 1]
        for sub in first:
            self.create(sub, _when(_rng(self.seed, f"catalog:submit:{sub.index}"), *ROUNDS[1].submit))
        for sub in first:
            outcome = {"admitted": "admitted", "admitted_v2": "returned"}.get(sub.spec.fate, "rejected")
            self.full_review(sub, 1, outcome)
        for sub in by_fate["admitted_v2"]:
            self.revise(sub, _when(_rng(self.seed, f"catalog:revise:{sub.index}"), *REVISE_V2_WINDOW))
        self.adopt(1)
        self.pick(1)

        # Round 2 (October).
        second = [s for s in self.subs if s.spec.batch == 2]
        for sub in second:
            self.create(sub, _when(_rng(self.seed, f"catalog:submit:{sub.index}"), *ROUNDS[2].submit))
        for sub in by_fate["admitted_v2"]:
            self.full_review(sub, 2, "admitted")
        for sub in second:
            self.full_review(sub, 2, "admitted" if sub.spec.fate == "admitted" else "returned")
        self.set_city_status("suspended", CITY_SUSPENSION_AT)
        self.adopt(2)
        self.district_suspension()
        self.pick(2)
        self.set_city_status("withdrawn", CITY_WITHDRAWAL_AT)
        self.school_withdrawal()

        # Round 3 (November).
        for sub in by_fate["returned"]:
            self.create(sub, _when(_rng(self.seed, f"catalog:submit:{sub.index}"), *ROUNDS[3].submit))
            self.full_review(sub, 3, "returned")
        for sub in by_fate["revised"]:
            self.revise(sub, _when(_rng(self.seed, f"catalog:revise:{sub.index}"), *REVISE_LATE_WINDOW))
        reviewing = by_fate["in_review"] + by_fate["candidate"]
        reviewing.sort(key=lambda s: s.index)
        for sub in reviewing:
            rng = _rng(self.seed, f"catalog:submit:{sub.index}")
            self.create(sub, _when(rng, *ROUNDS[4].submit))
            drawn = _when(rng, *ROUNDS[4].draw)
            self.draw(sub, drawn)
            if sub.spec.decline:
                self.decline(sub, drawn + timedelta(hours=3))
        candidates = sorted(by_fate["candidate"], key=lambda s: (not self.seats_named_expert(s), s.index))
        stay_open = {s.index for s in candidates[:OPEN_CANDIDATES]}
        for sub in reviewing:
            if sub.spec.fate == "in_review" or sub.index in stay_open:
                self.partial_review(sub)
            else:
                self.score(sub, ROUNDS[4].score, "admitted")
                self.decide(sub, _when(_rng(self.seed, f"catalog:decide:{sub.index}"), *ROUNDS[4].decide), "admitted")
        for sub in by_fate["submitted"]:
            self.create(sub, _when(_rng(self.seed, f"catalog:submit:{sub.index}"), *SUBMITTED_WINDOW))
        self.acknowledge()
        return catalog_counts()

    def seats_named_expert(self, sub: _Sub) -> bool:
        return any(m.expert == self.named_expert for m in self.active_members(sub.panel))

    # --- libraries ----------------------------------------------------------------------------------------------
    def city_entries(self) -> list[Any]:
        from kehou.catalog.models import LibraryEntry

        return list(
            LibraryEntry.objects.filter(level="city", status="active")
            .select_related("item__category", "item__version", "item__provider_school")
            .order_by("item__kind", "item__category__order", "item__name", "pk")
        )

    def fee_ok(self, entry: Any, region: Any) -> bool:
        from kehou.catalog.services.submissions import fee_standard_for

        fee = entry.item.version.fee_per_hour_fen
        if entry.item.kind != "course" or fee is None:
            return True
        key = (region.pk, entry.item.category_id)
        if key not in self.standards:
            self.standards[key] = fee_standard_for(region, entry.item.category)
        standard = self.standards[key]
        return standard is not None and standard.min_fee_fen <= fee <= standard.max_fee_fen

    def course_teachers(self) -> dict[int, set[int]]:
        """Catalog item id → the teachers of its admitted version."""
        from kehou.catalog.models import CatalogItem, SubmissionVersion

        through = SubmissionVersion.teachers.through
        by_version: dict[int, set[int]] = defaultdict(set)
        for version_id, teacher_id in through.objects.values_list("submissionversion_id", "teacherprofile_id"):
            by_version[version_id].add(teacher_id)
        return {pk: by_version[v] for pk, v in CatalogItem.objects.values_list("pk", "version_id")}

    def adopt(self, wave: int) -> None:
        """Districts adopt from the city library: their own schools' courses, and a good part of the rest."""
        from kehou.catalog.models import LibraryEntry
        from kehou.catalog.services import libraries

        entries = self.city_entries()
        if wave == 2:
            adopted = set(LibraryEntry.objects.filter(level="district").values_list("upstream_id", flat=True))
            entries = [e for e in entries if e.pk not in adopted and e.item.admitted_at > SECOND_ROUND]
        teachers_of = self.course_teachers()
        districts = list(data.DISTRICTS)
        wave_rng = _rng(self.seed, f"catalog:adopt:{wave}")
        if wave == 2:
            districts = sorted(wave_rng.sample(districts, 7), key=lambda d: d.code)
        for n, spec in enumerate(districts):
            district = self.regions[spec.code]
            rng = _rng(self.seed, f"catalog:adopt:{wave}:{spec.code}")
            share = 0.35 if spec.code == "360123" else rng.uniform(0.55, 0.85)
            usable = [e for e in entries if self.fee_ok(e, district)]
            courses = [
                e
                for e in usable
                if e.item.kind == "course"
                and (e.item.provider_school is None or e.item.provider_school.district_id == district.pk)
            ]
            own = [e for e in courses if e.item.provider_school is not None]
            rest = [e for e in courses if e.item.provider_school is None]
            chosen = own + rng.sample(rest, round(share * len(rest)))
            wanted_teachers = {t for e in chosen for t in teachers_of[e.item_id]}
            teacher_entries = [e for e in usable if e.item.kind == "teacher"]
            named = [e for e in teacher_entries if e.item.teacher_id in wanted_teachers]
            others = [e for e in teacher_entries if e.item.teacher_id not in wanted_teachers]
            chosen += named + rng.sample(others, round(share * 0.5 * len(others)))
            chosen.sort(key=lambda e: (e.item.kind, e.item.category.order, e.item.name, e.pk))
            first, last = ADOPT_DAYS[wave]
            day = first + timedelta(days=n % ((last - first).days + 1))
            self.adopted_on[spec.code] = day
            at = datetime.combine(day, time(9, 0), tzinfo=TZ) + timedelta(minutes=rng.randint(0, 90))
            actor = self.users[f"district-{spec.code}"]
            for entry in chosen:
                at += timedelta(minutes=rng.randint(1, 6))
                libraries.library_adopt(actor=actor, district=district, city_entry=entry, now=at)

    def allowed_entries(self, school: Any) -> list[Any]:
        from kehou.catalog import selectors
        from kehou.catalog.models import LibraryEntry

        if school.uses_city_library:
            qs = LibraryEntry.objects.filter(level="city", region=self.city)
        else:
            qs = LibraryEntry.objects.filter(level="district", region_id=school.district_id)
        return list(
            qs.filter(selectors.usable_q())
            .select_related("item__category", "item__version", "item__provider_school", "upstream")
            .order_by("item__kind", "item__category__order", "item__name", "pk")
        )

    def pick(self, wave: int) -> None:
        """Joined schools pick from the library they may use: their own courses first, then others of their grades,
        then the admitted teachers of the courses they picked (5 to 15 entries in all)."""
        from kehou.catalog.models import LibraryEntry
        from kehou.catalog.services import libraries

        teachers_of = self.course_teachers()
        joined = sorted((s for s in self.schools.values() if s.has_joined), key=lambda s: s.code)
        rng = _rng(self.seed, f"catalog:pick:{wave}")
        submitters = {self.schools[s.spec.by.split(":", 1)[1]].pk for s in self.subs if s.spec.by.startswith("school:")}
        if wave == 1:
            waiting = [s for s in joined if s.pk not in submitters and s.name != data.NAMED_TEACHER_SCHOOL]
            later = {s.pk for s in rng.sample(waiting, 3)}  # schools that have not picked yet
            schools = [s for s in joined if s.pk not in later]
        else:
            schools = sorted(rng.sample(joined, 14), key=lambda s: s.code)
        have: dict[int, set[int]] = defaultdict(set)
        for school_id, item_id in LibraryEntry.objects.filter(level="school").values_list("school_id", "item_id"):
            have[school_id].add(item_id)
        for school in schools:
            srng = _rng(self.seed, f"catalog:pick:{wave}:{school.code}")
            allowed = [e for e in self.allowed_entries(school) if e.item_id not in have[school.pk]]
            grades = set(school.grade_range)
            courses = [
                e
                for e in allowed
                if e.item.kind == "course"
                and set(e.item.version.grades) & grades
                and e.item.provider_school_id in (None, school.pk)
            ]
            if wave == 1:
                own = [e for e in courses if e.item.provider_school_id == school.pk]
                rest = [e for e in courses if e.item.provider_school_id is None]
                target = srng.randint(4, 10)
                chosen = own + srng.sample(rest, max(0, min(len(rest), target - len(own))))
            else:
                recent = [e for e in courses if e.item.admitted_at > SECOND_ROUND]
                chosen = srng.sample(recent, max(0, min(len(recent), srng.randint(1, 3), 15 - len(have[school.pk]))))
            wanted = {t for e in chosen for t in teachers_of[e.item_id]}
            teacher_entries = [e for e in allowed if e.item.kind == "teacher"]
            room = 15 - len(have[school.pk]) - len(chosen)
            chosen += [e for e in teacher_entries if e.item.teacher_id in wanted][: max(0, room)]
            if wave == 1 and len(chosen) < 5:
                spare = [e for e in teacher_entries if e not in chosen]
                chosen += spare[: 5 - len(chosen)]
            first, last = PICK_DAYS[wave]
            start = max(first, self.adopted_on.get(school.district.code, first) + timedelta(days=2))
            at = _when(srng, min(start, last), last, hours=(9, 16))
            actor = self.users[f"school-{school.code}"]
            for entry in chosen:
                at += timedelta(minutes=srng.randint(1, 8))
                libraries.library_pick(actor=actor, school=school, entry=entry, now=at)
                have[school.pk].add(entry.item_id)

    def set_city_status(self, status: str, at: datetime) -> None:
        from kehou.catalog.models import LibraryEntry
        from kehou.catalog.services import libraries

        for sub in self.subs:
            if sub.spec.later and sub.spec.later[0] == status:
                entry = LibraryEntry.objects.get(item__submission=sub.submission, level="city")
                libraries.library_set_status(
                    actor=self.users["city"], entry=entry, status=status, reason=sub.spec.later[1], now=at
                )

    def district_suspension(self) -> None:
        from kehou.catalog.models import LibraryEntry
        from kehou.catalog.services import libraries

        code, reason = DISTRICT_SUSPENSION
        entry = (
            LibraryEntry.objects.filter(level="district", region__code=code, status="active", item__kind="course")
            .filter(item__category__code="arts", upstream__status="active")
            .annotate(used=Count("downstream"))
            .order_by("-used", "item__name", "pk")
            .first()
        )
        if entry is not None:
            libraries.library_set_status(
                actor=self.users[f"district-{code}"],
                entry=entry,
                status="suspended",
                reason=reason,
                now=DISTRICT_SUSPENSION_AT,
            )

    def school_withdrawal(self) -> None:
        from kehou.catalog.models import LibraryEntry
        from kehou.catalog.services import libraries

        name, reason = SCHOOL_WITHDRAWAL
        school = self.schools[name]
        entry = (
            LibraryEntry.objects.filter(level="school", school=school, status="active", item__kind="course")
            .order_by("item__name", "pk")
            .first()
        )
        if entry is not None:
            libraries.library_set_status(
                actor=self.users[f"school-{school.code}"],
                entry=entry,
                status="withdrawn",
                reason=reason,
                now=SCHOOL_WITHDRAWAL_AT,
            )

    def acknowledge(self) -> None:
        """The city acknowledges most filings within a week; the latest ones are still waiting."""
        from kehou.catalog.models import Filing
        from kehou.catalog.services import libraries

        rng = _rng(self.seed, "catalog:acknowledge")
        city = self.users["city"]
        filings = Filing.objects.filter(status="filed").select_related("entry__item", "entry__school", "entry__region")
        for filing in filings.order_by("filed_at", "pk"):
            chance = 0.9 if filing.filed_at < ACK_ALL_BEFORE else 0.4 if filing.filed_at < ACK_SOME_BEFORE else 0
            if rng.random() >= chance:
                continue
            at = filing.filed_at + timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 5))
            libraries.filing_acknowledge(actor=city, filing=filing, now=min(at, TIMELINE_END))


# --- reading back -------------------------------------------------------------------------------------------
def catalog_counts() -> dict[str, int]:
    from kehou.catalog.models import (
        CatalogItem,
        Category,
        Decision,
        ExpertRecusal,
        FeeStandard,
        Filing,
        LibraryEntry,
        Panel,
        PanelMember,
        QualityItem,
        ReviewPolicy,
        Score,
        Submission,
        SubmissionVersion,
    )

    counts = {
        "categories": Category.objects.count(),
        "quality_standards": QualityItem.objects.count(),
        "fee_standards": FeeStandard.objects.count(),
        "review_policies": ReviewPolicy.objects.count(),
        "expert_recusals": ExpertRecusal.objects.count(),
        "submissions": Submission.objects.count(),
    }
    for status, n in sorted(Counter(Submission.objects.values_list("status", flat=True)).items()):
        counts[f"submissions_{status}"] = n
    counts["submission_versions"] = SubmissionVersion.objects.count()
    counts["panels"] = Panel.objects.count()
    counts["panels_open"] = Panel.objects.filter(status="open").count()
    counts["panel_members"] = PanelMember.objects.count()
    counts["panel_declines"] = PanelMember.objects.filter(status="declined").count()
    counts["scores"] = Score.objects.count()
    counts["decisions"] = Decision.objects.count()
    counts["library_courses"] = CatalogItem.objects.filter(kind="course").count()
    counts["library_teachers"] = CatalogItem.objects.filter(kind="teacher").count()
    for level in ("city", "district", "school"):
        counts[f"{level}_library_entries"] = LibraryEntry.objects.filter(level=level).count()
    counts["entries_suspended"] = LibraryEntry.objects.filter(status="suspended").count()
    counts["entries_withdrawn"] = LibraryEntry.objects.filter(status="withdrawn").count()
    counts["filings"] = Filing.objects.count()
    counts["filings_acknowledged"] = Filing.objects.filter(status="acknowledged").count()
    return counts


def catalog_digest() -> str:
    """A fingerprint of the catalog (ids replaced by names), for telling that two loads made the same."""
    from kehou.catalog.models import (
        Category,
        Decision,
        ExpertRecusal,
        FeeStandard,
        Filing,
        LibraryEntry,
        LibraryEntryEvent,
        Panel,
        PanelMember,
        QualityItem,
        ReviewPolicy,
        Score,
        Submission,
        SubmissionVersion,
    )
    from kehou.people.models import ExpertProfile

    expert = dict(ExpertProfile.objects.values_list("pk", "user__username"))
    subs = {
        s.pk: f"{s.title}/{s.submitter_user.username}"
        for s in Submission.objects.select_related("submitter_user").order_by("pk")
    }
    rows = LibraryEntry.objects.annotate(submission_id=F("item__submission_id")).select_related("region", "school")
    entries = {
        e.pk: (e.level, e.region.code if e.region else "", e.school.code if e.school else "", subs[e.submission_id])
        for e in rows
    }

    def key(entry_id: int | None) -> str:
        return "" if entry_id is None else "|".join(entries[entry_id])

    sections: dict[str, Iterable[Any]] = {
        "categories": Category.objects.values_list("code", "name", "order"),
        "quality": QualityItem.objects.values_list("number", "title", "weight", "max_score", "is_veto"),
        "fees": FeeStandard.objects.values_list(
            "region__code", "category__code", "min_fee_fen", "max_fee_fen", "teacher_pay_fen"
        ),
        "policies": ReviewPolicy.objects.values_list(
            "region__code", "panel_size", "admit_threshold_bp", "return_threshold_bp"
        ),
        "recusals": [
            (
                expert[r.expert_id],
                r.school.code if r.school else "",
                r.organisation.name if r.organisation else "",
                r.reason,
            )
            for r in ExpertRecusal.objects.select_related("school", "organisation")
        ],
        "submissions": [
            (
                subs[s.pk],
                s.kind,
                s.status,
                s.version_count,
                s.library_region.code,
                s.submitter_school.code if s.submitter_school else "",
                s.submitter_organisation.name if s.submitter_organisation else "",
                s.category.code,
                _utc(s.created_at),
                _utc(s.updated_at),
            )
            for s in Submission.objects.select_related(
                "library_region", "submitter_school", "submitter_organisation", "category"
            )
        ],
        "versions": [
            (
                subs[v.submission_id],
                v.number,
                v.name,
                json.dumps(v.grades),
                v.minutes_per_hour,
                v.hours_per_term,
                v.fee_per_hour_fen,
                v.materials_description,
                v.materials_price_fen,
                ",".join(sorted(t.user.username for t in v.teachers.all())),
                v.teacher.user.username if v.teacher else "",
                v.identity_number,
                v.change_note,
            )
            for v in SubmissionVersion.objects.select_related("teacher__user").prefetch_related("teachers__user")
        ],
        "panels": [
            (
                subs[p.submission_id],
                p.round,
                p.version_number,
                p.region.code,
                p.size,
                p.seed,
                ",".join(sorted(expert[e] for e in p.pool)),
                p.status,
                _utc(p.drawn_at),
            )
            for p in Panel.objects.select_related("region")
        ],
        "members": [
            (
                subs[m.panel.submission_id],
                m.panel.round,
                expert[m.expert_id],
                m.draw_position,
                m.status,
                m.decline_reason,
                m.replaces.draw_position if m.replaces else "",
            )
            for m in PanelMember.objects.select_related("panel", "replaces")
        ],
        "scores": [
            (
                subs[s.member.panel.submission_id],
                s.member.panel.round,
                expert[s.member.expert_id],
                json.dumps(s.item_scores, sort_keys=True),
                json.dumps(s.vetoed_items),
                s.total_bp,
                s.comment,
                _utc(s.scored_at),
            )
            for s in Score.objects.select_related("member__panel")
        ],
        "decisions": [
            (subs[d.panel.submission_id], d.panel.round, d.outcome, d.mean_bp, _utc(d.decided_at))
            for d in Decision.objects.select_related("panel")
        ],
        "entries": [
            (key(e.pk), key(e.upstream_id), e.source, e.status, _utc(e.added_at), _utc(e.status_changed_at))
            for e in LibraryEntry.objects.all()
        ],
        "events": [(key(e.entry_id), e.from_status, e.to_status, e.reason) for e in LibraryEntryEvent.objects.all()],
        "filings": [
            (
                key(f.entry_id),
                f.change,
                f.district.code,
                f.school.code if f.school else "",
                f.status,
                f.filed_by.username,
                _utc(f.filed_at),
                _utc(f.acknowledged_at),
            )
            for f in Filing.objects.select_related("district", "school", "filed_by")
        ],
    }
    return _digest(sections)
