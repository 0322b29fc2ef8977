"""The fastexcel fast path reads every workbook exactly as the python-calamine path does (frames, findings,
sheets), and refuses (falls back) where it could not be exact: mixed-type columns, merged data cells."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from builders import ID_A, ID_B, PERSON_HEADER, person_rows, write_xlsx
from hypothesis import given, settings
from hypothesis import strategies as st

from jindu_metrics.ledgers import load_ledgers
from jindu_metrics.ledgers.sources import text
from jindu_metrics.ledgers.sources.xlsx import exact
from jindu_metrics.ledgers.sources.xlsx import fast as fastxlsx


def test_fast_path_is_available():
    """fastexcel is a hard dependency: without it the comparisons below would compare a path with itself."""
    assert fastxlsx.available()


def both(path, monkeypatch):
    fast = load_ledgers([path])
    with monkeypatch.context() as m:
        m.setattr(fastxlsx, "available", lambda: False)
        exact = load_ledgers([path])
    return fast, exact


def assert_same(fast, exact):
    for kind, df in exact.frames.items():
        pd.testing.assert_frame_equal(fast.frames[kind], df, check_dtype=True)
    assert [f.to_dict() for f in fast.findings] == [f.to_dict() for f in exact.findings]
    assert fast.sheets == exact.sheets


def spy(monkeypatch):
    """Count sheets that were read by python-calamine after the fast path refused them."""
    calls = []
    real = exact.sheet
    monkeypatch.setattr(exact, "sheet", lambda *a: calls.append(a[2]) or real(*a))
    return calls


VARIANTS = {
    "canonical": ([PERSON_HEADER] + person_rows(), None),
    "title_merged": ([["乐平镇吸毒人员登记台帐"], [], ["填报单位：乐平镇"], PERSON_HEADER] + person_rows(), ["A1:H1"]),
    "leading_blank_column": ([[None] + r for r in [PERSON_HEADER] + person_rows()], None),
    "id_numbers_and_text": ([PERSON_HEADER] + [person_rows()[0], [*person_rows()[1][:1], 440607199001011234,
                                                                     *person_rows()[1][2:]]], None),
    "all_ids_numbers": ([PERSON_HEADER] + [[r[0], float(r[1][:15]), *r[2:]] for r in person_rows()], None),
    "text_and_real_dates": ([PERSON_HEADER] + [person_rows()[0], [*person_rows()[1][:5], "2017年3月1日",
                                                                   *person_rows()[1][6:]]], None),
    "merged_village": ([PERSON_HEADER] + person_rows(), ["C2:C3"]),
    "totals_and_notes": ([PERSON_HEADER] + person_rows() + [["合计", 3], ["备注：无"]], None),
    "text_totals": ([PERSON_HEADER] + person_rows() + [["合计：3人"], ["备注：无"]], None),
    "extra_column": ([PERSON_HEADER + ["备注日期"]] + [r + [dt.datetime(2018, 1, 2)] for r in person_rows()], None),
}
FALLBACK = {"id_numbers_and_text", "text_and_real_dates", "merged_village", "totals_and_notes"}  # mixed types


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_fast_path_equals_calamine(tmp_path, monkeypatch, variant):
    rows, merges = VARIANTS[variant]
    p = write_xlsx(tmp_path / f"{variant}.xlsx", {"吸毒人员": rows}, merges={"吸毒人员": merges} if merges else None)
    calls = spy(monkeypatch)
    fast, exact = both(p, monkeypatch)
    assert_same(fast, exact)
    assert len(fast["persons"]) >= 2
    assert bool(calls) == (variant in FALLBACK), calls


def test_numeric_ids_still_flagged(tmp_path, monkeypatch):
    rows = [PERSON_HEADER] + [[r[0], 440607198503121234, *r[2:]] for r in person_rows()]
    p = write_xlsx(tmp_path / "n.xlsx", {"S": rows})
    s = load_ledgers([p])
    assert {f.code for f in s.findings} >= {"id_stored_as_number"}


def test_several_sheets_one_file(tmp_path, monkeypatch):
    seiz = [["查处日期", "公民身份号码", "姓名", "所属村居", "所属镇街", "新发现", "处置方式"],
            [dt.datetime(2018, 5, 1), ID_A, "张三", "乐平村", "乐平镇", "是", "强制隔离戒毒"],
            [dt.datetime(2018, 6, 1), ID_B, "李四", "南边村", "乐平镇", "否", "社区戒毒"]]
    p = write_xlsx(tmp_path / "s.xlsx", {"吸毒人员": [PERSON_HEADER] + person_rows(), "查处": seiz})
    calls = spy(monkeypatch)
    fast, exact = both(p, monkeypatch)
    assert_same(fast, exact)
    assert len(fast["seizures"]) == 2 and not calls


CSV_VARIANTS = {
    "plain": ([PERSON_HEADER] + person_rows(), {}),
    "title_and_blank_lines": ([["乐平镇吸毒人员登记台帐", "", "", "", "", "", "", ""], [], PERSON_HEADER] + person_rows()
                              + [[], ["合计：3人"]], {}),
    "gbk_semicolon": ([PERSON_HEADER] + person_rows(), {"encoding": "gb18030", "delimiter": ";"}),
    "quoted_newline": ([PERSON_HEADER] + [[r[0] + "\n", *r[1:]] for r in person_rows()], {}),
    "quotes_and_lf": ([PERSON_HEADER] + [[f'{r[0]}"号"', *r[1:3], f" {r[3]},", *r[4:]] for r in person_rows()],
                        {"lineterminator": "\n"}),
    "utf8_bom_tab": ([PERSON_HEADER] + person_rows(), {"encoding": "utf-8-sig", "delimiter": "\t"}),
    "ragged_longer_rows": ([PERSON_HEADER[:4]] + person_rows(), {}),  # the C parser refuses: csv module
}


@pytest.mark.parametrize("engine", ["arrow", "c"])
@pytest.mark.parametrize("variant", sorted(CSV_VARIANTS))
def test_csv_fast_path_equals_csv_module(tmp_path, monkeypatch, variant, engine):
    from builders import write_csv

    rows, kw = CSV_VARIANTS[variant]
    p = write_csv(tmp_path / f"{variant}.csv", rows * 1, **kw)
    monkeypatch.setattr(text, "CSV_FAST_MIN_CHARS", 0)
    monkeypatch.setattr(text, "CSV_FAST_MIN_LINES_PER_COLUMN", 0)
    monkeypatch.setattr(text, "CSV_ENGINES", (engine,))
    taken = []
    real = getattr(text, f"_csv_{engine}")
    monkeypatch.setattr(text, f"_csv_{engine}", lambda *a: taken.append(real(*a) is not None) or real(*a))
    fast = load_ledgers([p])
    monkeypatch.setattr(text, "CSV_FAST_MIN_CHARS", 10**12)
    exact = load_ledgers([p])
    assert_same(fast, exact)
    assert len(exact["persons"]) == 3
    # the engine read it, or refused it to the csv module: pyarrow takes no row with fewer fields than the
    # first (a hand-typed 合计 line), pandas' C parser none with more
    refused = {"arrow": {"ragged_longer_rows", "title_and_blank_lines"}, "c": {"ragged_longer_rows"}}[engine]
    assert taken == [variant not in refused]


def test_parquet_reads_like_csv(tmp_path):
    from builders import write_csv

    rows = [PERSON_HEADER] + person_rows()
    csv_path = write_csv(tmp_path / "c" / "p.csv", rows)
    df = pd.DataFrame(rows[1:], columns=rows[0])
    (tmp_path / "q").mkdir()
    df.to_parquet(tmp_path / "q" / "p.parquet", index=False)
    a, b = load_ledgers([tmp_path / "q"]), load_ledgers([csv_path])
    pd.testing.assert_frame_equal(a["persons"].drop(columns="_file"), b["persons"].drop(columns="_file"))
    assert a.sheets[0].kind == "persons" and a.sheets[0].rows == 3


def test_damaged_parquet_is_a_chinese_error(tmp_path):
    from jindu_metrics.errors import InputError

    p = tmp_path / "x.parquet"
    p.write_bytes(b"PAR1" + b"\x00" * 64)
    with pytest.raises(InputError, match="Parquet"):
        load_ledgers([p])


def test_area_table_matches_stdnum_numdb():
    from stdnum import numdb

    from jindu_metrics.ledgers.normalize import _loc_table

    db = numdb.get("cn/loc")
    table = _loc_table()
    assert len(table) > 3000
    probes = sorted(table)[::7] + ["440607", "440600", "999999", "110199", "441900", "000000", "449999"]
    for area in probes:
        info = {k: v for _, props in db.info(area) for k, v in props.items()}
        assert table.get(area, "") == info.get("county", ""), area


def test_area_findings_match_a_row_by_row_reference():
    import random

    import numpy as np

    from jindu_metrics.ledgers import normalize as nz
    from jindu_metrics.ledgers.ids import make_id

    rnd = random.Random(5)
    ids = sorted({make_id(rnd.choice(["440607", "440600", "110101", "999999", "440604"]),
                          f"{rnd.randint(1940, 2005)}0{rnd.randint(1, 9)}1{rnd.randint(0, 9)}", i) for i in range(3000)})
    uniq = np.array(ids + ["bad", 4.4e17, "", " 4406071985031211", "440607850312111"], dtype=object)
    res = [(None, None, "") if nz._is_empty(x) else nz.conv_id(x) for x in uniq]  # empty cells: no finding here
    codes = np.array([rnd.randrange(-1, len(uniq)) for _ in range(10000)])
    rows = np.arange(2, 10002)
    expect: dict[str, list] = {}
    for j, k in enumerate(codes):  # reference: row by row
        if k < 0 or res[k][1] is not None or not isinstance(res[k][0], str):
            continue
        why = nz.area_problem(res[k][0][:6], int(res[k][0][6:10]))
        if why:
            e = expect.setdefault(res[k][0][:6], [int(rows[j]), 0, why])
            e[1] += 1
    values, problems, valid = nz._convert_all(nz.conv_id, uniq)
    # the array conversion is conv_id's, value by value
    assert values[:-1].tolist() == [r[0] for r in res] and values[-1] is None
    assert problems == [(k, r[1], r[2]) for k, r in enumerate(res) if r[1]]
    assert valid.tolist() == [r[1] is None and isinstance(r[0], str) and len(r[0]) == 18 for r in res]
    got = nz._area_findings(values, valid, codes, rows, "f", "s", "c")
    assert {f.value: (f.row, f.detail) for f in got} == {
        a: (r, f"{w}；本表共{n}行使用地址码{a}") for a, (r, n, w) in expect.items()}
    assert len(got) >= 2


def test_reader_thread_changes_nothing():
    """Sheets parsed ahead in a thread (biggest first) or one by one here: the same frames and findings."""
    from pathlib import Path

    sample = Path(__file__).resolve().parents[2] / "sample_ledgers" / "乐平镇台帐.xlsx"
    a, b = load_ledgers([sample], threads=True), load_ledgers([sample], threads=False)
    assert [f.to_dict(True) for f in a.findings] == [f.to_dict(True) for f in b.findings]
    assert [s.rows for s in a.sheets] == [s.rows for s in b.sheets] and sum(s.rows for s in a.sheets) > 500
    for kind, df in a.frames.items():
        pd.testing.assert_frame_equal(df, b.frames[kind], check_exact=True)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="0123456789", min_size=8, max_size=8), min_size=1, max_size=50))
def test_valid_dates_agree_with_datetime_date(days):
    """The array check of an ID's birth date takes exactly the dates datetime.date takes."""
    import numpy as np

    from jindu_metrics.ledgers.normalize import _valid_dates

    def real(s):
        try:
            dt.date(int(s[:4]), int(s[4:6]), int(s[6:]))
        except ValueError:
            return False
        return True

    digits = np.array([[int(c) for c in s] for s in days], dtype=np.int64)
    assert _valid_dates(digits).tolist() == [real(s) for s in days]


_TEXTS = st.one_of(st.text(max_size=6), st.sampled_from(
    ["合计", " 合计：3人", "\u3000备注", "\u2028注：", "\x85總計", "\u00a0小计", "张三", "", " ", "小计",
     "合计\udc80"]))  # a lone surrogate: not Arrow text, every value checked


@settings(max_examples=200, deadline=None)
@given(st.one_of(
    st.lists(st.one_of(_TEXTS, st.floats(allow_nan=True), st.none()), min_size=1, max_size=30),
    st.lists(_TEXTS, min_size=1, max_size=30),  # text only: the Arrow path
))
def test_marker_candidates_hold_every_marker_value(values):
    """Totals/footnote rows are looked for only among the candidates: none that the full check finds is missed."""
    import numpy as np

    from jindu_metrics import schema
    from jindu_metrics.ledgers.normalize import _MARKER_FIRST, _marker_candidates
    from jindu_metrics.ledgers.textnorm import fold_compact

    markers = schema.TOTAL_MARKERS + tuple(fold_compact(m) for m in schema.FOOTNOTE_MARKERS)
    uniq = np.array(list(dict.fromkeys(values)), dtype=object)
    hits = {k for k, u in enumerate(uniq) if isinstance(u, str) and u.lstrip()[:1] in _MARKER_FIRST
            and fold_compact(u).startswith(markers)}
    assert hits <= set(_marker_candidates(uniq).tolist())
