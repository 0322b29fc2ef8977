"""The derived columns: every column the tool computes rather than reads, declared once.

The catalog checks filters against this registry, the engine knows from it which columns differ per window,
`explain` shows each one's sources and description, and docs/指标口径.md lists them (a test keeps it in step).
Pure data beside `schema`: importing it costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import schema

READER = "reader"  # derived once when the ledger is read (the same in every window)
WINDOW = "window"  # derived as of each window's last day


@dataclass(frozen=True)
class Derived:
    name: str
    ledger: str
    type: str  # a schema column type
    sources: tuple[str, ...]  # the recorded (or derived) columns it is computed from: explain shows them
    description: str  # Chinese, for explain and the docs
    stage: str = WINDOW
    # The sources without which it cannot be worked out (an indicator reading it has no value when its ledger
    # lacks one of these columns); None: all of `sources`. Sources that stand in for one another are not needed.
    needs: tuple[str, ...] | None = None

    @property
    def required(self) -> tuple[str, ...]:
        return self.sources if self.needs is None else self.needs


REGISTRY: tuple[Derived, ...] = (
    Derived("在册", "persons", schema.FLAG, ("人员状态",),
            "人员状态不是死亡、注销或无法识别，且最后一天前已发现（初次发现日期或首次查处不晚于最后一天，都没有日期的也算）"),
    Derived("社会面", "persons", schema.FLAG, ("人员状态",),
            "在册且人员状态为社会面、社区戒毒、社区康复、失联或为空"),
    Derived("出境", "persons", schema.FLAG, ("人员状态",), "人员状态为出境"),
    Derived("在所", "persons", schema.FLAG, ("人员状态",), "人员状态为强制隔离戒毒、羁押或服刑"),
    Derived("三年未复吸", "persons", schema.FLAG, ("人员状态", "末次检出日期"),
            "在册、不在所、未出境，且末次检出日期加满3年不晚于最后一天"),
    Derived("戒断一年以上", "persons", schema.FLAG, ("末次检出日期",), "在册，且末次检出日期加满1年不晚于最后一天"),
    Derived("管控", "persons", schema.FLAG, ("人员状态", "末次检出日期"), "社会面中未满三年未复吸的人员"),
    Derived("末次检出日期", "persons", schema.DATE, ("末次查获日期", "初次发现日期"),
            "末次查获日期、查处台帐的查处日期、帮教管控台帐中阳性检测的日期三者中不晚于统计期最后一天的最晚者；"
            "都没有时取初次发现日期", needs=()),
    Derived("人员状态细分", "persons", schema.TEXT, ("人员状态",),
            "公安导出的人员状态细分（社会面戒断三年未复吸、社会面戒断不满三年），人员状态按社会面计", READER),
    Derived("在册", "community", schema.FLAG, ("决定日期", "执行状态", "解除日期"),
            "决定日期不晚于最后一天，且未解除（解除日期不早于最后一天；解除日期为空时执行状态不是已结束的状态）",
            needs=("决定日期",)),
    Derived("已报到建档", "community", schema.FLAG, ("报到日期", "已建档"), "报到日期不晚于最后一天且已建档"),
    Derived("报到期内", "community", schema.FLAG, ("决定日期", "报到日期"),
            "决定日期在最后一天往前14天至最后一天之内且尚未报到（仍在15天法定报到期内）"),
    Derived("期内在册", "community", schema.FLAG, ("决定日期", "执行状态", "解除日期"),
            "统计期内有一天在执行：决定日期不晚于最后一天，且未在统计期第一天之前解除", needs=("决定日期",)),
    Derived("已报到", "community", schema.FLAG, ("报到日期",), "报到日期不晚于最后一天"),
)


# Recorded columns the tool fills where a cell is empty (the engine's documented rule), so that a ledger without
# the column still gives the figures reading it: (ledger, column) -> how.
FILLED: dict[tuple[str, str], str] = {
    ("seizures", "新发现"): "此前没有查处记录、也没有更早的初次发现日期的为新发现",
}


def of(ledger: str, stage: str | None = None) -> dict[str, Derived]:
    """The ledger's derived columns by name (only those of `stage` when given), in declaration order."""
    return {d.name: d for d in REGISTRY if d.ledger == ledger and (stage is None or d.stage == stage)}


def get(ledger: str, name: str) -> Derived | None:
    return of(ledger).get(name)


LEDGERS: tuple[str, ...] = tuple(dict.fromkeys(d.ledger for d in REGISTRY))


def doc_section() -> str:
    """The section of docs/台帐格式.md that lists the derived columns (a test keeps the doc equal to it)."""
    lines = ["## 工具计算的列", "",
             "下列各列不在台帐中填写，由工具按统计期最后一天（“最后一天”）从台帐的列算出；指标目录的筛选条件可以使用它们，",
             "`jindu explain` 列出它们所依据的列。", ""]
    for led in LEDGERS:
        lines.append(f"{schema.KINDS[led].name}：")
        lines.append("")
        for d in of(led).values():
            lines.append(f"- **{d.name}**：{d.description}。")
        lines.append("")
    return "\n".join(lines) + "\n"
