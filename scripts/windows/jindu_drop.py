"""What the Windows zip's .cmd launchers do (shipped as python/jindu_drop.py; the .cmd files stay ASCII).

    python jindu_drop.py township 台帐文件或文件夹...   拖入台帐.cmd: validate --annotate, compute xlsx, report docx
    python jindu_drop.py county 县区台帐文件夹...       拖入县区台帐.cmd: batch --format docx
    python jindu_drop.py path-add | path-remove         添加到PATH.cmd / 从PATH移除.cmd (current user only)

Each jindu step runs as `python -m jindu_metrics ...` with the period 最近整月 and writes into a folder beside
the (first) input, which is then opened in Explorer. Exit 0 when all went through, 1 when the ledgers have
problems (the outputs are still written), 2 when a step could not run: the .cmd then waits for a key.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent  # the zip's python/ folder
HOME = HERE.parent  # the zip's top folder, holding jindu.cmd
WAIT = "按任意键关闭窗口……"


def say(text: str = "") -> None:
    print(text, flush=True)


def jindu(*args) -> int:
    """One jindu command with this Python; its output goes straight to the window."""
    return subprocess.run([sys.executable, "-m", "jindu_metrics", *map(str, args)]).returncode


def out_folder(first: Path, suffix: str) -> Path:
    """A folder beside the input: 乐平镇台帐.xlsx → 乐平镇台帐_jindu结果, 台帐\\ → 台帐_jindu结果."""
    base = first.stem if first.is_file() else first.name
    return first.parent / f"{base or 'jindu'}_{suffix}"


def inputs(args: list[str]) -> tuple[list[Path], str]:
    """(the dropped paths, made absolute; what is wrong with them, or "")."""
    paths = [Path(os.path.abspath(a.strip('"'))) for a in args if a.strip('"')]
    if not paths:
        return paths, "没有收到台帐。请把台帐文件（xlsx/xls/csv 等）或存放台帐的文件夹拖到本文件的图标上松开，不要双击运行。"
    missing = [str(p) for p in paths if not p.exists()]
    return paths, "找不到：" + "、".join(missing) if missing else ""


def township(args: list[str]) -> int:
    paths, wrong = inputs(args)
    if wrong:
        return stop(wrong)
    out = out_folder(paths[0], "jindu结果")
    out.mkdir(exist_ok=True)
    say(f"结果写在：{out}")
    say("\n【1/3】校验台帐，另存标出问题的副本（原文件不改）")
    single = len(paths) == 1 and paths[0].is_file()
    copy = out / f"{paths[0].stem}_问题标注.xlsx" if single else out
    checked = jindu("validate", *paths, "--period", "最近整月", "--annotate", copy)
    if checked >= 2:
        return stop("台帐无法读取，未计算指标。请按上面的说明修改后重新拖入。")
    say("\n【2/3】计算考评指标（最近整月：当年1月至最近一个已结束的月份）")
    if jindu("compute", *paths, "--period", "最近整月", "--format", "xlsx", "--output", out / "指标.xlsx") >= 2:
        return stop("指标未能计算。")
    say("\n【3/3】生成通报（Word 文档）")
    if jindu("report", *paths, "--period", "最近整月", "--format", "docx", "--output", out / "通报.docx") >= 2:
        return stop("通报未能生成。")
    return finish(out, checked)


def county(args: list[str]) -> int:
    paths, wrong = inputs(args)
    if wrong:
        return stop(wrong)
    out = out_folder(paths[0], "jindu汇总")
    say(f"结果写在：{out}")
    code = jindu("batch", *paths, "--period", "最近整月", "--format", "docx", "--out", out)
    if code >= 2 or not out.is_dir():
        return stop("县区汇总未能完成。")
    return finish(out, code)


def finish(out: Path, code: int) -> int:
    say(f"\n完成，结果在：{out}")
    if code:
        say("台帐有需要核对的问题（见上面的清单和“问题标注”副本），指标已按可用的数据计算。")
        say(WAIT)
    open_folder(out)
    return 1 if code else 0


def stop(text: str) -> int:
    say(f"\n出错了：{text}")
    say(WAIT)
    return 2


def open_folder(folder: Path) -> None:
    if hasattr(os, "startfile"):
        try:
            os.startfile(folder)  # Explorer
        except OSError:
            say(f"请自行打开文件夹：{folder}")


# ---- PATH (current user, no administrator) -------------------------------------------------------------

def user_path_entries(value: str) -> list[str]:
    return [p for p in value.split(";") if p]


def with_home(value: str, home: str, add: bool) -> str | None:
    """The user's PATH with `home` added at the end or removed; None when there is nothing to change."""
    entries = user_path_entries(value)
    same = [p for p in entries if os.path.normcase(p.rstrip("\\/")) == os.path.normcase(home.rstrip("\\/"))]
    if add:
        return None if same else ";".join(entries + [home])
    return ";".join(p for p in entries if p not in same) if same else None


def change_path(add: bool) -> int:
    try:
        import winreg
    except ImportError:
        return stop("只能在 Windows 上修改 PATH。")
    home = str(HOME)
    with winreg.OpenKey(winreg.HKEY_CURRENT_USER, "Environment", 0,
                        winreg.KEY_READ | winreg.KEY_WRITE) as key:
        try:
            value, kind = winreg.QueryValueEx(key, "Path")
        except FileNotFoundError:
            value, kind = "", winreg.REG_EXPAND_SZ
        new = with_home(value, home, add)
        if new is None:
            say(f"PATH 中{'已有' if add else '没有'}：{home}，无需修改。")
        else:
            winreg.SetValueEx(key, "Path", 0, kind if kind in (winreg.REG_SZ, winreg.REG_EXPAND_SZ)
                              else winreg.REG_EXPAND_SZ, new)
            _broadcast()
            say(f"已{'加入' if add else '移除'}当前用户的 PATH：{home}")
            if add:
                say("新打开的命令提示符窗口中即可直接输入 jindu（如 jindu --help）。移动本文件夹后请重新运行。")
    say(WAIT)
    return 0


def _broadcast() -> None:
    """WM_SETTINGCHANGE "Environment": Explorer passes the new PATH to the consoles it starts from now on."""
    import ctypes

    result = ctypes.c_ulong()
    ctypes.windll.user32.SendMessageTimeoutW(0xFFFF, 0x001A, 0, "Environment", 0x0002, 2000,
                                             ctypes.byref(result))


def main(argv: list[str]) -> int:
    for stream in (sys.stdout, sys.stderr):  # a pipe in a code page without Chinese: never a traceback
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    mode, args = (argv[0], argv[1:]) if argv else ("", [])
    try:
        if mode == "township":
            return township(args)
        if mode == "county":
            return county(args)
        if mode in ("path-add", "path-remove"):
            return change_path(mode == "path-add")
        return stop(f"未知的用法：{mode}")
    except KeyboardInterrupt:
        return stop("已中断。")
    except Exception as exc:  # noqa: BLE001 - the window must say it in Chinese and wait, whatever it was
        return stop(f"{type(exc).__name__}：{exc}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
