"""Person state on a day, computed once for the engine and for validation.

For a LedgerSet's persons (with its seizures and contacts) and one or more days, the derived columns of
`derived.of("persons", WINDOW)`: 末次检出日期, 在册, 出境, 在所, 社会面, 三年未复吸, 戒断一年以上, 管控.
Array operations over all rows; several days share one pass over seizures and contacts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import schema
from .ledgers.link import Ids, ids_of

ID = "公民身份号码"
NAT = np.iinfo(np.int64).min  # NaT as int64 nanoseconds
_NEVER = np.iinfo(np.int64).max  # no date known


def ns(s: pd.Series) -> np.ndarray:
    """A date column as int64 nanoseconds (NaT is the smallest int64)."""
    return s.to_numpy(dtype="datetime64[ns]").view(np.int64)


def order_end(c: pd.DataFrame) -> np.ndarray:
    """The community orders' 解除日期 as int64 nanoseconds; NaT where it is before the 决定日期 (a date that
    cannot be: the order is then judged by its 执行状态, as one without 解除日期; validate reports the row)."""
    end, decided = ns(c["解除日期"]), ns(c["决定日期"])
    return np.where((end != NAT) & (decided != NAT) & (end < decided), NAT, end)


def _latest_codes(codes: np.ndarray, dates: np.ndarray, lasts: list, n: int) -> list[np.ndarray]:
    """Per ID code, the latest date on or before each of `lasts` (int64 ns; NaT, the smallest int64, if none)."""
    out = []
    for last in lasts:
        vals = np.where(dates <= last.value, dates, NAT)
        vals[dates == NAT] = NAT
        res = np.full(n, NAT, dtype=np.int64)
        np.maximum.at(res, codes, vals)
        out.append(res)
    return out


def positive_tests(contacts: pd.DataFrame) -> np.ndarray:
    """Per contacts row: a drug test with a 阳性 result (a detection)."""
    result, how = contacts["结果"], contacts["方式"]
    if result.dtype == object and how.dtype == object:
        try:  # elementwise over the reader's text (None for empty); 方式 looked at on the few 阳性 rows only
            out = np.asarray(result.to_numpy() == schema.POSITIVE, dtype=bool)
            hit = np.flatnonzero(out)
            out[hit] = np.isin(how.to_numpy()[hit], list(schema.TESTS))
            return out
        except TypeError:  # a pd.NA among the values (frames built elsewhere): by pandas
            pass
    return ((result == schema.POSITIVE) & how.isin(schema.TESTS)).fillna(False).to_numpy(dtype=bool)


def person_states(persons: pd.DataFrame, seizures: pd.DataFrame, contacts: pd.DataFrame,
                  lasts: list, ids: Ids | None = None) -> list[dict[str, pd.Series]]:
    """Each person's state as of each day of `lasts` (pd.Timestamp): one dict of derived columns per day,
    each a Series on persons' index. `ids`: the frames' link.Ids, when known."""
    p, seiz, cont = persons, seizures, contacts
    pos = positive_tests(cont)
    if ids is None:
        ids = ids_of({"persons": p, "seizures": seiz, "contacts": cont[pos]})
        p_codes, s_codes, c_codes = ids.codes["persons"], ids.codes["seizures"], ids.codes["contacts"]
    else:
        p_codes, s_codes, c_codes = ids.codes["persons"], ids.codes["seizures"], ids.codes["contacts"][pos]
    n_ids = ids.n + 1
    # missing IDs share one slot that no person reads
    s_codes, c_codes = np.where(s_codes < 0, n_ids - 1, s_codes), np.where(c_codes < 0, n_ids - 1, c_codes)
    s_dates, c_dates = ns(seiz["查处日期"]), ns(cont["日期"])[pos]
    s_last = _latest_codes(s_codes, s_dates, lasts, n_ids)
    c_last = _latest_codes(c_codes, c_dates, lasts, n_ids)
    s_first_code = np.full(n_ids, _NEVER, dtype=np.int64)
    np.minimum.at(s_first_code, s_codes, np.where(s_dates == NAT, _NEVER, s_dates))
    s_first_code[n_ids - 1] = _NEVER
    s_first = np.where(p_codes >= 0, s_first_code[p_codes], _NEVER)
    own = ns(p["末次查获日期"])
    first = ns(p["初次发现日期"])
    first_known = np.where(first == NAT, _NEVER, first)
    known_from = np.minimum(first_known, s_first)  # _NEVER: no date known
    status = p["人员状态"]
    not_registered = status.isin(schema.NOT_REGISTERED + (schema.STATUS_UNKNOWN,)).to_numpy(dtype=bool)
    abroad = (status == schema.ABROAD).fillna(False).astype(bool).to_numpy()
    inside = status.isin(schema.IN_FACILITY).to_numpy(dtype=bool)
    social = (status.isin(schema.SOCIAL) | status.isna()).to_numpy(dtype=bool)
    out = []
    for k, last in enumerate(lasts):
        lv = last.value
        own_k = np.where(own <= lv, own, NAT)
        own_k[own == NAT] = NAT
        latest = np.maximum(own_k, np.where(p_codes >= 0, np.maximum(s_last[k][np.maximum(p_codes, 0)],
                                                                     c_last[k][np.maximum(p_codes, 0)]), NAT))
        first_k = np.where((first != NAT) & (first <= lv), first, NAT)
        latest = np.where(latest == NAT, first_k, latest)
        latest_s = pd.Series(latest.view("datetime64[ns]"), index=p.index)
        known = (known_from == _NEVER) | (known_from <= lv)
        registered = known & ~not_registered
        # Vectorised "+N years" with the civil-code rule (Feb 29 + 1 year -> Feb 28).
        plus3 = (latest_s + pd.DateOffset(years=3) <= last).fillna(False).to_numpy(dtype=bool)
        plus1 = (latest_s + pd.DateOffset(years=1) <= last).fillna(False).to_numpy(dtype=bool)
        social_k = registered & social
        three = registered & ~abroad & ~inside & plus3
        out.append({"末次检出日期": latest_s, "在册": pd.Series(registered, index=p.index),
                    "出境": pd.Series(abroad, index=p.index), "在所": pd.Series(inside, index=p.index),
                    "社会面": pd.Series(social_k, index=p.index), "三年未复吸": pd.Series(three, index=p.index),
                    "戒断一年以上": pd.Series(registered & plus1, index=p.index),
                    "管控": pd.Series(social_k & ~three, index=p.index)})
    return out


def states_of(ledgers, lasts: list) -> list[dict[str, pd.Series]]:
    """person_states of a LedgerSet's own persons, seizures and contacts, kept on it by day: the engine and
    the state checks of one run judge the same last day (a county's contacts make each pass cost)."""
    kinds = ("persons", "seizures", "contacts")
    by_day = ledgers.kept("person_states", kinds, dict)  # frames replaced: judged anew
    todo = list(dict.fromkeys(d for d in lasts if d not in by_day))
    if todo:
        by_day.update(zip(todo, person_states(*(ledgers[k] for k in kinds), todo, ledgers.ids())))
    return [by_day[d] for d in lasts]


def latest_seizure(ledgers, last: pd.Timestamp) -> pd.Series:
    """Per person of a LedgerSet: the latest 查处日期 of the person in its seizures ledger on or before `last`
    (NaT if none)."""
    persons, seizures = ledgers["persons"], ledgers["seizures"]
    ids = ledgers.ids()
    n_ids = ids.n + 1
    s_codes = ids.codes["seizures"]
    res = _latest_codes(np.where(s_codes < 0, n_ids - 1, s_codes), ns(seizures["查处日期"]), [last], n_ids)[0]
    res[n_ids - 1] = NAT
    p_codes = ids.codes["persons"]
    return pd.Series(res[np.where(p_codes < 0, n_ids - 1, p_codes)].view("datetime64[ns]"), index=persons.index)
