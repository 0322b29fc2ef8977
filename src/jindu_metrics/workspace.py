"""Workspaces made by `jindu init`: a folder with `jindu.toml` and a ledger folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError, UsageError

CONFIG_NAME = "jindu.toml"
LEVELS = {"镇街": "全镇", "县区": "全区", "县": "全县", "区": "全区", "市": "全市", "村居": "全村"}

_KEYS = {
    "unit": str, "level": str, "office": str, "ledgers": str, "catalog": str, "template": str,
    "county_template": str, "targets": dict, "scoring": str, "started": dict,
}


class Targets(dict):
    """[workspace.targets] (metric id or 名称 -> target text), remembering the file and line of each entry so a
    bad one is reported where it is written."""

    def __init__(self, items=(), file: str | None = None, lines: dict | None = None):
        super().__init__(items)
        self.file = file
        self.lines = dict(lines or {})

    def error(self, message: str, key: str) -> ConfigError:
        return ConfigError(message, file=self.file, row=self.lines.get(key))


@dataclass
class Workspace:
    root: Path
    unit: str | None = None
    level: str = "镇街"  # 镇街 / 县区 / 县 / 市
    office: str | None = None  # e.g. 乐平镇禁毒委员会办公室
    ledgers: Path | None = None
    catalog: Path | None = None
    template: Path | None = None
    county_template: Path | None = None  # 全县通报's template (jindu batch)
    scoring: Path | None = None
    targets: dict = field(default_factory=dict)  # metric id or 名称 -> target text ("95%")
    # ledger kind id -> the day the office began keeping it ([workspace.started]): comparisons from then on
    started: dict = field(default_factory=dict)

    @property
    def scope_word(self) -> str:
        """全镇 / 全区 / 全县 as bulletins say it."""
        return LEVELS.get(self.level, "全镇")


def find_workspace(start: Path | None = None) -> Workspace | None:
    """The workspace containing `start` (default: the current folder), or None."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        cfg = folder / CONFIG_NAME
        if cfg.is_file():
            return load_workspace(cfg)
    return None


def load_workspace(cfg: Path) -> Workspace:
    """Read jindu.toml strictly: unknown keys or tables, wrong types and unknown levels → ConfigError naming
    the line (the file may come from another office)."""

    from . import tomlread

    _, data, loc = tomlread.read(cfg, "工作区配置", "workspace")

    def fail(message: str, key: str, index: int | None = 0) -> ConfigError:
        return loc.error(message, index, key)

    if "workspace" in data:
        for key in data:
            if key != "workspace":
                raise fail(f"未知的配置节「{key}」，配置都写在 [workspace] 下", key, None)
    section = data.get("workspace", data)
    for key, value in section.items():
        if key not in _KEYS:
            raise fail(f"未知的配置项「{key}」，允许的配置项：{'、'.join(_KEYS)}", key)
        if not isinstance(value, _KEYS[key]):
            raise fail(f"配置项「{key}」的类型不对", key)
    if section.get("level", "镇街") not in LEVELS:
        raise fail(f"层级「{section['level']}」无效，可选：{'、'.join(LEVELS)}", "level")
    for name, target in section.get("targets", {}).items():
        if isinstance(target, bool) or not isinstance(target, (str, int, float)):
            raise fail(f"目标值「{name}」应为文字（如 \"95%\"）或数字", name)
    started = _started(section.get("started", {}), fail)
    root = cfg.parent

    def path(key: str) -> Path | None:
        v = section.get(key)
        return (root / v) if v else None

    return Workspace(
        root=root,
        unit=section.get("unit"),
        level=section.get("level", "镇街"),
        office=section.get("office"),
        ledgers=path("ledgers"),
        catalog=path("catalog"),
        template=path("template"),
        county_template=path("county_template"),
        scoring=path("scoring"),
        targets=Targets(section.get("targets", {}), str(cfg),
                        {k: loc.line(0, "targets", k) for k in section.get("targets", {})}),
        started=started,
    )


def _started(table: dict, fail) -> dict:
    """[workspace.started]: 台帐名称（或编号）= 开始记录的日期 (a TOML date or "2016-01-01") → {kind id: date}."""
    import datetime as dt

    from . import schema

    by_name = {k.name: k.id for k in schema.KINDS.values()} | {k: k for k in schema.KINDS}
    out = {}
    for name, value in table.items():
        kind = by_name.get(str(name).strip())
        if kind is None or kind == "units":
            names = "、".join(k.name for k in schema.KINDS.values() if k.id != "units")
            raise fail(f"[workspace.started] 中的「{name}」不是台帐名称，可写：{names}", name)
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value.strip())
            except ValueError:
                raise fail(f"「{name}」的开始日期「{value}」应写成 2016-01-01 这样的日期", name) from None
        if isinstance(value, dt.datetime):
            value = value.date()
        if not isinstance(value, dt.date):
            raise fail(f"「{name}」的开始日期应写成 2016-01-01 这样的日期", name)
        out[kind] = value
    return out


def resolve_inputs(inputs: list[Path] | None, workspace: Workspace | None) -> list[Path]:
    """The files or folders to read: the given ones, else the workspace's ledger folder."""
    if inputs:
        return list(inputs)
    if workspace and workspace.ledgers:
        return [workspace.ledgers]
    raise UsageError("请指定台帐文件或文件夹，或在 jindu init 创建的工作区内运行。")


def write_config(root: Path, unit: str | None, level: str, office: str | None) -> Path:
    """Write a commented jindu.toml for a new workspace."""
    def q(s: str | None) -> str:
        """A TOML basic string: backslash, quote and every control character escaped."""
        out = []
        for c in s or "":
            if c in '"\\':
                out.append("\\" + c)
            elif ord(c) < 32 or ord(c) == 127:
                out.append(f"\\u{ord(c):04x}")
            else:
                out.append(c)
        return '"' + "".join(out) + '"'

    text = f"""# jindu 工作区配置。修改后直接生效。
[workspace]
unit = {q(unit)}              # 本单位名称（所属镇街），如 乐平镇
level = {q(level)}            # 层级：镇街 / 县区 / 县 / 市（决定通报中说“全镇”还是“全区”）
office = {q(office)}          # 落款单位，如 乐平镇禁毒委员会办公室
ledgers = "台帐"              # 台帐文件夹（相对本文件）
# catalog = "指标目录.toml"   # 本单位的指标目录（覆盖或补充默认目录）
# template = "通报模板.txt.j2" # 本单位的通报模板
# county_template = "全县通报模板.md.j2" # 县区的全县通报模板（jindu batch 使用）
# scoring = "考评方案.toml"   # 县区考评方案（jindu batch 使用）

[workspace.targets]           # 覆盖默认目标值（指标名称或编号 = 目标），如：
# "纳入率" = "95%"

[workspace.started]           # 各本台帐从哪天开始记录（可不写；写了，环比、同比、基准年对比从这天起都有），如：
# "查处台帐" = 2016-01-01
"""
    import tomllib

    section = tomllib.loads(text)["workspace"]  # what jindu will read back must be what was given
    if (section["unit"], section["office"]) != (unit or "", office or ""):
        raise UsageError("单位名称或落款无法写入配置文件，请去掉其中的特殊字符。")
    path = root / CONFIG_NAME
    from .outputs import atomic_write_text

    atomic_write_text(path, text)
    return path
