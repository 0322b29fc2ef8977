"""`jindu validate`: read the ledgers and report every finding (grouped by sheet), exit 0/1/2."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import command, shown
from ..run import Formats
from . import chinese, common
from .root import app

FORMATS = Formats(("table", "json"))


class _Command(chinese.Command):
    """`--annotate` may come without a value (typer has no options with an optional value): given last, or
    before another option, it stands for `--annotate=` (the copy beside each input)."""

    def parse_args(self, ctx, args):
        args = list(args)
        for i, a in enumerate(args):
            if a == "--":
                break
            if a == "--annotate" and (i + 1 == len(args) or (args[i + 1].startswith("-") and args[i + 1] != "-")):
                args[i] = "--annotate="
        return super().parse_args(ctx, args)


@app.command("validate", cls=_Command)
def validate_command(
    inputs: common.Inputs = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="输出格式：table（表格，默认）或 json。")] = "table",
    show_pii: common.ShowPii = False,
    password: common.Password = None,
    period: Annotated[Optional[str], typer.Option(
        "--period", "-p", metavar="统计期",
        help="按统计期最后一天判断人员状态（三年未复吸、管控等级、人员状态细分）；默认为台帐中最新的日期。")] = None,
    annotate: Annotated[Optional[str], typer.Option(
        "--annotate", metavar="[标注副本]", show_default=False,
        help="另存一份标出问题的台帐副本（原文件不改）：有问题的单元格标色并加批注，首个工作表“问题清单”可点击跳转。"
             "不写文件名时存为原文件旁的“<原名>_问题标注.xlsx”；多个台帐文件时可写一个文件夹。副本含姓名和身份证号。")] = None,
) -> None:
    """校验台帐：列出每个问题所在的文件、工作表、行、列及修改方法。无错误时退出码为 0，有错误为 1，文件无法读取为 2。
    台帐的列和可接受的写法见 jindu 说明 台帐格式。

    示例：
      jindu validate 乐平镇台帐.xlsx
      jindu validate 台帐/ --format json
      jindu validate 乐平镇台帐.xlsx --period 2018-10
      jindu validate 乐平镇台帐.xlsx --annotate
    """
    from ..errors import UsageError
    from ..findings import has_errors
    from ..outputs.annotate import is_annotated_copy
    from ..run import Check, Run
    from ..workspace import find_workspace

    FORMATS.check(fmt)
    if annotate and not inputs and Path(annotate).is_file() and not is_annotated_copy(Path(annotate)):
        raise UsageError(f"「{shown(annotate)}」跟在 --annotate 后面，被当作标注副本的文件名，而没有给要校验的台帐；"
                         f"要校验它并把副本写在旁边，请写：{command('jindu', 'validate', annotate, '--annotate')}")
    key = common.password_source(password)
    # person state is judged on the window's last day (default: the ledgers' latest date)
    run = Run.open(inputs, None, key, period, find_workspace() if not inputs else None, check=Check.JUDGE,
                   require=False, with_catalog=False)
    if annotate is not None:
        write_copies(run.paths, run.findings, annotate, key)
    if fmt == "json":
        from .terminal import write_json

        write_json(render_json(run.ledgers, run.findings, show_pii) + "\n")
    else:
        from .terminal import Out

        render_table(run.ledgers, run.findings, show_pii, Out())
    raise typer.Exit(1 if has_errors(run.findings) else 0)


def write_copies(paths, findings, annotate: str, password=None) -> None:
    """One annotated copy per input file (annotate.py), each checked before any is written; names on stderr."""
    from ..ledgers import expand_inputs
    from ..outputs.annotate import check_target, plan_targets, write_annotated

    files = expand_inputs(paths)
    plan = plan_targets(files, annotate)
    for _, _, target in plan:
        check_target(target, [p for p, _ in files])
    for path, label, target in plan:
        write_annotated(path, label, findings, target, password)
        common.err(f"已写出标注副本：{shown(target)}")


def render_json(ledgers, findings, show_pii: bool) -> str:
    from ..findings import summarize
    from ..outputs import json_text
    from ..privacy import Names, mask_place

    summary = summarize(findings)
    names = Names.of(ledgers)
    summary["files"] = [mask_place(f, show_pii, names) for f in ledgers.files]
    summary["sheets"] = [{"file": mask_place(s.file, show_pii, names), "sheet": mask_place(s.sheet, show_pii, names),
                          "kind": s.kind, "rows": s.rows} for s in ledgers.sheets]
    doc = {"findings": [f.to_dict(show_pii, names) for f in findings], "summary": summary}
    return json_text(doc).rstrip("\n")


def render_table(ledgers, findings, show_pii: bool, out) -> None:
    """The sheets read, then the findings as one table per sheet, laid out for `out` (a terminal.Out)."""
    from .. import schema
    from ..findings import ERROR, WARNING, summarize
    from ..privacy import Names, mask_place
    from .tables import TEXT, Column, Table, print_table

    names = Names.of(ledgers)

    def place(text):  # a file or sheet name: a person in it masked, control characters shown escaped
        return shown(mask_place(text, show_pii, names)) if text else text

    kinds = {s.kind and (s.file, s.sheet): s.kind for s in ledgers.sheets}
    for s in ledgers.sheets:
        label = schema.KINDS[s.kind].name if s.kind else "未识别"
        out.print(f"读取：{place(s.file)} ｜ {place(s.sheet)} ｜ {label} ｜ {s.rows} 行")
    groups: dict[tuple, list] = {}
    skipped: dict[str, list] = {}  # sheets that are no ledger: one short table per file, not one each
    for f in findings:
        if f.code == "sheet_unrecognized":
            skipped.setdefault(f.file, []).append(f)
        else:
            groups.setdefault((f.file, f.sheet or ""), []).append(f)
    for file, items in skipped.items():
        table = Table([Column("工作表", role=TEXT), Column("原因", role=TEXT)],
                      title=f"{place(file)} ｜ 未识别的工作表（已跳过；如为台帐，请检查表头列名）")
        for f in items:
            table.add_row(place(f.sheet) or "", f.detail or "")
        print_table(table, out)
    columns = [Column("行", "right"), Column("列", role=TEXT), Column("级别", marks={ERROR: "red", WARNING: "yellow"}), Column("值", role=TEXT),
               Column("说明", role=TEXT)]
    for (file, sheet), items in groups.items():
        kind = kinds.get((file, sheet))
        title = f"{place(file)} ｜ {place(sheet) or '（整个文件）'}" + (f"（{schema.KINDS[kind].name}）" if kind else "")
        table = Table(columns, title=title)
        for f in items:
            d = f.to_dict(show_pii, names)
            table.add_row(str(f.row or ""), f.column_label, f.severity, d["value"] or "", d["message"])
        print_table(table, out)
    s = summarize(findings)
    line = f"共 {s['错误']} 个错误、{s['警告']} 个警告"
    if s["提示"]:
        line += f"、{s['提示']} 条提示"
    out.print(line + ("。" if findings else "，台帐未发现问题。"))
    out.flush()
