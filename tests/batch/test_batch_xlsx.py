"""汇总.xlsx writer: sheets, charts, formats, colours, formula neutralisation, determinism."""

from __future__ import annotations

import io
import time
from fractions import Fraction

from openpyxl import load_workbook

from jindu_metrics.outputs.county import SHEETS, build_workbook


def _data():
    inds = [
        {"id": "grid_inclusion_rate", "name": "纳入率", "format": "percent", "decimals": 1, "target": "≥95%"},
        {"id": "seizures", "name": "查处吸毒人员数", "format": "count", "decimals": 0, "target": None},
        {"id": "worker_ratio", "name": "吸毒人员与禁毒社工配比", "format": "ratio_n1", "decimals": 0,
         "target": "≤30:1"},
    ]
    units = ["=HYPERLINK(\"x\")镇", "乙镇"]
    rows = []
    for u, (g, s, w) in zip([*units, "全县"], [(Fraction(354, 374), 49, Fraction(258, 10)),
                                              (Fraction(1), 3, None), (Fraction(357, 377), 52, Fraction(258, 10))]):
        rows += [
            {"unit": u, "metric": "grid_inclusion_rate", "exact": g, "met": g >= Fraction(95, 100),
             "rank": None if u == "全县" else (2 if g < 1 else 1)},
            {"unit": u, "metric": "seizures", "exact": Fraction(s), "met": None, "rank": 1},
            {"unit": u, "metric": "worker_ratio", "exact": w, "met": None if w is None else True, "rank": 1},
        ]
    return {
        "title": "2018年1-10月各镇街指标汇总",
        "indicators": inds, "units": units, "total_unit": "全县", "rows": rows,
        "scores": {"name": "测试考评", "decimals": 1, "items": [{"metric": "grid_inclusion_rate", "name": "纳入率",
                                                              "points": "10"}],
                   "rule": "缺台帐或缺列的指标不计分，按可评分值折算后排名。",
                   "units": [{"unit": "乙镇", "score": "10.0", "raw_score": "10.0", "possible": "10",
                              "rescaled_score": "10.0", "rank": 1, "items": [{"score": "10.0", "met": True}]},
                             {"unit": units[0], "score": "6.3", "raw_score": "6.3", "possible": "10",
                              "rescaled_score": "6.3", "rank": 2, "items": [{"score": "6.3", "met": False}]}]},
        "findings": [{"unit": "乙镇", "file": "乙镇.xlsx", "sheet": "查处台帐", "row": 5, "column": "公民身份号码",
                      "severity": "错误", "message": "身份证号校验位错误：…", "value": "440607********123X"},
                     {"unit": "乙镇", "file": "乙镇.xlsx", "sheet": "查处台帐", "row": 6, "column": "所属村居",
                      "severity": "警告", "message": "x", "value": "=1+1"}],
        "failures": [{"file": "坏.xlsx", "unit": None, "error": "文件已损坏"}],
        "trend": {"months": ["1月", "2月", "3月"],
                  "metrics": [{"id": "grid_inclusion_rate", "name": "纳入率", "format": "percent", "decimals": 1}],
                  "values": {units[0]: {"grid_inclusion_rate": [0.9, 0.92, Fraction(354, 374)]},
                             "乙镇": {"grid_inclusion_rate": [1.0, None, 1.0]},
                             "全县": {"grid_inclusion_rate": [0.91, 0.93, 0.95]}}},
    }


def test_workbook_sheets_formats_and_charts():
    wb = load_workbook(io.BytesIO(build_workbook(_data())))
    assert wb.sheetnames == list(SHEETS)
    ws = wb["指标汇总"]
    assert ws.freeze_panes == "B5"
    # formula-like township name is neutralised, never a formula
    assert ws["A5"].value.startswith("'=") and ws["A5"].data_type == "s"
    # 354/374 = 94.65…% → stored rounded to the displayed 94.7%, percent format, unmet → coloured
    assert ws["B5"].value == 0.947 and ws["B5"].number_format == "0.0%"
    assert ws["B5"].fill.fgColor.rgb.endswith("F8CBAD")
    assert ws["C5"].value == 2
    assert ws["B6"].fill.fgColor.rgb != ws["B5"].fill.fgColor.rgb
    assert ws["F6"].value == "—"  # undefined ratio
    assert ws["F5"].value == 26 and ws["F5"].number_format == '0":1"'
    assert ws["A7"].value == "全县" and ws["C7"].value is None  # the total row is not ranked
    probs = wb["数据问题"]
    values = [c.value for c in probs["H"]]
    assert "'=1+1" in values and "440607********123X" in values
    assert any(c.value == "坏.xlsx" for c in probs["B"])
    sc = wb["考评得分"]
    assert [c.value for c in sc[3]][:6] == ["镇街", "原始得分", "可评分值", "折算得分", "排名", "纳入率（10分）"]
    assert [c.value for c in sc[4]] == ["乙镇", 10.0, 10, 10.0, 1, 10.0]
    assert sc["A2"].value.startswith("缺台帐或缺列的指标不计分")
    charts = wb["趋势"]._charts
    assert len(charts) == 1 and type(charts[0]).__name__ == "LineChart"
    assert len(charts[0].series) == 3  # two townships and the total


def test_workbook_is_byte_identical():
    a = build_workbook(_data())
    time.sleep(1.1)
    assert build_workbook(_data()) == a


def test_unscored_workbook_keeps_four_sheets():
    d = _data()
    d["scores"] = None
    wb = load_workbook(io.BytesIO(build_workbook(d)))
    assert wb.sheetnames == list(SHEETS)
    assert "未指定考评方案" in wb["考评得分"]["A1"].value
