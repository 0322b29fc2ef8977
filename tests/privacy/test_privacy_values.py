"""Masking by what a value is (issue 14): an ID or a name typed into another column (a column shift) is
masked in every output — validate table/json, explain, batch summary.json and 汇总.xlsx 数据问题, stderr —
unless --show-pii; and a property: masked text never contains a valid ID of the input."""

from __future__ import annotations

import datetime as dt
import json
import zipfile

from builders import ID_A, ID_B, ID_C, PERSON_HEADER, person_rows, write_xlsx
from conftest import run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from jindu_metrics.ledgers.ids import check_digit, make_id
from jindu_metrics.metrics.explain import ExplainRow
from jindu_metrics.privacy import Names, mask_text, mask_value

SEIZURE_HEADER = ["查处日期", "公民身份号码", "姓名", "所属村居", "处置结果"]


def _shifted(tmp_path):
    """A ledger where 人员状态 holds an ID, 人员类别 holds a name and 处置结果 holds both."""
    rows = person_rows()
    rows[2][6] = ID_A  # 王五's 人员状态: 张三's ID
    rows[2][4] = "李四"  # 王五's 人员类别: a name
    seizures = [SEIZURE_HEADER, [dt.datetime(2018, 10, 5), ID_A, "张三", "乐平村", f"王五 {ID_B}"]]
    return write_xlsx(tmp_path / "乐平镇台帐.xlsx", {"吸毒人员": [PERSON_HEADER, *rows], "查处": seizures})


def _leaks(text: str) -> list[str]:
    return [s for s in (ID_A, ID_B, ID_C, "李四", "王五") if s in text]


def test_validate_masks_shifted_values(tmp_path):
    path = _shifted(tmp_path)
    for fmt in ("table", "json"):
        code, out, err = run_cli(["validate", path, "--format", fmt])
        assert code == 1, err
        assert "取值不在允许范围" in out
        assert _leaks(out + err) == [], fmt
        assert "440607********" in out and "李*" in out and "王*" in out
    code, out, _ = run_cli(["validate", path, "--format", "json", "--show-pii"])
    values = {f["value"] for f in json.loads(out)["findings"]}
    assert ID_A in values and "李四" in values and f"王五 {ID_B}" in values


def test_batch_masks_shifted_values(tmp_path):
    src = tmp_path / "各镇"
    src.mkdir()
    _shifted(src)
    out = tmp_path / "汇总"
    code, stdout, err = run_cli(["batch", src, "--period", "2018-01..2018-10", "--out", out])
    assert code in (0, 1), err
    summary = (out / "summary.json").read_text(encoding="utf-8")
    assert "取值不在允许范围" in summary  # the findings are there, masked
    assert _leaks(summary) == []
    with zipfile.ZipFile(out / "汇总.xlsx") as z:
        xml = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
    assert "440607********" in xml
    assert _leaks(xml) == []
    assert _leaks(stdout + err) == []


def test_explain_row_masks_every_value():
    names = Names(["张三", "李四"])
    row = ExplainRow("a.xlsx", "s", 3, ID_A, "张三", {"所属村居": f"李四{ID_B}", "人员状态": "社会面"})
    d = row.to_dict(False, names)
    assert _leaks(json.dumps(d, ensure_ascii=False)) == [] and "张三" not in json.dumps(d, ensure_ascii=False)
    assert d["values"]["人员状态"] == "社会面"
    assert row.to_dict(True, names)["values"]["所属村居"] == f"李四{ID_B}"


def test_explain_cli_masks_names_and_ids(tmp_path):
    path = _shifted(tmp_path)
    code, out, err = run_cli(["explain", "纳入率", path, "--period", "2018-01..2018-10", "--format", "json"])
    assert code in (0, 1), err
    assert _leaks(out + err) == []


def test_stderr_masks_an_id_in_an_error():
    import contextlib
    import io

    from jindu_metrics.cli import common

    buf = io.StringIO()
    with contextlib.redirect_stderr(buf):
        common.err(f"错误：无法处理「{ID_C}」")
    assert ID_C not in buf.getvalue() and ID_C[:6] + "********" in buf.getvalue()


def test_mask_value_by_column_and_by_content():
    names = Names(["欧阳修文", "欧阳"])
    assert mask_value("公民身份号码", ID_A) == ID_A[:6] + "********" + ID_A[-4:]
    assert mask_value("备注", f"见欧阳修文（{ID_A}）", names=names) == f"见欧***（{ID_A[:6]}********{ID_A[-4:]}）"
    assert mask_value("备注", "社会面", names=names) == "社会面"
    assert mask_value("备注", ID_A, show_pii=True, names=names) == ID_A
    assert mask_text("４４０６０７１９８５０３１２０１１Ｘ") != "４４０６０７１９８５０３１２０１１Ｘ"  # full-width digits


# ---- property: whatever surrounds them, the valid IDs of a text never survive masking

_valid18 = st.builds(lambda a, y, m, d, s: make_id(a, f"{y}{m:02d}{d:02d}", s),
                     st.sampled_from(["440607", "110101", "510104"]), st.integers(1930, 2010),
                     st.integers(1, 12), st.integers(1, 28), st.integers(0, 999))
_valid15 = _valid18.map(lambda i: i[:6] + i[8:17])
_noise = st.text(alphabet="0123456789Xx -_/：张三李四村（）ab", max_size=8)


def _valid_ids(s: str) -> set[str]:
    found = set()
    for i in range(len(s)):
        a = s[i:i + 18]
        if len(a) == 18 and a[:17].isdigit() and a[:17].isascii() and a[17].upper() == check_digit(a[:17]):
            found.add(a)
        b = s[i:i + 15]
        if len(b) == 15 and b.isdigit() and b.isascii():
            found.add(b)
    return found


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_valid18, _valid15, _noise), min_size=1, max_size=6))
def test_masked_text_never_holds_a_valid_id(parts):
    s = "".join(parts)
    ids = _valid_ids(s)
    masked = mask_text(s, Names(["张三"]))
    for i in ids:
        assert i not in masked
    for col in ("备注", "公民身份号码", "所属村居"):
        out = mask_value(col, s, names=Names(["张三"]))
        assert not _valid_ids(out) & ids


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="张三李四王欧阳修文", min_size=1, max_size=4), max_size=6),
       st.text(alphabet="张三李四王欧阳修文的人员状态", max_size=40))
def test_name_scan_masks_what_a_plain_longest_first_scan_masks(names, text):
    """Names.mask skips positions no name starts with; it masks exactly what a regex of the names, longest
    first at each position, masks."""
    import re

    from jindu_metrics.privacy import mask_name

    known = sorted({n for n in names if len(n) >= 2}, key=len, reverse=True)
    want = re.sub("|".join(map(re.escape, known)), lambda m: mask_name(m.group(0)), text) if known else text
    assert Names(names).mask(text) == (want if len(text) >= 2 else text)


# ---- IDs written in groups (issue 29): masked wherever masking applies

_SEPARATED = [" ", "-", ".", "\u200b", "\u00a0", "\u3000", " - "]


def _grouped(i: str, sep: str, sizes=(4, 4, 4, 4, 2)) -> str:
    out, k = [], 0
    for n in sizes:
        out.append(i[k:k + n])
        k += n
    return sep.join(out)


def _batch_outputs(src, tmp_path) -> tuple[str, str, str]:
    """summary.json, the XML of 汇总.xlsx and what the console showed, of `jindu batch` on folder `src`."""
    code, out, err = run_cli(["batch", src, "--period", "2018-01..2018-10", "--out", tmp_path / "汇总"])
    assert code in (0, 1), err
    summary = (tmp_path / "汇总" / "summary.json").read_text(encoding="utf-8")
    with zipfile.ZipFile(tmp_path / "汇总" / "汇总.xlsx") as z:
        xml = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
    return summary, xml, out + err


def test_ids_in_groups_are_masked_in_validate_summary_workbook_and_explain(tmp_path):
    rows = person_rows()
    rows[2][6] = _grouped(ID_A, " ")  # 王五's 人员状态: 张三's ID as written on a form: 4406 0719 …
    rows[1][4] = f"{ID_B[:6]}-{ID_B[6:14]}-{ID_B[14:]}"  # 李四's 人员类别: 442721-19670818-8135
    seizures = [SEIZURE_HEADER, [dt.datetime(2018, 10, 5), ID_A, "张三", "乐平村",
                                 "见" + _grouped(ID_C, "\u3000", (6, 8, 4))]]
    src = tmp_path / "各镇"
    src.mkdir()
    path = write_xlsx(src / "乐平镇台帐.xlsx", {"吸毒人员": [PERSON_HEADER, *rows], "查处": seizures})

    def leaks(text: str) -> list:
        flat = "".join(ch for ch in text if ch not in " -.\u200b\u00a0\u3000")
        return [i for i in (ID_A, ID_B, ID_C) if i in flat]

    code, out, err = run_cli(["validate", path, "--format", "json"])
    assert code == 1 and "取值不在允许范围" in out and leaks(out + err) == []
    assert ID_A[:6] + "********" + ID_A[-4:] in out and ID_B[:6] + "********" + ID_B[-4:] in out
    code, out, err = run_cli(["explain", "纳入率", path, "--period", "2018-01..2018-10", "--format", "json"])
    assert code in (0, 1) and leaks(out + err) == []
    summary, xml, shown = _batch_outputs(src, tmp_path)
    assert "取值不在允许范围" in summary and leaks(summary) == [] and leaks(shown) == []
    assert "440607********" in xml and leaks(xml) == []


@settings(max_examples=300, deadline=None)
@given(_valid18, st.sampled_from(_SEPARATED), st.sampled_from([(4, 4, 4, 4, 2), (6, 8, 4), (3, 3, 4, 4, 4)]),
       _noise, _noise)
def test_an_id_in_groups_never_survives_masking(i, sep, sizes, before, after):
    masked = mask_text(before + _grouped(i, sep, sizes) + after)
    assert i not in "".join(ch for ch in masked if ch not in "".join(_SEPARATED))


def test_file_and_sheet_names_holding_a_person_are_masked(tmp_path):
    """A township file named <ID><name>.xlsx with a sheet <name><ID> (issue 29): validate (table, json),
    explain's 文件 column, summary.json and 汇总.xlsx's 数据问题 show them masked."""
    rows = person_rows()
    rows[2][4] = "未知类别"  # one finding at least, in that sheet
    src = tmp_path / "各镇"
    src.mkdir()
    path = write_xlsx(src / f"{ID_C}王五.xlsx", {f"李四{ID_B}": [PERSON_HEADER, *rows]})

    def leaks(text: str) -> list:
        return [s for s in (ID_B, ID_C, "李四", "王五") if s in text]

    for fmt in ("table", "json"):
        code, out, err = run_cli(["validate", path, "--format", fmt])
        assert code == 1, err
        assert leaks(out + err) == [] and "440607********" in out, fmt
    code, out, _ = run_cli(["validate", path, "--format", "json", "--show-pii"])
    assert ID_C in out and f"李四{ID_B}" in out
    for fmt in ("text", "json"):
        code, out, err = run_cli(["explain", "纳入率", path, "--period", "2018-01..2018-10", "--format", fmt])
        assert code in (0, 1), err
        # (stderr's suggested `jindu validate <file>` names the file as it is: a command must find it)
        assert leaks(out) == [] and "王*" in out, fmt
    summary, xml, shown = _batch_outputs(src, tmp_path)
    assert "取值不在允许范围" in summary and leaks(summary) == []
    assert "取值不在允许范围" in xml and leaks(xml) == []
    assert leaks(shown) == []
