"""The ledger data contract (docs/台帐格式.md) as data.

Every ledger kind, its canonical columns, their types, allowed values and aliases are declared here once;
the reader, the validator, `jindu init` and the sample generator all read this module.
Pure data: importing it costs nothing (no pandas).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Column value types.
TEXT = "text"
ID = "id"  # 公民身份号码: normalised to 18 characters
DATE = "date"
FLAG = "flag"  # 是/否 -> nullable boolean
CATEGORY = "category"  # one of `allowed` after folding `variants`
NUMBER = "number"

# Origin columns every normalised frame carries, so any figure can be traced to a cell.
ORIGIN_FILE = "_file"
ORIGIN_SHEET = "_sheet"
ORIGIN_ROW = "_row"  # row number as Excel shows it (title rows counted); CSV: line number
ORIGIN_COLUMNS = (ORIGIN_FILE, ORIGIN_SHEET, ORIGIN_ROW)

PII_COLUMNS = frozenset({"姓名", "公民身份号码"})


@dataclass(frozen=True)
class Column:
    name: str
    type: str = TEXT
    required: bool = False
    allowed: tuple[str, ...] = ()
    # Close variants and police-export spellings folded onto an allowed value (after 繁→简 and trimming).
    variants: dict[str, str] = field(default_factory=dict)
    # CATEGORY columns whose values are free text tolerated (kept as is when not allowed).
    free: bool = False
    help: str = ""


@dataclass(frozen=True)
class Kind:
    id: str
    name: str  # Chinese name as offices call the ledger
    sheet_hints: tuple[str, ...]
    columns: tuple[Column, ...]
    # Header aliases specific to this kind, after generic folding (whitespace, full-width, 繁→简, 台账→台帐,
    # a leading 是否 on flag columns).
    aliases: dict[str, str] = field(default_factory=dict)
    # Date column that places a row in time (flow ledgers: a row counts in the period holding it); None for
    # stock ledgers, which are read as of the period's last day.
    date_column: str | None = None
    # Date column whose earliest value says from when the ledger covers events (环比/同比 need it covered).
    coverage_column: str | None = None
    # Date columns showing that the ledger holds data for a month (the default period ends at the latest).
    data_date_columns: tuple[str, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


# Aliases shared by every kind.
COMMON_ALIASES: dict[str, str] = {
    "身份证号": "公民身份号码",
    "身份证号码": "公民身份号码",
    "证件号码": "公民身份号码",
    "身份证": "公民身份号码",
    "公民身份证号码": "公民身份号码",
    "村(居)": "所属村居",
    "村居": "所属村居",
    "社区": "所属村居",
    "所在村居": "所属村居",
    "所属社区": "所属村居",
    "所属网格": "所属村居",
    "村(社区)": "所属村居",
    "镇街": "所属镇街",
    "乡镇(街道)": "所属镇街",
    "所属乡镇": "所属镇街",
    "乡镇": "所属镇街",
    "镇(街)": "所属镇街",
    "所在镇街": "所属镇街",
}

UNIT_COLUMNS = ("所属镇街", "所属村居")

PERSON_STATUS = ("社会面", "社区戒毒", "社区康复", "强制隔离戒毒", "羁押", "服刑", "死亡", "出境", "失联", "注销")
CONTROL_LEVELS = ("一级", "二级", "三级")
DISPOSALS = ("强制隔离戒毒", "社区戒毒", "责令社区康复", "行政拘留", "刑事拘留", "不予处罚", "其他")
COMMUNITY_TYPES = ("社区戒毒", "社区康复")
EXECUTION_STATES = ("执行中", "期满解除", "提前解除", "严重违反协议", "死亡", "脱失", "收监")
CONTACT_METHODS = ("走访", "谈话", "见面", "尿检", "毛发检测", "外出帮教尿检")
CONTACT_RESULTS = ("阴性", "阳性", "见面", "未见面")
PUBLICITY_FORMS = (
    "LED滚动播放", "户外宣传", "张贴海报", "派发资料", "媒体采用",
    "宣传活动", "教育讲座", "现身说法", "文艺汇演",
)
DRUGS = ("海洛因", "冰毒", "氯胺酮", "合成毒品", "大麻", "其他")

# Police-export sub-statuses of 社会面: kept in 人员状态细分 so validation can check them against the dates.
STATUS_DETAIL_ABSTINENT_3Y = "社会面戒断三年未复吸"
STATUS_DETAIL_NOT_3Y = "社会面戒断不满三年"
# 人员状态 of a cell that could not be read (error value, formula without a result, value not allowed): unknown,
# not empty (empty means 社会面). Such persons are left out of 在册 and of every count by status.
STATUS_UNKNOWN = "（无法识别）"

# 人员状态 groups (every count by status reads these). Empty 人员状态 counts as 社会面.
SOCIAL = ("社会面", "社区戒毒", "社区康复", "失联")  # in the community: 社会面 and under control unless 三年未复吸
IN_FACILITY = ("强制隔离戒毒", "羁押", "服刑")
NOT_REGISTERED = ("死亡", "注销")  # off the register (with STATUS_UNKNOWN, left out of every count by status)
ABROAD = "出境"
# 人员状态 that cannot coexist with a community order being executed (执行中).
NOT_IN_COMMUNITY = ("死亡", "注销", "出境", "强制隔离戒毒", "服刑")
# 方式 of the contacts ledger that are drug tests (a 阳性 one is a detection).
TESTS = ("尿检", "毛发检测", "外出帮教尿检")
POSITIVE = "阳性"
# 执行状态 of a community order that has ended (when 解除日期 is empty).
ENDED_STATES = ("期满解除", "提前解除", "严重违反协议", "死亡", "脱失", "收监")

PERSONS = Kind(
    id="persons",
    name="吸毒人员登记台帐",
    sheet_hints=("吸毒人员", "登记", "人员台帐", "在册"),
    columns=(
        Column("姓名", TEXT, required=True),
        Column("公民身份号码", ID, required=True),
        Column("所属村居", TEXT, required=True),
        Column("所属镇街", TEXT),
        Column("性别", CATEGORY, allowed=("男", "女"), variants={"男性": "男", "女性": "女"}),
        Column("人员类别", CATEGORY, allowed=("本地", "外来"),
               variants={"本地人员": "本地", "外来人员": "外来", "户籍": "本地", "流动": "外来", "外地": "外来"}),
        Column("初次发现日期", DATE),
        Column("末次查获日期", DATE),
        Column("滥用毒品种类", CATEGORY, allowed=DRUGS, free=True,
               variants={"甲基苯丙胺": "冰毒", "k粉": "氯胺酮", "K粉": "氯胺酮"}),
        Column("人员状态", CATEGORY, allowed=PERSON_STATUS, variants={
            STATUS_DETAIL_ABSTINENT_3Y: "社会面",
            STATUS_DETAIL_NOT_3Y: "社会面",
            "在控": "社会面",
            "失控": "失联",
            "出国(境)": "出境",
            "出国": "出境",
            "强戒": "强制隔离戒毒",
            "强制戒毒": "强制隔离戒毒",
            "社戒": "社区戒毒",
            "社康": "社区康复",
            "在押": "羁押",
            "拘留": "羁押",
            "服刑中": "服刑",
            "已死亡": "死亡",
            "已注销": "注销",
        }),
        Column("管控等级", CATEGORY, allowed=CONTROL_LEVELS, variants={
            "1级": "一级", "2级": "二级", "3级": "三级", "一": "一级", "二": "二级", "三": "三级",
            "极端": "一级", "高": "一级", "高风险": "一级", "极端风险": "一级",
            "中": "二级", "中风险": "二级", "低": "三级", "低风险": "三级",
            "严重": "一级", "中等": "二级", "一般": "三级",
        }),
        Column("纳入网格化", FLAG),
        Column("病残", FLAG),
        Column("人户分离", FLAG),
        Column("已查找", FLAG),
        Column("已见面", FLAG),
        Column("已建档", FLAG),
    ),
    aliases={
        "查获日期": "末次查获日期",
        "最后查获日期": "末次查获日期",
        "末次查获时间": "末次查获日期",
        "首吸时间": "初次发现日期",
        "初次发现时间": "初次发现日期",
        "首次发现日期": "初次发现日期",
        "管控级别": "管控等级",
        "风险等级": "管控等级",
        "关注程度": "管控等级",
        "纳入网格化管理": "纳入网格化",
        "纳入网格": "纳入网格化",
        "状态": "人员状态",
        "当前状态": "人员状态",
        "人员现状": "人员状态",
        "毒品种类": "滥用毒品种类",
        "滥用种类": "滥用毒品种类",
        "户籍类别": "人员类别",
        "人员类型": "人员类别",
        "外来人员已见面": "已见面",
        "外来人员已建档": "已建档",
        "人户分离已查找": "已查找",
        "病残人员": "病残",
    },
    coverage_column="初次发现日期",
)

SEIZURES = Kind(
    id="seizures",
    name="查处台帐",
    sheet_hints=("查处", "查获"),
    columns=(
        Column("查处日期", DATE, required=True),
        Column("公民身份号码", ID, required=True),
        Column("姓名", TEXT),
        Column("所属村居", TEXT),
        Column("所属镇街", TEXT),
        Column("新发现", FLAG),
        Column("处置结果", CATEGORY, allowed=DISPOSALS, variants={
            "强戒": "强制隔离戒毒", "强制戒毒": "强制隔离戒毒",
            "刑拘": "刑事拘留", "行拘": "行政拘留",
            "社戒": "社区戒毒", "社康": "责令社区康复", "社区康复": "责令社区康复",
            "不处罚": "不予处罚",
        }),
        Column("应送戒", FLAG),
        Column("病残", FLAG),
        Column("送治", FLAG),
    ),
    aliases={
        "查获日期": "查处日期",
        "查处时间": "查处日期",
        "查获时间": "查处日期",
        "处理结果": "处置结果",
        "处置情况": "处置结果",
        "处理情况": "处置结果",
        "新发现吸毒人员": "新发现",
        "应送戒人员": "应送戒",
        "病残人员": "病残",
        "已送治": "送治",
    },
    date_column="查处日期",
    coverage_column="查处日期",
    data_date_columns=("查处日期",),
)

COMMUNITY = Kind(
    id="community",
    name="社区戒毒社区康复台帐",
    sheet_hints=("社区戒毒", "社区康复", "社戒社康"),
    columns=(
        Column("公民身份号码", ID, required=True),
        Column("类别", CATEGORY, required=True, allowed=COMMUNITY_TYPES,
               variants={"社戒": "社区戒毒", "社康": "社区康复", "责令社区康复": "社区康复"}),
        Column("决定日期", DATE, required=True),
        Column("姓名", TEXT),
        Column("所属村居", TEXT),
        Column("所属镇街", TEXT),
        Column("报到日期", DATE),
        Column("已建档", FLAG),
        Column("执行状态", CATEGORY, allowed=EXECUTION_STATES, variants={
            "正在执行": "执行中", "执行": "执行中", "期满": "期满解除", "解除": "期满解除",
            "严重违反": "严重违反协议", "失联": "脱失",
        }),
        Column("解除日期", DATE),
    ),
    aliases={
        "责令日期": "决定日期",
        "决定时间": "决定日期",
        "报到时间": "报到日期",
        "类型": "类别",
        "社区戒毒社区康复类别": "类别",
        "建档": "已建档",
        "签订协议建档": "已建档",
        "状态": "执行状态",
        "解除时间": "解除日期",
    },
    date_column=None,
    coverage_column="决定日期",
    data_date_columns=("决定日期", "报到日期"),
)

CONTACTS = Kind(
    id="contacts",
    name="帮教管控台帐",
    sheet_hints=("帮教", "管控", "走访", "尿检"),
    columns=(
        Column("日期", DATE, required=True),
        Column("公民身份号码", ID, required=True),
        Column("方式", CATEGORY, required=True, allowed=CONTACT_METHODS, variants={
            "毛发": "毛发检测", "毛发检验": "毛发检测", "尿液检测": "尿检", "家访": "走访",
            "谈话教育": "谈话", "外出尿检": "外出帮教尿检",
        }),
        Column("结果", CATEGORY, allowed=CONTACT_RESULTS,
               variants={"阴": "阴性", "阳": "阳性", "-": "阴性", "+": "阳性", "已见面": "见面"}),
        Column("所属村居", TEXT),
        Column("经办人", TEXT),
        Column("姓名", TEXT),
    ),
    aliases={
        "帮教日期": "日期",
        "检测日期": "日期",
        "走访日期": "日期",
        "时间": "日期",
        "帮教方式": "方式",
        "管控方式": "方式",
        "类型": "方式",
        "检测结果": "结果",
    },
    date_column="日期",
    coverage_column="日期",
    data_date_columns=("日期",),
)

PUBLICITY = Kind(
    id="publicity",
    name="禁毒宣传台帐",
    sheet_hints=("宣传",),
    columns=(
        Column("日期", DATE, required=True),
        Column("形式", CATEGORY, required=True, allowed=PUBLICITY_FORMS, variants={
            "LED": "LED滚动播放", "滚动播放LED": "LED滚动播放", "LED屏": "LED滚动播放",
            "海报": "张贴海报", "派发单张": "派发资料", "派发禁毒单张": "派发资料",
            "媒体": "媒体采用", "大型宣传活动": "宣传活动", "讲座": "教育讲座", "禁毒教育讲座": "教育讲座",
            "文艺演出": "文艺汇演",
        }),
        Column("数量", NUMBER, required=True),
        Column("单位", TEXT),
        Column("领导出席人次", NUMBER),
        Column("受教育人数", NUMBER),
        Column("所属村居", TEXT),
    ),
    aliases={
        "宣传日期": "日期",
        "活动日期": "日期",
        "宣传形式": "形式",
        "活动形式": "形式",
        "数目": "数量",
        "开展单位": "单位",
        "报送单位": "单位",
        "领导出席": "领导出席人次",
        "受教育人次": "受教育人数",
    },
    date_column="日期",
    coverage_column="日期",
    data_date_columns=("日期",),
)

UNITS = Kind(
    id="units",
    name="单位信息",
    sheet_hints=("单位", "村居", "基本情况"),
    columns=(
        Column("所属村居", TEXT),
        Column("所属镇街", TEXT),
        Column("实有人口", NUMBER),
        Column("禁毒社工", NUMBER),
        Column("网格员", NUMBER),
    ),
    aliases={
        "人口": "实有人口",
        "常住人口": "实有人口",
        "禁毒社工人数": "禁毒社工",
        "社工": "禁毒社工",
        "网格员人数": "网格员",
    },
)

KINDS: dict[str, Kind] = {k.id: k for k in (PERSONS, SEIZURES, COMMUNITY, CONTACTS, PUBLICITY, UNITS)}
# Flow ledgers and their date column; every other ledger is a stock.
FLOW_DATE: dict[str, str] = {k.id: k.date_column for k in KINDS.values() if k.date_column}

# Words whose presence in the first cells of a row marks it as a totals or footnote row, not data.
TOTAL_MARKERS = ("合计", "小计", "总计")
FOOTNOTE_MARKERS = ("填表人", "备注", "制表", "审核人", "注:", "说明:")

FLAG_TRUE = ("是", "是的", "y", "yes", "√", "✓", "✔", "1", "true", "t", "有", "已")
FLAG_FALSE = ("否", "n", "no", "×", "✗", "✘", "0", "false", "f", "无", "未", "不是")
