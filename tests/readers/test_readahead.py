"""Reading ahead (the CLI starts parsing the workbook before it processes its options) changes nothing but
time: the same frames and findings; a changed file is read again; a reading not taken up is closed."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pandas as pd
import pytest
from builders import PERSON_HEADER, person_rows, write_xlsx
from typer.main import get_command

from jindu_metrics import ledgers
from jindu_metrics.cli import app, readahead
from jindu_metrics.errors import InputError
from jindu_metrics.ledgers import load_ledgers, read_ahead

SAMPLE = Path(__file__).resolve().parents[2] / "sample_ledgers" / "乐平镇台帐.xlsx"


def reading_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(("jindu-read", "jindu-merged"))]


def assert_same(a, b):
    assert [f.to_dict(True) for f in a.findings] == [f.to_dict(True) for f in b.findings]
    assert a.sheets == b.sheets
    for kind, df in a.frames.items():
        pd.testing.assert_frame_equal(df, b.frames[kind], check_exact=True)


@pytest.mark.parametrize(("args", "expected"), [
    (["compute", "a.xlsx", "-f", "json", "--period", "2018", "b"], ["a.xlsx", "b"]),
    (["compute", "--format=json", "-p2018", "a.xlsx"], ["a.xlsx"]),
    (["explain", "送戒率", "x.xlsx", "-u", "乐平镇", "--show-pii"], ["x.xlsx"]),  # 指标 comes first
    (["--debug", "validate", "x.xlsx"], ["x.xlsx"]),
    (["report", "--period", "2018-10", "-o", "通报.docx"], []),  # none named: the workspace's
    (["compute", "--", "-x.xlsx"], ["-x.xlsx"]),
    (["compute", "-h", "x.xlsx"], None),  # help reads nothing
    (["batch", "x.xlsx"], None),  # its workers read, in processes of their own
    (["metrics"], None),
    ([], None),
])
def test_input_tokens_follow_the_commands_declarations(args, expected):
    assert readahead.input_tokens(get_command(app), args) == expected


def test_read_ahead_reads_the_same():
    assert read_ahead([SAMPLE]) and ledgers._AHEAD
    ahead = load_ledgers([SAMPLE])
    assert not ledgers._AHEAD and not reading_threads()
    assert_same(ahead, load_ledgers([SAMPLE]))


def test_a_file_changed_after_read_ahead_is_read_again(tmp_path):
    target = tmp_path / "台帐.xlsx"
    shutil.copy(SAMPLE, target)
    assert read_ahead([target])
    rows = [PERSON_HEADER] + person_rows()
    write_xlsx(tmp_path / "other.xlsx", {"吸毒人员": rows})
    os.replace(tmp_path / "other.xlsx", target)
    got = load_ledgers([target])
    assert sum(s.rows for s in got.sheets) == len(rows) - 1  # the new content, not the sample's
    assert not ledgers._AHEAD and not reading_threads()


def test_a_reading_of_another_file_is_closed(tmp_path):
    other = write_xlsx(tmp_path / "other.xlsx", {"吸毒人员": [PERSON_HEADER] + person_rows()})
    assert read_ahead([SAMPLE])
    load_ledgers([other])
    assert not ledgers._AHEAD and not reading_threads()


def test_unreadable_file_is_left_to_load_ledgers(tmp_path):
    bad = tmp_path / "坏.xlsx"
    bad.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    assert read_ahead([bad]) is False and not ledgers._AHEAD
    with pytest.raises(InputError) as exc:
        load_ledgers([bad])
    assert "坏.xlsx" in str(exc.value)


def test_cli_usage_error_closes_the_reading(jindu):
    code, _, err = jindu(["compute", str(SAMPLE), "--no-such-option"])
    assert code == 2 and "没有这个选项" in err
    assert not ledgers._AHEAD and not reading_threads()


def test_cli_in_a_workspace_reads_ahead_its_ledger_folder(jindu, tmp_path, monkeypatch):
    code, _, _ = jindu(["init", str(tmp_path / "ws"), "--unit", "乐平镇"])
    assert code == 0
    folder = tmp_path / "ws" / "台帐"
    shutil.copy(SAMPLE, folder / SAMPLE.name)
    monkeypatch.chdir(tmp_path / "ws")
    started = []
    real = ledgers.read_ahead
    monkeypatch.setattr(ledgers, "read_ahead", lambda paths: started.append(paths) or real(paths))
    code, out, err = jindu(["compute", "--period", "2018-01..2018-10", "--format", "json"])
    assert code in (0, 1), err
    assert [[Path(x).resolve() for x in paths] for paths in started] == [[folder.resolve()]]
    assert '"24.49%"' in out
    assert not ledgers._AHEAD and not reading_threads()


def test_the_one_entry_closes_a_reading_the_command_did_not_take_up():
    with readahead.reading(get_command(app), ["compute", str(SAMPLE)]) as started:
        assert started and ledgers._AHEAD
    assert not ledgers._AHEAD and not reading_threads()
    with readahead.reading(get_command(app), ["metrics"]) as started:
        assert not started and not ledgers._AHEAD
