"""`jindu init`: a new workspace with jindu.toml and a blank ledger workbook."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import shown
from . import chinese
from .common import echo
from .root import app

LEDGER_FOLDER = "台帐"
LEDGER_FILE = "台帐.xlsx"


@app.command("init", cls=chinese.Command)
def init(
    folder: Annotated[Path, typer.Argument(help="要新建的工作区文件夹（不存在时自动创建）。", show_default=False,
                                              metavar="文件夹")],
    unit: Annotated[Optional[str], typer.Option("--unit", help="本单位名称（所属镇街），如 乐平镇。",
                                                show_default=False)] = None,
    level: Annotated[str, typer.Option("--level", help="层级：镇街 / 县区 / 县 / 区 / 市 / 村居。")] = "镇街",
    office: Annotated[Optional[str], typer.Option("--office", help="落款单位，默认为“<单位>禁毒委员会办公室”。",
                                                  show_default=False)] = None,
) -> None:
    """新建工作区：写入 jindu.toml 配置和一个空白台帐工作簿（表头、下拉选项、日期和身份证格式都已设好）。

    示例：
      jindu init 乐平镇禁毒办 --unit 乐平镇
    """
    from ..errors import UsageError
    from ..outputs.template import write_template
    from ..workspace import CONFIG_NAME, LEVELS, write_config

    if level not in LEVELS:
        raise UsageError(f"层级「{level}」无效，可选：{'、'.join(LEVELS)}")
    for option, value in (("--unit", unit), ("--office", office)):
        if value is not None and (not value.strip() or any(ord(c) < 32 or ord(c) == 127 for c in value)):
            raise UsageError(f"{option} 的名称「{value!r}」无效：不能为空，也不能含换行、制表符等控制字符。")
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"「{shown(folder)}」已存在且不是文件夹。")
    config = folder / CONFIG_NAME
    workbook = folder / LEDGER_FOLDER / LEDGER_FILE
    if config.exists():
        raise UsageError(f"「{shown(config)}」已存在：该文件夹已是工作区，为避免覆盖现有配置，未做任何修改。")
    if workbook.exists():
        raise UsageError(f"「{shown(workbook)}」已存在：为避免覆盖已录入的台帐，未做任何修改。")
    if office is None and unit:
        office = f"{unit}禁毒委员会办公室"
    folder.mkdir(parents=True, exist_ok=True)
    write_template(workbook)
    write_config(folder, unit, level, office)
    echo(f"已创建工作区「{shown(folder)}」：")
    echo(f"  配置文件　{config}")
    echo(f"  空白台帐　{workbook}")
    echo("请在空白台帐中录入数据，然后在该文件夹中运行 jindu validate 检查、jindu compute 计算指标。")
    raise typer.Exit(0)
