"""Missing is not zero; no ledger, no figures; --strict (issue 13, points 3–5).

The acceptance: a workbook holding only the sample's 查处台帐. No indicator of another ledger may show or write
a 0 (or any figure) in any format: compute table/json/csv/xlsx, report txt/md/docx, batch outputs.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from jindu_metrics.metrics.catalog import load_catalog

SAMPLE = Path(__file__).resolve().parents[2] / "sample_ledgers" / "乐平镇台帐.xlsx"
CORPUS_NO_LEDGER = Path("/work/shared/corpus/calamine/any_sheets.xlsx")
CAT = load_catalog()
SHOWN = [i for i in CAT.indicators if i.show]
# every shown indicator that reads a ledger other than the 查处台帐: all of them must be missing
OTHERS = {i.id: i for i in SHOWN if set(i.ledgers) - {"seizures"}}
OWN = {i.id: i for i in SHOWN if set(i.ledgers) <= {"seizures"}}
# the bulletin's wording of figures from other ledgers: none may be followed by a number or a dash
STATED = re.compile(r"(纳入率|纳入网格化吸毒人员|走访管控率|走访|执行率|管控人数|配比为?|报到建档|社区康复人员共|LED|户外宣传"
                    r"|领导出席宣传活动|海报|资料|媒体采用|宣传活动|讲座|文艺汇演|受教育|万分比)\s*[—\d]")


def _only(sheets: list[str], dest: Path, town: str | None = None, empty: tuple[str, ...] = ()) -> Path:
    """The sample workbook with only `sheets` kept (and `empty` sheets cut to their header row)."""
    wb = openpyxl.load_workbook(SAMPLE)
    for name in list(wb.sheetnames):
        if name not in sheets and name not in empty:
            del wb[name]
    for name in empty:
        ws = wb[name]
        ws.delete_rows(2, ws.max_row)
    if town:
        for ws in wb.worksheets:
            head = [c.value for c in ws[1]]
            if "所属镇街" in head:
                col = head.index("所属镇街")
                for row in ws.iter_rows(min_row=2):
                    if row[col].value:
                        row[col].value = town
    dest.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dest)
    return dest


@pytest.fixture(scope="module")
def seizures_only(tmp_path_factory) -> Path:
    return _only(["查处台帐"], tmp_path_factory.mktemp("only") / "查处台帐.xlsx")


@pytest.fixture(scope="module")
def notes_only(tmp_path_factory) -> Path:
    """A 填表说明 workbook: text only, no ledger."""
    path = tmp_path_factory.mktemp("notes") / "填表说明.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "填表说明"
    for line in ("吸毒人员登记台帐填表说明", "1. 公民身份号码须填写18位。", "2. 日期按 2018-10-05 填写。"):
        ws.append([line])
    wb.save(path)
    return path


def _bulletin_states_no_other_figure(text: str) -> None:
    assert "无台帐" not in text and "None" not in text  # left out or marked, never printed as a value
    hit = STATED.search(text)
    assert hit is None, text[max(hit.start() - 30, 0):hit.end() + 10]
    assert "因未提供吸毒人员登记台帐，" in text  # and the bulletin says what was not given, and for which figures
    problems = text[text.index("三、存在问题"):text.index("四、下一步工作")]
    assert "未达到目标。" not in problems and "均已达到目标" not in problems  # neither unmet nor met
    assert "查处吸毒人员49人" in text and "刑拘查处比为24.49%" in text  # the 查处 figures stay


def _docx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        xml = z.read("word/document.xml").decode("utf-8")
    paras = re.findall(r"<w:p[ >].*?</w:p>", xml, flags=re.S)
    return "\n".join("".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", p)) for p in paras)


# ---------------------------------------------------------------- 3. no ledger, no figures
@pytest.mark.parametrize("which", ["corpus", "notes"])
def test_no_ledger_is_unusable_input(jindu, which, notes_only):
    path = CORPUS_NO_LEDGER if which == "corpus" else notes_only
    if not path.exists():
        pytest.fail(f"corpus file {path} is part of the acceptance and must exist")
    sheets = [ws.title for ws in openpyxl.load_workbook(path).worksheets if type(ws).__name__ == "Worksheet"]
    for args in (["compute", path, "--period", "2018"], ["compute", path], ["explain", "送戒率", path],
                 ["report", path, "--period", "2018-10"]):
        code, out, err = jindu(args)
        assert code == 2, (args, err)
        assert err.count("\n") == 1 and "没有找到任何台帐" in err and path.name in err
        assert all(f"「{s}」" in err for s in sheets)  # each sheet, and why it was skipped
        assert "未找到可识别的表头" in err or "工作表为空" in err
        assert out == ""
    code, out, _ = jindu(["validate", path, "--format", "json"])
    assert code == 1
    found = json.loads(out)["findings"]
    errors = [f for f in found if f["severity"] == "错误"]
    assert [f["code"] for f in errors] == ["no_ledger"] and path.name in errors[0]["file"]


def test_no_ledger_file_is_a_failed_unit_in_batch(jindu, notes_only, tmp_path):
    folder = tmp_path / "in"
    _only(["吸毒人员登记台帐", "查处台帐"], folder / "乐平镇.xlsx")
    (folder / "填表说明.xlsx").write_bytes(notes_only.read_bytes())
    code, _, err = jindu(["batch", folder, "--period", "2018-10", "--out", tmp_path / "out", "--jobs", "1"])
    assert code == 1
    assert "失败：填表说明.xlsx" in err and "没有找到任何台帐" in err
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    status = {u["file"]: u["status"] for u in summary["units"]}
    assert status == {"乐平镇.xlsx": "ok", "填表说明.xlsx": "failed"}


# ---------------------------------------------------------------- 4. missing is not zero
def test_every_format_of_compute_leaves_missing_figures_empty(jindu, seizures_only, tmp_path):
    period = ["--period", "2018-01..2018-10"]
    code, out, err = jindu(["compute", seizures_only, *period, "--format", "json"])
    assert code == 0
    assert "未找到的台帐：吸毒人员登记台帐、社区戒毒社区康复台帐、帮教管控台帐、禁毒宣传台帐、单位信息" in err
    rows = {r["metric"]: r for r in json.loads(out)["rows"]}
    assert set(rows) == set(OTHERS) | set(OWN)
    for mid, ind in OTHERS.items():
        r = rows[mid]
        assert (r["value"], r["numerator"], r["denominator"], r["met"], r["gap"], r["previous"], r["yoy"]) == \
            (None, None, None, None, None, None, None), mid
        assert r["display"] == "无台帐" and r["missing_ledger"] == ",".join(
            k for k in ("persons", "community", "contacts", "publicity", "units") if k in ind.ledgers), mid
        assert r["reason"].startswith("未提供"), mid
    assert rows["worker_ratio"]["missing_ledger"] == "persons,units"
    assert rows["visit_rate"]["missing_ledger"] == "persons,contacts"
    assert rows["seizures"]["value"] == 49 and rows["detention_ratio"]["display"] == "24.49%"
    assert all(rows[m]["missing_ledger"] is None for m in OWN)

    # csv: empty cells with the reason
    code, out, _ = jindu(["compute", seizures_only, *period, "--format", "csv"])
    recs = list(csv.DictReader(io.StringIO(out.lstrip("\ufeff"))))
    by = {r["指标代码"]: r for r in recs}
    for mid in OTHERS:
        r = by[mid]
        assert (r["分子"], r["分母"], r["数值"], r["差距"], r["达标"]) == ("", "", "", "", ""), mid
        assert r["显示值"] == "无台帐" and r["说明"].startswith("未提供"), mid
    assert by["seizures"]["显示值"] == "49" and by["seizures"]["说明"] == ""

    # xlsx: the same
    xlsx = tmp_path / "指标.xlsx"
    code, _, _ = jindu(["compute", seizures_only, *period, "--format", "xlsx", "--output", xlsx])
    assert code == 0
    ws = openpyxl.load_workbook(xlsx).active
    assert ws["A1"].value.startswith("乐平镇　统计期：2018年1-10月")  # the window in words first
    head = [c.value for c in ws[2]]
    for row in ws.iter_rows(min_row=3, values_only=True):
        r = dict(zip(head, row))
        if r["指标代码"] in OTHERS:
            assert all(r[k] in (None, "") for k in ("分子", "分母", "数值", "差距")), r
            assert r["显示值"] == "无台帐" and str(r["说明"]).startswith("未提供")

    # table: 无台帐 in the 数值 column, no number in any cell but the target
    code, out, _ = jindu(["compute", seizures_only, *period])
    assert code == 0
    seen = set()
    for ind in OTHERS.values():
        for line in out.splitlines():
            cells = [c.strip() for c in line.split("│")]
            if len(cells) > 2 and re.fullmatch(re.escape(ind.name) + r"(（.*）)?( \*)?", cells[1]):
                seen.add(ind.id)
                assert "无台帐" in cells, line
                assert not [c for c in cells[2:] if re.match(r"\d", c) and c != (ind.target or "")], line
    assert seen == set(OTHERS)
    assert "“无台帐”表示输入中没有该指标所需的台帐" in out


def test_bulletin_in_every_format_states_no_missing_figure(jindu, seizures_only, tmp_path):
    code, txt, _ = jindu(["report", seizures_only, "--period", "2018-10"])
    assert code == 0
    _bulletin_states_no_other_figure(txt)
    code, md, _ = jindu(["report", seizures_only, "--period", "2018-10", "--format", "md"])
    assert code == 0
    # the md villages table leaves out the columns whose ledger is missing; the text states no figure
    _bulletin_states_no_other_figure(md)
    assert re.search(r"^\| 东岚村 \| 2 \|$", md, flags=re.M)
    out = tmp_path / "通报.docx"
    code, _, _ = jindu(["report", seizures_only, "--period", "2018-10", "--format", "docx", "--output", out])
    assert code == 0
    _bulletin_states_no_other_figure(_docx_text(out))


def test_present_ledger_without_rows_is_a_real_zero(jindu, tmp_path):
    path = _only(["查处台帐"], tmp_path / "查处与空宣传.xlsx", empty=("禁毒宣传台帐",))
    code, out, err = jindu(["compute", path, "--period", "2018-01..2018-10", "--format", "json"])
    assert code == 0 and "禁毒宣传台帐" not in err
    rows = {r["metric"]: r for r in json.loads(out)["rows"]}
    assert rows["led_items"]["value"] == 0 and rows["led_items"]["missing_ledger"] is None
    assert rows["managed"]["missing_ledger"] == "persons"


def test_batch_outputs_hold_no_zero_for_a_missing_ledger(jindu, seizures_only, tmp_path):
    folder = tmp_path / "in"
    (folder / "乐平镇.xlsx").parent.mkdir(parents=True)
    (folder / "乐平镇.xlsx").write_bytes(SAMPLE.read_bytes())
    _only(["查处台帐"], folder / "东镇.xlsx", town="东镇")
    scheme = Path(__file__).resolve().parents[2] / "src" / "jindu_metrics" / "metrics" / "scoring_example.toml"
    out = tmp_path / "out"
    code, _, err = jindu(["batch", folder, "--period", "2018-10", "--out", out, "--jobs", "1", "--scoring", scheme])
    assert code == 0, err  # unmet targets do not change the exit code without --strict
    assert "未找到的台帐：吸毒人员登记台帐" in err
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    rows = {(r["unit"], r["metric"]): r for r in summary["rows"]}
    for mid in OTHERS:
        east = rows[("东镇", mid)]
        assert (east["value"], east["numerator"], east["rank"], east["display"]) == (None, None, None, "无台帐")
        assert rows[("乐平镇", mid)]["rank"] == 1  # ranked alone, not ahead of a false 0
        total = rows[("全县", mid)]
        assert total["excluded_units"] == ["东镇"]
        assert total["numerator"] == rows[("乐平镇", mid)]["numerator"]  # the total leaves 东镇 out
    assert rows[("全县", "seizures")]["numerator"] is not None and "excluded_units" not in rows[("全县", "seizures")]
    east = next(s for s in summary["scores"] if s["unit"] == "东镇")
    assert east["score"] == "—" and all(i["score"] == "—" for i in east["items"])  # not scored as 0
    assert set(east["excluded"]) == {i["metric"] for i in east["items"]}

    wb = openpyxl.load_workbook(out / "汇总.xlsx")
    ws = wb["指标汇总"]
    names = [ws.cell(3, c).value for c in range(1, ws.max_column + 1)]
    row_of = {ws.cell(r, 1).value: r for r in range(5, ws.max_row + 1)}
    for ind in OTHERS.values():
        c = names.index(ind.name) + 1
        assert ws.cell(row_of["东镇"], c).value == "无台帐" and ws.cell(row_of["东镇"], c + 1).value is None
    scores = wb["考评得分"]
    east_row = next(r for r in range(4, scores.max_row + 1) if scores.cell(r, 1).value == "东镇")
    heads = [scores.cell(3, c).value for c in range(1, scores.max_column + 1)]
    assert heads[:5] == ["镇街", "原始得分", "可评分值", "折算得分", "排名"]
    east_cells = [scores.cell(east_row, c).value for c in range(1, scores.max_column + 1)]
    assert east_cells[1:4] == ["无可评分项", 0, "—"]  # nothing scorable: no score, never 0 points
    assert all(v == "不计分" for v in east_cells[5:])

    _bulletin_states_no_other_figure((out / "东镇" / "通报.txt").read_text(encoding="utf-8"))
    county = (out / "全县通报.txt").read_text(encoding="utf-8")
    # each ranking table of an indicator 东镇 lacks the ledger for leaves 东镇 out and says why
    # (plain-text tables: a row is "　　<rank>　　<town>　　<value>…", columns padded to one width)
    tables = [b.split("\n\n　　（")[0] for b in re.split(r"\n　　（[一二三四五六七八九十]+）", county)
              if b.split("。")[0] in {i.name for i in OTHERS.values()} and "排名　　镇街" in b]
    assert tables and all(not re.search(r"^　　\s*\d+　　东镇", b, flags=re.M) and re.search(r"；东镇未提供\S+台帐，不参与排名", b)
                          for b in tables)
    assert "合计不含东镇" in county and "|" not in county
    # the score table: no rank, no score (折算得分, 原始得分), 0 points possible, and why
    assert re.search(r"^　　　—　　东镇　+—　+—　+ *0　　考评项目均因未提供台帐不计分$", county, flags=re.M)


# ---------------------------------------------------------------- 5. --strict
def test_strict_exit_code_counts_unmet_targets(jindu, seizures_only, tmp_path):
    code, out, _ = jindu(["compute", SAMPLE, "--period", "2018-01..2018-10", "--format", "json"])
    unmet = sum(1 for r in json.loads(out)["rows"] if r["met"] is False)
    assert code == 0 and unmet > 0
    code, _, err = jindu(["compute", SAMPLE, "--period", "2018-01..2018-10", "--format", "json", "--strict"])
    assert code == 1 and f"--strict：有 {unmet} 项指标未达到目标" in err
    code, _, err = jindu(["report", SAMPLE, "--period", "2018-10", "--strict"])
    assert code == 1 and "未达到目标" in err
    assert jindu(["report", SAMPLE, "--period", "2018-10"])[0] == 0
    # missing indicators are never unmet: the 查处-only workbook has no unmet target
    code, _, err = jindu(["compute", seizures_only, "--period", "2018-01..2018-10", "--strict"])
    assert code == 0 and "--strict" not in err
    code, _, err = jindu(["batch", SAMPLE, "--period", "2018-10", "--out", tmp_path / "b", "--strict"])
    assert code == 1 and "--strict：有" in err


def test_strict_is_where_the_readme_says(jindu):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    row = next(ln for ln in readme.splitlines() if ln.startswith("| 1 |"))
    assert "`compute`、`report`、`batch` 加 `--strict`" in row
    for cmd, has in (("compute", True), ("report", True), ("batch", True), ("validate", False), ("explain", False)):
        code, out, _ = jindu([cmd, "--help"])
        assert code == 0 and ("--strict" in out) == has, cmd


def test_explain_of_a_missing_figure_says_which_ledger(jindu, seizures_only):
    code, out, _ = jindu(["explain", "走访管控率", seizures_only, "--period", "2018-01..2018-10"])
    assert code == 0 and "结果：无台帐" in out and "未提供吸毒人员登记台帐、帮教管控台帐：此指标没有数值" in out
    code, out, _ = jindu(["explain", "走访管控率", seizures_only, "--period", "2018-01..2018-10", "-f", "json"])
    d = json.loads(out)
    assert (d["numerator"], d["denominator"], d["display"], d["numerator_rows"]) == (None, None, "无台帐", [])


def test_docs_missing_ledger_example_renders_as_documented(jindu, tmp_path):
    doc = (Path(__file__).resolve().parents[2] / "docs" / "templates.md").read_text(encoding="utf-8")
    section = doc[doc.index("## 缺台帐"):]
    template = tmp_path / "t.j2"
    template.write_text(re.search(r"```jinja\n(.*?)```", section, re.S).group(1), encoding="utf-8")
    full, partial = re.findall(r"得到“(.*?)”", section)
    code, out, _ = jindu(["report", SAMPLE, "--period", "2018-10", "-t", template])
    assert code == 0 and out.strip() == full
    code, out, _ = jindu(["report", _only(["吸毒人员登记台帐", "查处台帐", "社区戒毒社区康复台帐", "禁毒宣传台帐", "单位信息"],
                                                tmp_path / "x.xlsx"), "--period", "2018-10",
                          "-t", template])
    assert code == 0 and out.strip() == partial
