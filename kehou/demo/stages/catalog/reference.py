"""The catalog stage's reference data: categories, the 20 quality standards, fee standards, review policies and
recusals (the bureau's configuration, written directly), and the texts the review draws on: qualifications,
reviewers' comments, decline reasons, and the score targets of each outcome."""

from __future__ import annotations

from datetime import datetime

from kehou.demo import data
from kehou.demo.common import TZ

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
