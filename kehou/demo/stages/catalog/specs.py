"""What the catalog stage submits, by whom, and what becomes of it: one :class:`Spec` per submission (:data:`SPECS`,
in the order they are made)."""

from __future__ import annotations

from dataclasses import dataclass

from kehou.demo import data

from .reference import BD, FY, KJ, LY, QH, QM, SNG


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
