"""`jindu validate`: read the ledgers and report every finding (grouped by sheet), exit 0/1/2."""

from __future__ import annotations

from typing import Annotated

import typer

from . import app, chinese, common


@app.command("validate", cls=chinese.Command)
def validate_command(
    inputs: common.Inputs = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="输出格式：table（表格，默认）或 json。")] = "table",
    show_pii: common.ShowPii = False,
) -> None:
    """校验台帐：列出每个问题所在的文件、工作表、行、列及修改方法。无错误时退出码为 0，有错误为 1，文件无法读取为 2。

    示例：
      jindu validate 乐平镇台帐.xlsx
      jindu validate 台帐/ --format json
    """
    from ..errors import UsageError
    from ..findings import has_errors
    from ..ledgers import load_ledgers
    from ..validate import validate
    from ..workspace import find_workspace, resolve_inputs

    if fmt not in ("table", "json"):
        raise UsageError(f"不支持的输出格式「{fmt}」，可选：table、json")
    workspace = find_workspace() if not inputs else None
    paths = resolve_inputs(inputs, workspace)
    ledgers = load_ledgers(paths, unit=workspace.unit if workspace else None)
    findings = validate(ledgers)
    if fmt == "json":
        from .terminal import write_json

        write_json(render_json(ledgers, findings, show_pii) + "\n")
    else:
        from .terminal import Out

        render_table(ledgers, findings, show_pii, Out())
    raise typer.Exit(1 if has_errors(findings) else 0)


def render_json(ledgers, findings, show_pii: bool) -> str:
    import json

    from ..findings import summarize

    summary = summarize(findings)
    summary["files"] = ledgers.files
    summary["sheets"] = [{"file": s.file, "sheet": s.sheet, "kind": s.kind, "rows": s.rows} for s in ledgers.sheets]
    doc = {"findings": [f.to_dict(show_pii) for f in findings], "summary": summary}
    return json.dumps(doc, ensure_ascii=False, indent=2)


def render_table(ledgers, findings, show_pii: bool, out) -> None:
    """The sheets read, then the findings as one table per sheet, laid out for `out` (a terminal.Out)."""
    from .. import schema
    from ..findings import ERROR, WARNING, summarize
    from ..privacy import mask_value
    from .tables import TEXT, Column, Table, print_table

    kinds = {s.kind and (s.file, s.sheet): s.kind for s in ledgers.sheets}
    for s in ledgers.sheets:
        label = schema.KINDS[s.kind].name if s.kind else "未识别"
        out.print(f"读取：{s.file} ｜ {s.sheet} ｜ {label} ｜ {s.rows} 行")
    groups: dict[tuple, list] = {}
    skipped: dict[str, list] = {}  # sheets that are no ledger: one short table per file, not one each
    for f in findings:
        if f.code == "sheet_unrecognized":
            skipped.setdefault(f.file, []).append(f)
        else:
            groups.setdefault((f.file, f.sheet or ""), []).append(f)
    for file, items in skipped.items():
        table = Table([Column("工作表", role=TEXT), Column("原因", role=TEXT)],
                      title=f"{file} ｜ 未识别的工作表（已跳过；如为台帐，请检查表头列名）")
        for f in items:
            table.add_row(f.sheet or "", f.detail or "")
        print_table(table, out)
    columns = [Column("行", "right"), Column("列", role=TEXT), Column("级别", marks={ERROR: "red", WARNING: "yellow"}), Column("值", role=TEXT),
               Column("说明", role=TEXT)]
    for (file, sheet), items in groups.items():
        kind = kinds.get((file, sheet))
        title = f"{file} ｜ {sheet or '（整个文件）'}" + (f"（{schema.KINDS[kind].name}）" if kind else "")
        table = Table(columns, title=title)
        for f in items:
            table.add_row(str(f.row or ""), f.column or "", f.severity,
                          mask_value(f.column, f.value, show_pii) or "", f.message)
        print_table(table, out)
    s = summarize(findings)
    line = f"共 {s['错误']} 个错误、{s['警告']} 个警告"
    if s["提示"]:
        line += f"、{s['提示']} 条提示"
    out.print(line + ("。" if findings else "，台帐未发现问题。"))
    out.flush()
