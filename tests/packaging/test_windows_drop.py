"""The Windows zip's drop helper (scripts/windows/jindu_drop.py) on any system: the steps it runs, where
it writes, what it says; its PATH edit as text. Under Wine it runs for real in test_windows_zip.py."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_ledgers" / "乐平镇台帐.xlsx"


@pytest.fixture
def drop(monkeypatch):
    spec = importlib.util.spec_from_file_location("jindu_drop", ROOT / "scripts" / "windows" / "jindu_drop.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.calls = []
    mod.codes = {}

    def fake(*args):
        mod.calls.append([str(a) for a in args])
        return mod.codes.get(args[0], 0)

    monkeypatch.setattr(mod, "jindu", fake)
    monkeypatch.setattr(mod, "open_folder", lambda folder: mod.calls.append(["open", str(folder)]))
    return mod


def test_township_runs_the_three_steps_beside_the_input(drop, tmp_path, capsys):
    ledger = tmp_path / "乐平镇台帐.xlsx"
    ledger.write_bytes(SAMPLE.read_bytes())
    assert drop.main(["township", str(ledger)]) == 0
    out = tmp_path / "乐平镇台帐_jindu结果"
    assert out.is_dir()
    assert drop.calls == [
        ["validate", str(ledger), "--period", "最近整月", "--annotate", str(out / "乐平镇台帐_问题标注.xlsx")],
        ["compute", str(ledger), "--period", "最近整月", "--format", "xlsx", "--output", str(out / "指标.xlsx")],
        ["report", str(ledger), "--period", "最近整月", "--format", "docx", "--output", str(out / "通报.docx")],
        ["open", str(out)],
    ]
    assert "按任意键" not in capsys.readouterr().out  # all well: the window closes by itself


def test_a_folder_gets_the_annotated_copies_in_the_result_folder(drop, tmp_path):
    (tmp_path / "台帐").mkdir()
    assert drop.main(["township", str(tmp_path / "台帐")]) == 0
    assert drop.calls[0][-1] == str(tmp_path / "台帐_jindu结果")


def test_findings_still_write_and_wait(drop, tmp_path, capsys):
    drop.codes["validate"] = 1
    assert drop.main(["township", str(SAMPLE.parent)]) == 1
    assert [c[0] for c in drop.calls] == ["validate", "compute", "report", "open"]
    assert "按任意键关闭窗口" in capsys.readouterr().out


def test_unreadable_ledgers_stop_in_chinese(drop, tmp_path, capsys):
    drop.codes["validate"] = 2
    f = tmp_path / "坏.xlsx"
    f.write_bytes(b"not a workbook")
    assert drop.main(["township", str(f)]) == 2
    assert [c[0] for c in drop.calls] == ["validate"]
    said = capsys.readouterr().out
    assert "出错了：台帐无法读取" in said and "按任意键关闭窗口" in said


@pytest.mark.parametrize("args,words", [([], "没有收到台帐"), (["/没有/这个.xlsx"], "找不到：")])
def test_no_or_missing_input(drop, args, words, capsys):
    assert drop.main(["township", *args]) == 2
    assert words in capsys.readouterr().out and not drop.calls


def test_county_runs_batch(drop, tmp_path):
    (tmp_path / "各镇街").mkdir()
    out = tmp_path / "各镇街_jindu汇总"
    out.mkdir()  # batch would make it
    assert drop.main(["county", str(tmp_path / "各镇街")]) == 0
    assert drop.calls[0] == ["batch", str(tmp_path / "各镇街"), "--period", "最近整月", "--format", "docx",
                             "--out", str(out)]


def test_path_edit(drop):
    home = r"C:\工具\jindu-0.1.0-win64"
    assert drop.with_home("", home, True) == home
    assert drop.with_home(r"C:\a;%USERPROFILE%\bin", home, True) == rf"C:\a;%USERPROFILE%\bin;{home}"
    assert drop.with_home(rf"C:\a;{home}\;", home, True) is None  # there already (trailing \ too)
    assert drop.with_home(rf"C:\a;{home};D:\b", home, False) == r"C:\a;D:\b"
    assert drop.with_home(r"C:\a", home, False) is None
