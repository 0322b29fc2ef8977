"""Cross-ledger checks on a LedgerSet (merges and group-bys, no per-row loops over big frames)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from . import schema
from .findings import Finding, Letters, locate
from .ledgers.model import LedgerSet

ID = "公民身份号码"


def _rows(df, code: str, column: str | None, value_col: str | None = None, detail=None,
          positions: dict | None = None) -> list[Finding]:
    """One finding per row of df (df already filtered to the offending rows: a county's state checks give
    10^4); `positions` (LedgerSet.positions()): the findings are built located (findings.locate), not located
    again. By arrays: the rows' values written out at once, each sheet's column letter looked up once."""
    from itertools import repeat

    if not len(df):
        return []
    files, sheets = df["_file"].to_numpy(dtype=object), df["_sheet"].to_numpy(dtype=object)
    rows = df["_row"].to_numpy(dtype="int64").tolist()
    values = _texts(df[value_col]) if value_col else repeat(None)
    details = detail if detail is not None else repeat("")
    letter = Letters(positions) if positions is not None and column else None
    out = []
    here = at = None  # the sheet of the row before, and the letter there (rows come sheet by sheet)
    for file, sheet, row, val, d in zip(files, sheets, rows, values, details):
        if letter is not None and (file, sheet) != here:
            here, at = (file, sheet), letter(file, sheet, column)
        out.append(Finding(code, file, sheet, row, column, val, d, "", at))
    return out


def _unknown_persons(bad) -> list[Finding]:
    """One unknown_person finding per sheet and ID (one mistyped ID in a contacts ledger is dozens of rows):
    at its first row, the detail naming how many rows and which."""
    first = bad.drop_duplicates(["_file", "_sheet", ID])
    rows = bad.groupby(["_file", "_sheet", ID], sort=False, dropna=False)["_row"].agg(list)
    detail = []
    for key in zip(first["_file"], first["_sheet"], first[ID]):
        at = rows[key]
        shown = "、".join(str(int(r)) for r in at[:10]) + ("等" if len(at) > 10 else "")
        detail.append(f"此号码共{len(at)}行：第{shown}行" if len(at) > 1 else "")
    return _rows(first, "unknown_person", ID, ID, detail)


def _texts(s) -> list:
    """A column's cells as the texts a finding quotes (a date as 2018-10-05), None where empty."""
    import pandas as pd

    if s.dtype.kind == "M":
        days = _days(s)
        days[s.isna().to_numpy()] = None
        return days.tolist()
    return [v if v is None or isinstance(v, str) else
            None if v is pd.NA or v is pd.NaT else
            str(v.date()) if hasattr(v, "date") else str(v) for v in s.to_numpy(dtype=object)]


# The dates of a community order in the order they happen: (earlier, later, finding when the later is before).
# An 解除日期 before 决定日期 is not used by the figures either (state.order_end).
_ORDER_DATES = (("决定日期", "报到日期", "reported_before_decided"), ("决定日期", "解除日期", "ended_before_decided"),
                ("报到日期", "解除日期", "ended_before_reported"))
_DATED = (("persons", "初次发现日期"), ("persons", "末次查获日期"), ("seizures", "查处日期"), ("community", "决定日期"))


def _birth_dates(values):
    """The birth date (datetime64[ns], NaT when unknown) that each of `values` (distinct IDs) gives, with
    array operations, and a last NaT slot for rows without an ID (code -1 of link.Ids)."""
    import numpy as np

    from .ledgers.normalize import _valid_dates

    birth = np.full(len(values) + 1, np.datetime64("NaT"), dtype="datetime64[ns]")
    pos, chars = _eighteen(values)
    if len(pos):
        d = chars[:, 6:14] - 48
        ok = ((d >= 0) & (d <= 9)).all(axis=1)
        d = np.where(ok[:, None], d, 0)
        ok &= _valid_dates(d)
        y, m, day = d[:, :4] @ [1000, 100, 10, 1], d[:, 4:6] @ [10, 1], d[:, 6:8] @ [10, 1]
        ok &= (y >= 1800) & (y <= 2200)  # within datetime64[ns]; the reader reported other years
        days = ((y - 1970) * 12 + np.clip(m, 1, 12) - 1).astype("datetime64[M]").astype("datetime64[D]") + (day - 1)
        birth[pos[ok]] = days[ok].astype("datetime64[ns]")
    return birth


def _eighteen(values):
    """(positions of the 18-character texts among `values`, their characters' code points as int64 rows)."""
    import numpy as np

    pos = np.flatnonzero(np.fromiter((type(u) is str and len(u) == 18 for u in values), dtype=bool,
                                     count=len(values)))
    return pos, values[pos].astype("U18").view(np.uint32).reshape(-1, 18).astype(np.int64)


def judgement_day(ledgers: LedgerSet, today: dt.date | None = None) -> dt.date:
    """The day person state is judged on when no period says it: the latest date in the data (events first,
    then the persons' own dates; dates after today are findings, not data), else today."""
    import pandas as pd

    from .periods import latest_data_date

    today = today or dt.date.today()
    d = latest_data_date(ledgers, today)
    if d is not None:
        return d
    persons = ledgers["persons"]
    dates = [s[s.notna() & (s <= pd.Timestamp(today))] for s in (persons["初次发现日期"], persons["末次查获日期"])]
    best = [s.max().date() for s in dates if len(s)]
    return max(best) if best else today


def _day(d) -> str:
    return f"{d:%Y-%m-%d}"


def _days(s):
    """A datetime64 Series as "YYYY-MM-DD" texts (NaT → "NaT"), in one array operation."""
    import numpy as np

    return np.datetime_as_string(s.to_numpy(dtype="datetime64[ns]"), unit="D").astype(object)


def _has_column(df, column: str, positions: dict) -> object:
    """Per row: the row's sheet has `column` (a check on a column the sheet lacks would flag every row)."""
    import numpy as np

    out = np.zeros(len(df), dtype=bool)
    files, sheets = df["_file"].to_numpy(dtype=object), df["_sheet"].to_numpy(dtype=object)
    for (file, sheet), cols in positions.items():  # a few sheets: one comparison each
        if column in cols:
            out |= (files == file) & (sheets == sheet)
    return out


class _Flagged:
    """The rows of `df` one state check flags, and how their findings read: counted without building them
    (compute only counts), built (validate) when asked."""

    def __init__(self, df, code: str, column: str | None, value_col: str | None, why: Callable[[], list]):
        self.df, self.code, self.column, self.value_col, self.why = df, code, column, value_col, why

    def findings(self, positions: dict) -> list[Finding]:
        return _rows(self.df, self.code, self.column, self.value_col, self.why(), positions)


def _state_flags(ledgers: LedgerSet, as_of: dt.date) -> list[_Flagged]:
    """The persons' recorded 管控等级, 人员状态细分 and 末次查获日期 against their state on `as_of` (state.py)."""
    import numpy as np
    import pandas as pd

    from .state import latest_seizure, states_of

    persons = ledgers["persons"]
    if not len(persons):
        return []
    last = pd.Timestamp(as_of)
    st = states_of(ledgers, [last])[0]
    out: list[_Flagged] = []
    on = f"至{_day(as_of)}（判断日）"
    status = persons["人员状态"]
    detected = st["末次检出日期"]

    # per person, as arrays; the texts are built for the flagged rows only, by position, and only when
    # the findings are (since(mask): the 末次检出日期 part of the reason)
    def since(mask):
        d = detected[mask]
        return np.where(d.notna().to_numpy(), "末次检出日期为" + _days(d), "没有任何查获或检出日期")

    states = status.astype(object).to_numpy()

    # 管控等级: given to persons under dynamic control (社会面, not 三年未复吸) only (ledgers.md)
    level = persons["管控等级"].notna().to_numpy()
    # rows whose sheet has the column and whose cell was read (an unreadable one is the reader's finding)
    unread = {(f.file, f.sheet, f.row) for f in ledgers.findings if f.column == "管控等级"}
    positions = ledgers.positions()
    judged = _has_column(persons, "管控等级", positions)
    if unread:
        judged &= ~pd.Series(list(zip(persons["_file"], persons["_sheet"], persons["_row"]))).isin(unread).to_numpy()
    managed, registered = st["管控"].to_numpy(), st["在册"].to_numpy()
    three = st["三年未复吸"].to_numpy()
    gone = status.isin(schema.NOT_REGISTERED).to_numpy()
    given = judged & level & ((registered & ~managed) | gone)
    lacking = judged & ~level & managed
    if given.any():
        out.append(_Flagged(persons[given], "level_contradiction", "管控等级", "管控等级", lambda: [
            f"人员状态为{st_}，不应再有管控等级" if g else
            f"{si}，{on}已满三年未复吸，不在管控之列，管控等级应为空" if t else
            f"人员状态为{st_}，不在社会面管控之列，管控等级应为空"
            for st_, g, t, si in zip(states[given], gone[given], three[given], since(given))]))
    if lacking.any():
        out.append(_Flagged(persons[lacking], "level_contradiction", "管控等级", None, lambda: [
            f"社会面管控人员（{si}，{on}未满三年）未填管控等级" for si in since(lacking)]))

    # 人员状态细分 (police exports) against the dates
    detail = persons["人员状态细分"]
    dated = registered & detected.notna().to_numpy()
    claims_3y = dated & (detail == schema.STATUS_DETAIL_ABSTINENT_3Y).to_numpy(dtype=bool) & ~three
    claims_not = dated & (detail == schema.STATUS_DETAIL_NOT_3Y).to_numpy(dtype=bool) & three
    for mask, reached, sub in ((claims_3y, "未满三年", schema.STATUS_DETAIL_ABSTINENT_3Y),
                               (claims_not, "已满三年", schema.STATUS_DETAIL_NOT_3Y)):
        if mask.any():
            out.append(_Flagged(persons[mask].assign(人员状态=sub), "status_detail_mismatch", "人员状态", "人员状态",
                                lambda mask=mask, reached=reached, sub=sub: [
                                    f"人员状态为{sub}，但{si}，{on}{reached}" for si in since(mask)]))

    # 末次查获日期 older than a seizure of the same person
    seized = latest_seizure(ledgers, last)
    own = persons["末次查获日期"]
    stale = (own.notna() & seized.notna() & (seized > own)).to_numpy(dtype=bool)
    if stale.any():
        out.append(_Flagged(persons[stale], "last_seizure_outdated", "末次查获日期", "末次查获日期", lambda: [
            f"查处台帐中此人有{x}的查处记录，晚于末次查获日期" for x in _days(seized[stale])]))
    return out


def state_checks(ledgers: LedgerSet, as_of: dt.date) -> list[Finding]:
    """The person-state checks' findings on `as_of` (_state_flags), located (their column letters filled in)."""
    positions = ledgers.positions()
    return [f for flagged in _state_flags(ledgers, as_of) for f in flagged.findings(positions)]


def judged_summary(ledgers: LedgerSet, findings: list[Finding], as_of: dt.date) -> dict:
    """The counts (findings.summarize) of validate(…, state=False)'s `findings` with the person-state checks
    judged on `as_of` (a period's last day, once the period is known) added, counted without being built:
    compute and explain only count them (10⁴ in a county). validate(…, as_of=…) builds the same ones."""
    from .findings import summarize

    flagged = _state_flags(ledgers, as_of) if "persons" in ledgers.kinds_present else []
    counts: dict[str, int] = {}
    for f in flagged:
        counts[f.code] = counts.get(f.code, 0) + len(f.df)
    return summarize(findings, counts)


def cross_checks(ledgers: LedgerSet, today: dt.date | None = None, as_of: dt.date | None = None, *,
                 state: bool = True) -> list[Finding]:
    """The cross-ledger checks; person state is judged on `as_of` (default: `judgement_day`), unless `state`
    is False."""
    import pandas as pd

    out: list[Finding] = []
    out += _duplicate_persons(ledgers["persons"])
    if "persons" in ledgers.kinds_present:  # only when a persons ledger was read
        out += _not_in_persons(ledgers)
    out += _order_dates(ledgers["community"], pd.Timestamp(today or dt.date.today()))
    out += _status_against_orders(ledgers)
    out += _before_birth(ledgers)
    out += _gender(ledgers)
    if state and "persons" in ledgers.kinds_present:
        out += state_checks(ledgers, as_of or judgement_day(ledgers, today))
    return out


def _duplicate_persons(persons) -> list[Finding]:
    if not len(persons):
        return []
    ids = persons[ID]
    dup = ids.notna() & ids.duplicated(keep="first")
    if not dup.any():
        return []
    first_row = persons[ids.notna()].groupby(ID, sort=False)["_row"].first()
    d = persons[dup]
    firsts = d[ID].map(first_row)
    return _rows(d, "duplicate_person", ID, ID, [f"与第{int(r)}行重复" for r in firsts])


def _not_in_persons(ledgers: LedgerSet) -> list[Finding]:
    """Rows of other ledgers whose ID is not in persons."""
    out: list[Finding] = []
    ids = ledgers.ids()
    for kind in ("seizures", "community", "contacts"):
        df = ledgers[kind]
        if not len(df):
            continue
        bad = (ids.codes[kind] >= 0) & (ids.person_rows(kind) < 0)
        if bad.any():
            out += _unknown_persons(df[bad])
    return out


def _order_dates(com, today_ts) -> list[Finding]:
    """An order's dates out of the order they happen in, and a 报到日期 after today."""
    out: list[Finding] = []
    if not len(com):
        return out
    for first, then, code in _ORDER_DATES:  # every pair of the order's dates, in the order they happen
        before = com[then].notna() & com[first].notna() & (com[then] < com[first])
        if before.any():
            d = com[before]
            detail = [f"{first}为{x:%Y-%m-%d}" for x in d[first]]
            out += _rows(d, code, then, then, detail)
    future = com["报到日期"].notna() & (com["报到日期"] > today_ts)
    if future.any():
        out += _rows(com[future], "reported_in_future", "报到日期", "报到日期")
    return out


def _status_against_orders(ledgers: LedgerSet) -> list[Finding]:
    """人员状态 against the community ledger: each person's first row against the person's latest order (by
    决定日期, an undated order first, then by row), by the ledgers' shared ID codes."""
    import numpy as np
    import pandas as pd

    from .state import ns

    persons, com = ledgers["persons"], ledgers["community"]
    if not (len(com) and len(persons)):
        return []
    ids = ledgers.ids()
    codes = ids.codes["community"]
    dated = np.flatnonzero(codes >= 0)
    # rows by (决定日期, _row), NaT (the smallest int64) first; stable, as sort_values: the last one per ID wins
    order = dated[np.lexsort((com["_row"].to_numpy(dtype="int64")[dated], ns(com["决定日期"])[dated]))]
    latest = np.full(ids.n + 1, -1, dtype=np.int64)
    latest[codes[order]] = order  # written in that order: each ID keeps its latest order
    p_codes = ids.codes["persons"]
    first = np.flatnonzero(p_codes >= 0)
    first = first[ids.person_row[p_codes[first]] == first]  # each ID's first row, in the persons' order
    at = latest[p_codes[first]]
    m = persons.iloc[first].reset_index(drop=True)
    for col in ("类别", "执行状态"):
        values = np.append(com[col].to_numpy(dtype=object), None)
        m[col] = pd.Series(values[at], dtype=object)  # at -1: no order, None
    return _contradictions(m)


def _contradictions(m) -> list[Finding]:
    """status_contradiction findings of persons' rows `m`, each with its latest order's 类别 and 执行状态."""
    out: list[Finding] = []
    running = m["执行状态"] == "执行中"
    c1 = running & m["人员状态"].isin(schema.NOT_IN_COMMUNITY)
    c2 = (m["执行状态"].eq("死亡") & m["人员状态"].notna()
          & ~m["人员状态"].isin(("死亡", "注销", schema.STATUS_UNKNOWN)))
    c3 = (m["人员状态"].isin(("社区戒毒", "社区康复")) & m["类别"].notna() & running
          & (m["人员状态"] != m["类别"]))
    for mask, why in ((c1, "社区台帐中有执行中的{cat}决定，但人员状态为{st}"),
                      (c2, "社区台帐执行状态为死亡，但人员状态为{st}"),
                      (c3, "社区台帐中执行中的是{cat}，但人员状态为{st}")):
        mask = mask.fillna(False).astype(bool)
        if mask.any():
            d = m[mask]
            detail = [why.format(cat=c, st=s) for c, s in zip(d["类别"], d["人员状态"])]
            out += _rows(d, "status_contradiction", "人员状态", "人员状态", detail)
    return out


def _before_birth(ledgers: LedgerSet) -> list[Finding]:
    """Dates before the birth date the ID gives (a seizure of someone not yet born: a wrong date or ID)."""
    import numpy as np

    out: list[Finding] = []
    births = None
    ids = ledgers.ids()
    for kind, column in _DATED:
        df = ledgers[kind]
        if not len(df) or column not in df.columns:
            continue
        if births is None:
            births = _birth_dates(ids.values)  # once per distinct ID of every ledger
        codes = ids.codes[kind]
        born = births[np.where(codes < 0, ids.n, codes)]
        before = df[column].to_numpy(dtype="datetime64[ns]") < born  # NaT compares False
        if before.any():  # the birth date itself is not named: it is the part of the ID that masking hides
            out += _rows(df[before], "date_before_birth", column, column)
    return out


def _gender(ledgers: LedgerSet) -> list[Finding]:
    """性别 against the ID's 17th digit (odd = 男), judged once per distinct ID."""
    import numpy as np

    persons = ledgers["persons"]
    if not len(persons):
        return []
    ids = ledgers.ids()
    codes = ids.codes["persons"]
    own = np.unique(codes[codes >= 0])
    expected = np.full(ids.n + 1, None, dtype=object)  # the last slot: no ID
    expected[own] = _sexes(ids.values[own])
    e = expected[np.where(codes < 0, ids.n, codes)]
    sex = persons["性别"]
    bad = (sex.notna().to_numpy(dtype=bool) & (e != None)  # noqa: E711 - elementwise over an object array
           & (e != sex.to_numpy(dtype=object)))
    if not bad.any():
        return []
    return _rows(persons[bad], "gender_mismatch", "性别", "性别", [f"身份证号显示为{x}" for x in e[bad]])


def _sexes(values):
    """The sex each of `values` (distinct IDs) gives by its 17th digit (odd = 男), or None: an object array."""
    import numpy as np

    out = np.full(len(values), None, dtype=object)
    pos, chars = _eighteen(values)
    if len(pos):
        c = chars[:, 16]
        ascii_digit = (c >= 48) & (c <= 57)
        out[pos[ascii_digit]] = np.where(c[ascii_digit] % 2 == 1, "男", "女")  # "0" is 48: parity as the digit's
        for k in pos[(c > 127)]:  # another script's digit, read as str.isdigit and int() read it
            out[k] = _sex_of(values[k])
    return out


def _sex_of(value: str) -> str | None:
    if not value[16].isdigit():
        return None
    try:
        return "男" if int(value[16]) % 2 else "女"
    except ValueError:  # a digit int() does not read (²)
        return None


def validate(ledgers: LedgerSet, today: dt.date | None = None, as_of: dt.date | None = None, *,
             state: bool = True) -> list[Finding]:
    """All findings: the reader's and the cross-ledger checks, sorted by file, sheet, row, column, code.
    `as_of`: the day person state is judged on (a period's last day); default the latest date in the data.
    `state=False` leaves the person-state checks out, for judged_summary to count once the period is known."""
    found = list(ledgers.findings) + locate(cross_checks(ledgers, today, as_of, state=state), ledgers.positions())
    if not ledgers.kinds_present:  # no ledger, no figures: compute and report refuse such input (exit 2)
        found.append(Finding("no_ledger", "、".join(ledgers.files) or "（无文件）", detail=ledgers.unrecognised()))
    return sorted(found, key=lambda f: f.sort_key())
