"""The checks judged by the ledgers' shared ID codes give what the pandas formulations they replaced give
(merges, sort_values, .str on every row): same findings, same order, on generated ledgers."""

from __future__ import annotations

import datetime as dt
import importlib

import pandas as pd
from builders import ID_A, ID_B, ID_C
from hypothesis import given, settings
from hypothesis import strategies as st

from jindu_metrics import schema
from jindu_metrics.ledgers import frames
from jindu_metrics.ledgers.model import LedgerSet

V = importlib.import_module("jindu_metrics.validate")
ID = "公民身份号码"
_IDS = st.sampled_from([ID_A, ID_B, ID_C, None, "44060719900101١٣١X", "4406071990010112²X", "123", "440607185001011234"])
_DAY = st.one_of(st.none(), st.dates(dt.date(1970, 1, 1), dt.date(2030, 1, 1)))
_STATUS = st.sampled_from(["社会面", "社区戒毒", "社区康复", "死亡", "注销", "出境", "服刑", schema.STATUS_UNKNOWN, None])


def _frame(kind: str, rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(frames.columns_of(kind)))
    df["_file"], df["_sheet"] = "t.xlsx", kind
    df["_row"] = range(2, len(df) + 2)
    for c, t in frames.columns_of(kind).items():
        if t == "datetime64[ns]" or str(t).startswith("datetime"):
            df[c] = pd.to_datetime(df[c])
    return frames.coerce(kind, df)


@st.composite
def _ledgers(draw):
    persons = [{ID: draw(_IDS), "性别": draw(st.sampled_from(["男", "女", "未知", None])), "人员状态": draw(_STATUS),
                "初次发现日期": draw(_DAY), "末次查获日期": draw(_DAY)} for _ in range(draw(st.integers(0, 12)))]
    community = [{ID: draw(_IDS), "决定日期": draw(st.sampled_from([None, dt.date(2018, 1, 1), dt.date(2019, 5, 5)])),
                  "类别": draw(st.sampled_from(["社区戒毒", "社区康复", None])),
                  "执行状态": draw(st.sampled_from(["执行中", "死亡", "解除", None]))} for _ in range(draw(st.integers(0, 12)))]
    seizures = [{ID: draw(_IDS), "查处日期": draw(_DAY)} for _ in range(draw(st.integers(0, 6)))]
    out = {k: frames.empty_frame(k) for k in schema.KINDS}
    out.update(persons=_frame("persons", persons), community=_frame("community", community),
               seizures=_frame("seizures", seizures))
    return LedgerSet(frames=out, sheets=[], unit=None)


def _old_status_against_orders(persons, com):
    """The latest order of each person by merge and sort_values, as the check was written before."""
    if not (len(com) and len(persons)):
        return []
    latest = (com.dropna(subset=[ID]).sort_values(["决定日期", "_row"], na_position="first")
              .drop_duplicates(subset=[ID], keep="last"))
    p = persons.dropna(subset=[ID]).drop_duplicates(subset=[ID], keep="first")
    return V._contradictions(p.merge(latest[[ID, "类别", "执行状态"]], on=ID, how="left"))


def _old_gender(persons):
    if not len(persons):
        return []
    ok = persons[ID].notna() & persons["性别"].notna() & (persons[ID].str.len() == 18)
    if not ok.any():
        return []
    d = persons[ok]
    digit = d[ID].str[16]
    valid = digit.str.isdigit() & digit.str.isascii()  # the old code raised on a digit int() cannot read
    expected = digit[valid].map(lambda c: int(c) % 2).map({1: "男", 0: "女"})
    bad = expected.ne(d.loc[valid.index[valid], "性别"])
    if not bad.any():
        return []
    b = d.loc[bad.index[bad]]
    return V._rows(b, "gender_mismatch", "性别", "性别", [f"身份证号显示为{e}" for e in expected[bad]])


def _old_before_birth(ledgers):
    import numpy as np

    out = []
    for kind, column in V._DATED:
        df = ledgers[kind]
        if not len(df):
            continue
        codes, uniq = pd.factorize(df[ID])
        birth = V._birth_dates(np.asarray(uniq, dtype=object))
        before = df[column].to_numpy(dtype="datetime64[ns]") < birth[np.where(codes < 0, len(uniq), codes)]
        if before.any():
            out += V._rows(df[before], "date_before_birth", column, column)
    return out


@settings(max_examples=50, deadline=None)
@given(_ledgers())
def test_checks_by_codes_equal_the_pandas_formulations(ledgers):
    assert V._status_against_orders(ledgers) == _old_status_against_orders(ledgers["persons"], ledgers["community"])
    assert V._before_birth(ledgers) == _old_before_birth(ledgers)
    persons = ledgers["persons"]
    ascii_ids = persons[ID].map(lambda v: v is None or v.isascii()).all()
    if ascii_ids:  # the old .str formulation read a digit of another script as a number, as _sexes does
        assert V._gender(ledgers) == _old_gender(persons)


def test_sex_of_another_scripts_digit():
    import numpy as np

    got = V._sexes(np.array(["44060719900101١٣١X", "4406071990010112²X", ID_A, ID_B, "short", None], dtype=object))
    assert got.tolist() == ["男", None, "男", "女", None, None]
