"""Every kind of finding declared once (code, severity, Chinese message); findings are plain data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from .privacy import Names, mask_place, mask_text, mask_value

ERROR = "错误"
WARNING = "警告"
NOTE = "提示"


@dataclass(frozen=True)
class FindingKind:
    code: str
    severity: str
    title: str
    # How to fix it; may use {value}, {column}, {allowed}, {detail} placeholders. Never holds PII itself:
    # the offending value travels in Finding.value and is masked at output.
    fix: str


_KINDS = [
    FindingKind("missing_column", ERROR, "缺少必需列", "请在表头中补上「{column}」列{detail}"),
    FindingKind("unreadable_date", ERROR, "日期无法识别", "请改为 2018-10-05 这样的日期{detail}"),
    FindingKind("date_out_of_range", ERROR, "日期超出合理范围", "日期早于1950年或晚于今天，请核对{detail}"),
    FindingKind("bad_id_checksum", ERROR, "身份证号校验位错误", "按GB 11643校验位不符，请对照证件核对{detail}"),
    FindingKind("bad_id_format", ERROR, "身份证号格式错误", "应为18位（末位可为X）或15位数字{detail}"),
    FindingKind("id_area_unknown", WARNING, "身份证号地址码未知", "行政区划代码不在代码表中或晚于出生日期，请确认{detail}"),
    FindingKind("id_stored_as_number", ERROR, "身份证号被存为数字，末位已丢失",
                "请把该列设为文本格式后重新录入完整号码；此行无法与人员匹配{detail}"),
    FindingKind("id_stored_as_number_15", WARNING, "15位身份证号被存为数字",
                "15位的数字完整无缺，已按第一代身份证号读取并升为18位；建议把该列设为文本格式{detail}"),
    FindingKind("id_invisible_chars", WARNING, "身份证号含有看不见的字符",
                "已去掉后读取；这些字符多由复制粘贴带入，请在台帐中删除{detail}"),
    FindingKind("unit_invisible_chars", WARNING, "镇街或村居名称含有看不见的字符",
                "已去掉，按去掉后的名称统计；请在台帐中删去这些字符{detail}"),
    FindingKind("unit_looks_like_person", WARNING, "镇街或村居名称像是人员信息",
                "「{column}」中填的是身份证号或登记台帐中的姓名，输出中已脱敏显示；请改为镇街或村居名称{detail}"),
    FindingKind("id_birth_in_future", ERROR, "身份证号出生日期晚于今天", "请对照证件核对身份证号{detail}"),
    FindingKind("date_before_birth", ERROR, "日期早于出生日期",
                "「{column}」早于身份证号中的出生日期，请核对日期或身份证号{detail}"),
    FindingKind("cell_error", ERROR, "单元格是错误值",
                "公式出错，此格的值未知，未按空白处理{detail}；请修正公式或改填数值"),
    FindingKind("formula_no_value", ERROR, "公式没有计算结果",
                "文件中的公式没有保存计算结果（多见于程序生成、未在 Excel/WPS 中打开保存过的文件），此格的值未知，"
                "未按空白处理{detail}；请用 Excel/WPS 打开后保存，或改填数值"),
    FindingKind("duplicate_column", WARNING, "表头列重复", "两列对应同一列名，只读取其中一列{detail}；请删除或改名多余的列"),
    FindingKind("duplicate_file", WARNING, "重复的台帐文件",
                "与另一文件中同一种台帐的各行完全相同（常见于“副本”“(1)”文件），只计一次{detail}；请移走多余的文件"),
    FindingKind("csv_line_encoding", WARNING, "CSV 文件中有编码不同的行",
                "此行按 GB18030（GBK）解码，文件其余部分为 UTF-8；请核对此行文字，并把文件统一另存为 UTF-8{detail}"),
    FindingKind("duplicate_person", ERROR, "人员重复登记", "同一身份证号在登记台帐中出现多次，请合并为一行{detail}"),
    FindingKind("unknown_person", ERROR, "人员未在登记台帐中", "请先在吸毒人员登记台帐中登记此人，或核对身份证号{detail}"),
    FindingKind("value_not_allowed", ERROR, "取值不在允许范围", "允许的取值：{allowed}{detail}"),
    FindingKind("unreadable_flag", ERROR, "是/否列取值无法识别", "请填写“是”或“否”{detail}"),
    FindingKind("unreadable_number", ERROR, "数字无法识别", "请填写数字{detail}"),
    FindingKind("required_empty", ERROR, "必填项为空", "请填写「{column}」{detail}"),
    FindingKind("reported_before_decided", ERROR, "报到日期早于决定日期", "请核对报到日期与决定日期{detail}"),
    FindingKind("reported_in_future", ERROR, "报到日期晚于今天", "请核对报到日期{detail}"),
    FindingKind("ended_before_decided", ERROR, "解除日期早于决定日期",
                "请核对解除日期与决定日期；统计时不采用此解除日期，是否在册按执行状态判断{detail}"),
    FindingKind("ended_before_reported", ERROR, "解除日期早于报到日期", "请核对解除日期与报到日期{detail}"),
    FindingKind("status_contradiction", WARNING, "人员状态与其他台帐矛盾", "请核对人员状态{detail}"),
    FindingKind("level_contradiction", WARNING, "管控等级与戒断情况矛盾", "请核对管控等级{detail}"),
    FindingKind("status_detail_mismatch", WARNING, "人员状态细分与日期不符", "请核对人员状态或末次查获日期{detail}"),
    FindingKind("last_seizure_outdated", WARNING, "末次查获日期早于查处记录",
                "请把末次查获日期更新为最近一次查获的日期{detail}"),
    FindingKind("gender_mismatch", WARNING, "性别与身份证号不符", "请核对性别或身份证号{detail}"),
    FindingKind("no_ledger", ERROR, "没有可识别的台帐",
                "所读文件中没有一个工作表能识别为台帐，无法计算指标；请检查是否选错了文件或表头列名{detail}"),
    FindingKind("sheet_unrecognized", NOTE, "工作表未识别为任何台帐", "已跳过；如为台帐，请检查表头列名{detail}"),
    FindingKind("columns_capped", WARNING, "列数超出上限，多余的列未读取",
                "台帐只读取前256列（A至IV列）；请删除右侧多余的内容{detail}"),
    FindingKind("format_mismatch", NOTE, "扩展名与文件内容不符", "已按文件的实际格式读取；建议改正扩展名{detail}"),
    FindingKind("row_skipped", NOTE, "合计或备注行已跳过", "此行不是数据行，未计入{detail}"),
]

KINDS: dict[str, FindingKind] = {k.code: k for k in _KINDS}


class Finding(NamedTuple):
    """One finding, located: plain immutable data. A named tuple, not a frozen dataclass: a county run builds
    10^4 of them, and a frozen dataclass's __init__ costs six times a tuple's."""

    code: str
    file: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None  # raw value; masked by to_dict() unless show_pii
    detail: str = ""  # extra Chinese text, never PII
    allowed: str = ""
    column_letter: str | None = None  # the column's letter in the sheet as the user sees it ("C"); see locate()

    @property
    def kind(self) -> FindingKind:
        return KINDS[self.code]

    @property
    def severity(self) -> str:
        return KINDS[self.code].severity

    @property
    def message(self) -> str:
        k = KINDS[self.code]
        detail = f"（{self.detail}）" if self.detail else ""
        fix = k.fix.format(column=self.column or "", allowed=self.allowed, detail=detail, value="")
        return f"{k.title}：{fix}"

    @property
    def column_label(self) -> str:
        """The column as a user finds it: "公民身份号码（C列）" (the name alone when the letter is unknown)."""
        if self.column and self.column_letter:
            return f"{self.column}（{self.column_letter}列）"
        return self.column or ""

    @property
    def cell(self) -> str | None:
        """The finding's cell as Excel names it ("C17"), when both its row and its column are known."""
        return f"{self.column_letter}{self.row}" if self.column_letter and self.row else None

    def sort_key(self) -> tuple:
        return (self.file, self.sheet or "", self.row or 0, self.column or "", self.code)

    def to_dict(self, show_pii: bool = False, names: Names | None = None) -> dict:
        """Plain data for output; the value (and any ID or known name in the message) masked unless show_pii."""
        message = self.message
        return {
            "code": self.code,
            "severity": self.severity,
            "file": mask_place(self.file, show_pii, names),
            "sheet": mask_place(self.sheet, show_pii, names),
            "row": self.row,
            "column": self.column,
            "column_letter": self.column_letter,
            "value": mask_value(self.column, self.value, show_pii, names),
            "message": message if show_pii else mask_text(message, names),
        }


def excel_column(index: int) -> str:
    """The Excel letter of a 0-based column index: 0 → "A", 26 → "AA"."""
    out = ""
    n = index + 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


class Letters:
    """The letter of a canonical column in a sheet ("C"), or None when the sheet lacks it; from
    LedgerSet.positions() ((file, sheet) -> {column: 0-based index}), each asked once (a county file's
    checks give 10^4 findings on a few columns)."""

    def __init__(self, positions: dict[tuple, dict[str, int]]):
        self.positions, self.known = positions, {}

    def __call__(self, file: str, sheet: str | None, column: str) -> str | None:
        key = (file, sheet, column)
        if key not in self.known:
            i = self.positions.get((file, sheet), {}).get(column)
            self.known[key] = None if i is None else excel_column(i)
        return self.known[key]


def locate(findings: list[Finding], positions: dict[tuple, dict[str, int]]) -> list[Finding]:
    """The findings with the letter of their column filled in, from where each sheet's columns were found.

    `positions`: (file, sheet) -> {canonical column name: 0-based index in the sheet as read}. Findings with
    no column, a letter already, or a column the sheet lacks (missing_column) are kept as they are.
    """
    letter = Letters(positions)
    out = []
    for f in findings:
        if f.column and f.column_letter is None:
            found = letter(f.file, f.sheet, f.column)
            if found is not None:  # built directly: dataclasses.replace costs twice as much
                f = Finding(f.code, f.file, f.sheet, f.row, f.column, f.value, f.detail, f.allowed, found)
        out.append(f)
    return out


def summarize(findings: list[Finding], counted: dict[str, int] | None = None) -> dict:
    """Counts by severity and by code, for JSON output and the one-line summary of compute. `counted`: more
    findings, by code, counted without being built."""
    by_sev = {ERROR: 0, WARNING: 0, NOTE: 0}
    by_code: dict[str, int] = {}
    for f in findings:
        by_sev[f.severity] += 1
        by_code[f.code] = by_code.get(f.code, 0) + 1
    for code, n in (counted or {}).items():
        by_sev[KINDS[code].severity] += n
        by_code[code] = by_code.get(code, 0) + n
    return {"错误": by_sev[ERROR], "警告": by_sev[WARNING], "提示": by_sev[NOTE],
            "by_code": dict(sorted(by_code.items()))}


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity == ERROR for f in findings)


__all__ = ["ERROR", "KINDS", "NOTE", "WARNING", "Finding", "FindingKind", "Letters", "excel_column", "has_errors",
           "locate", "summarize"]
