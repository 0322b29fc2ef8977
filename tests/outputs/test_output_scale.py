"""Outputs at county scale cost time in proportion to their rows: no per-row scan of what is already written."""

from dataclasses import replace
from pathlib import Path

import pytest

from jindu_metrics.ledgers import load_ledgers
from jindu_metrics.metrics.catalog import load_catalog
from jindu_metrics.metrics.engine import compute
from jindu_metrics.outputs import compute as export
from jindu_metrics.periods import parse_period

SAMPLE = Path(__file__).resolve().parents[2] / "sample_ledgers" / "乐平镇台帐.xlsx"


@pytest.fixture(scope="module")
def village_result():
    cat = load_catalog(None)
    return compute(load_ledgers([SAMPLE]), cat, parse_period("2018-01..2018-10"), by="所属村居"), cat


def _cell_writes(monkeypatch, result, cat) -> int:
    """How many cells XlsxWriter stores for compute_xlsx(result): one call each, nothing read back."""
    from xlsxwriter.worksheet import Worksheet

    calls = []
    original = Worksheet._write_cell

    def counted(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Worksheet, "_write_cell", counted)
    export.compute_xlsx(result, cat)
    monkeypatch.setattr(Worksheet, "_write_cell", original)
    return len(calls)


def test_compute_xlsx_work_grows_with_its_rows_only(monkeypatch, village_result):
    result, cat = village_result
    bigger = replace(result, rows=result.rows * 4)
    small, big = _cell_writes(monkeypatch, result, cat), _cell_writes(monkeypatch, bigger, cat)
    assert len(bigger.rows) > 400
    header = len(export.compute_headers(result)) + 1  # and the window's line
    # each cell written once: no pass over what is written per row (openpyxl's max_row was quadratic)
    assert big - header == 4 * (small - header)


def test_compute_xlsx_rows_land_in_order_with_their_value_format(village_result):
    import io

    from openpyxl import load_workbook

    result, cat = village_result
    ws = load_workbook(io.BytesIO(export.compute_xlsx(result, cat))).active
    rows = list(ws.iter_rows(min_row=3))
    assert len(rows) == len(result.rows)
    col = export.COMPUTE_HEADERS.index("数值")
    fmts = {i.id: i.format for i in cat.indicators}
    for cells, row in zip(rows, result.rows):
        assert cells[1].value == row.unit and cells[2].value == row.metric
        if fmts.get(row.metric) == "percent":
            assert cells[col].number_format.endswith("%")
