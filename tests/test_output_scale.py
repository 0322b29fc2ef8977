"""Outputs at county scale cost time in proportion to their rows: no per-row scan of what is already written."""

from dataclasses import replace
from pathlib import Path

import pytest

from jindu_metrics.ledgers import load_ledgers
from jindu_metrics.metrics.catalog import load_catalog
from jindu_metrics.metrics.engine import compute
from jindu_metrics.outputs import compute as export
from jindu_metrics.periods import parse_period

SAMPLE = Path(__file__).resolve().parents[1] / "sample_ledgers" / "乐平镇台帐.xlsx"


@pytest.fixture(scope="module")
def village_result():
    cat = load_catalog(None)
    return compute(load_ledgers([SAMPLE]), cat, parse_period("2018-01..2018-10"), by="所属村居"), cat


def _max_row_reads(monkeypatch, result, cat) -> int:
    from openpyxl.worksheet.worksheet import Worksheet

    calls = []
    prop = Worksheet.max_row

    def counted(ws):
        calls.append(1)
        return prop.fget(ws)

    monkeypatch.setattr(Worksheet, "max_row", property(counted))
    export.compute_xlsx(result, cat)
    monkeypatch.setattr(Worksheet, "max_row", prop)
    return len(calls)


def test_compute_xlsx_does_not_scan_the_sheet_per_row(monkeypatch, village_result):
    result, cat = village_result
    bigger = replace(result, rows=result.rows * 4)
    small, big = _max_row_reads(monkeypatch, result, cat), _max_row_reads(monkeypatch, bigger, cat)
    assert len(bigger.rows) > 400
    assert big == small  # openpyxl's max_row walks every cell: reading it per row was quadratic


def test_compute_xlsx_rows_land_in_order_with_their_value_format(village_result):
    import io

    from openpyxl import load_workbook

    result, cat = village_result
    ws = load_workbook(io.BytesIO(export.compute_xlsx(result, cat))).active
    rows = list(ws.iter_rows(min_row=2))
    assert len(rows) == len(result.rows)
    col = export.COMPUTE_HEADERS.index("数值")
    fmts = {i.id: i.format for i in cat.indicators}
    for cells, row in zip(rows, result.rows):
        assert cells[1].value == row.unit and cells[2].value == row.metric
        if fmts.get(row.metric) == "percent":
            assert cells[col].number_format.endswith("%")
