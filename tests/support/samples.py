"""Deterministic synthetic ledgers: the 乐平镇 sample (the situation of the 2018年1-10月 bulletin) and
county-sized data for tests and benchmarks.

All people are invented: names from surname/given-name lists, IDs valid under GB 11643 (`ids.make_id`) with
area codes that existed in the birth year (so the reader's place check has nothing to warn about). Every
generator takes a seed and uses its own `random.Random`; records are dicts keyed by canonical column names
with Python values (str, date, bool, int, None), ready for `frames.ledger_set(**records)` or the writers in
`workbooks.py` beside this file.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

from jindu_metrics.ledgers.ids import make_id, upgrade15

UNIT = "乐平镇"
PERIOD_START = date(2018, 1, 1)
LAST_DAY = date(2018, 10, 31)
SEED = 20181115
# Made-up village and community names (not the real ones of 乐平镇).
VILLAGES = ("青禾村", "白沙岗村", "南华社区", "东岚村", "丰和社区", "金塘村", "柳溪村", "石桥村", "新源社区")
MEMBER_UNITS = ("镇派出所", "镇中心小学", "镇文化站", "镇卫生院", "镇团委", "镇妇联", "镇综治办")

SURNAMES = "陈李黄张梁何林罗吴刘邓冯麦叶欧郭谭区关卢杨周钟苏伍谢蔡潘曾江严"
GIVEN_M = "伟志明国华文俊杰建军强辉海波振宇浩家荣永森锦耀泽健斌超峰东亮勇南彬鹏达康富"
GIVEN_F = "丽芳燕玲敏娟霞婷红梅秀英静慧琳雪萍洁莹"

# Area codes with the years stdnum's table knows them: a person gets one valid in the birth year.
LOCAL_AREAS = ("442721", "440602", "440603", "440683", "440607")  # 三水县, 佛山城区/石湾, 三水市, 三水区
OTHER_AREAS = ("432801", "512501", "362101", "362124", "450102", "430102", "360102", "420102", "350102",
               "452501", "445202", "450521", "441402")

TOWNSHIP_PARTS = ("东", "西", "南", "北", "青", "白", "金", "银", "丰", "永", "新", "安", "平", "宁", "康",
                  "福", "云", "石", "龙", "凤", "河", "湖", "山", "岗")


@cache
def _valid_areas(pool: tuple[str, ...], year: int) -> tuple[str, ...]:
    from stdnum.cn import ric

    return tuple(a for a in pool if ric.is_valid(make_id(a, f"{year}0615", 1)))


def _d(a: date, b: date, rng: random.Random) -> date:
    """A random date in [a, b]."""
    return a + timedelta(days=rng.randint(0, (b - a).days))


def split_total(total: int, parts: int, rng: random.Random) -> list[int]:
    """`parts` positive integers summing to `total` (total >= parts)."""
    cuts = sorted(rng.sample(range(1, total), parts - 1)) if parts > 1 else []
    bounds = [0, *cuts, total]
    return [bounds[i + 1] - bounds[i] for i in range(parts)]


@dataclass
class Sample:
    """Generated ledgers plus facts the messy writer needs."""

    records: dict[str, list[dict]]
    id15: dict[str, str] = field(default_factory=dict)  # canonical 18-char ID -> first-generation 15-digit ID


class _Builder:
    def __init__(self, rng: random.Random, unique_names: bool = True):
        self.rng = rng
        self.unique_names = unique_names
        self.names: set[str] = set()
        self.ids: set[str] = set()
        self.id15: dict[str, str] = {}
        self.r: dict[str, list[dict]] = {k: [] for k in
                                         ("persons", "seizures", "community", "contacts", "publicity", "units")}

    # --- people -------------------------------------------------------------------------------------------
    def name(self, male: bool) -> str:
        rng = self.rng
        given = GIVEN_M if male else GIVEN_F
        while True:
            n = rng.choice(SURNAMES) + rng.choice(given) + (rng.choice(given) if rng.random() < 0.7 else "")
            if not self.unique_names or n not in self.names:
                self.names.add(n)
                return n

    def ident(self, male: bool, birth: date, local: bool, old15: bool = False) -> str:
        rng = self.rng
        pool = LOCAL_AREAS if local else OTHER_AREAS
        areas = _valid_areas(pool, birth.year)
        while True:
            area = rng.choice(areas)
            seq = rng.randrange(0, 1000)
            if (seq % 2 == 1) != male:
                seq = (seq + 1) % 1000
            if old15:
                id15 = f"{area}{birth:%y%m%d}{seq:03d}"
                pid = upgrade15(id15)
            else:
                pid = make_id(area, f"{birth:%Y%m%d}", seq)
            if pid not in self.ids:
                self.ids.add(pid)
                if old15:
                    self.id15[pid] = id15
                return pid

    def person(self, unit: str, village: str, *, first: date, last: date | None, status: str,
               level: str | None = None, local: bool = True, grid: bool = False, sick: bool = False,
               old15: bool = False, youth: bool = False) -> dict:
        rng = self.rng
        male = rng.random() < 0.88
        hi = min(first.year - 16, 2000)
        lo = max(1955, hi - (12 if youth else 38))
        birth = date(rng.randint(lo, hi), rng.randint(1, 12), rng.randint(1, 28))
        if old15:
            birth = birth.replace(year=min(birth.year, 1983))
        pid = self.ident(male, birth, local, old15)
        drug = rng.choices(("冰毒", "海洛因", "氯胺酮", "合成毒品"), (60, 25, 10, 5))[0]
        if first.year < 2008 and rng.random() < 0.6:
            drug = "海洛因"
        p = {
            "姓名": self.name(male), "公民身份号码": pid, "所属村居": village, "所属镇街": unit,
            "性别": "男" if male else "女", "人员类别": "本地" if local else "外来",
            "初次发现日期": first, "末次查获日期": last, "滥用毒品种类": drug, "人员状态": status,
            "管控等级": level, "纳入网格化": grid, "病残": sick, "人户分离": False, "已查找": None,
            "已见面": None if local else True, "已建档": None if local else True,
        }
        self.r["persons"].append(p)
        return p

    def seizure(self, p: dict, when: date, disposal: str, *, new: bool = False, due: bool = False,
                sick: bool = False) -> dict:
        s = {"查处日期": when, "公民身份号码": p["公民身份号码"], "姓名": p["姓名"], "所属村居": p["所属村居"],
             "所属镇街": p["所属镇街"], "新发现": new, "处置结果": disposal, "应送戒": due, "病残": sick,
             "送治": False}
        self.r["seizures"].append(s)
        return s

    def order(self, p: dict, kind: str, decided: date, *, reported: date | None, state: str = "执行中",
              ended: date | None = None) -> dict:
        o = {"公民身份号码": p["公民身份号码"], "类别": kind, "决定日期": decided, "姓名": p["姓名"],
             "所属村居": p["所属村居"], "所属镇街": p["所属镇街"], "报到日期": reported,
             "已建档": reported is not None, "执行状态": state, "解除日期": ended}
        self.r["community"].append(o)
        return o

    def contact(self, p: dict, when: date, method: str, result: str, worker: str) -> None:
        self.r["contacts"].append({"日期": when, "公民身份号码": p["公民身份号码"], "方式": method, "结果": result,
                                   "所属村居": p["所属村居"], "经办人": worker, "姓名": p["姓名"]})


def _month_days(year: int, month: int) -> tuple[date, date]:
    start = date(year, month, 1)
    end = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1))
    return start, end


# Group sizes of the 乐平镇 bulletin situation (see tests/packaging/test_samples.py for the arithmetic).
LEPING_GROUPS = {
    "new_detained": 2,  # 新发现 and 刑事拘留 -> 羁押
    "new_community": 14,  # 新发现, 社区戒毒 order (one decided 10-25, not yet reported)
    "relapse_detained": 10,  # 复吸, 刑事拘留 -> 羁押/服刑
    "relapse_compulsory": 11,  # 复吸, 应送戒, 强制隔离戒毒
    "relapse_community": 7,  # 复吸, 应送戒, 社区戒毒 order (3 病残, not 送治)
    "relapse_admin": 5,  # 复吸, 应送戒, 行政拘留 -> back in society
    "old_orders": 16,  # orders of 2016-2018 still in force (10 社区戒毒, 6 社区康复 after 强戒)
    "ended_orders": 4,  # 期满解除 in 2018, abstinent since 2015
    "abstinent": 112,  # 社会面, last detection <= 2015-10-31
    "managed": 216,  # 社会面/失联, last detection 2015-11-01 .. 2017
    "compulsory_2017": 8,  # 强制隔离戒毒 since 2017
    "prison": 15,  # 服刑 since 2016-2017
    "abroad": 4,  # 出境
    "dead": 6,  # 死亡 (one with an order ended by death)
}
LEPING_GRID_EXCLUDED = 20
LEPING_PUBLICITY = {  # 形式 -> (total 数量, rows)
    "LED滚动播放": (650, 20), "户外宣传": (18, 12), "张贴海报": (225, 10), "派发资料": (6790, 15),
    "媒体采用": (13, 8), "宣传活动": (21, 21), "教育讲座": (9, 9), "现身说法": (2, 2), "文艺汇演": (1, 1),
}
LEPING_LEADERS = 37
LEPING_AUDIENCE = 37000
LEPING_WORKERS = (2, 1, 1, 1, 1, 1, 1, 1, 1)


def _township(b: _Builder, unit: str, villages: tuple[str, ...], groups: dict[str, int], *,
              grid_excluded: int, publicity: dict[str, tuple[int, int]], leaders: int, audience: int,
              workers: tuple[int, ...], n_old15: int, pending_order: bool = True) -> None:
    rng = b.rng
    weights = [rng.randint(4, 12) for _ in villages]

    def village() -> str:
        return rng.choices(villages, weights)[0]

    staff = {v: [b.name(rng.random() < 0.4) for _ in range(max(1, w))] for v, w in
             zip(villages, (workers + (1,) * len(villages))[:len(villages)])}
    old15_left = [n_old15]

    def person(**kw) -> dict:
        if old15_left[0] > 0 and kw.get("first", LAST_DAY) < date(2014, 1, 1) and kw.get("local", True):
            old15_left[0] -= 1
            kw["old15"] = True
        return b.person(unit, village(), **kw)

    W0, W1 = date(2018, 1, 8), date(2018, 10, 10)
    past = lambda: _d(date(2006, 1, 1), date(2016, 6, 30), rng)  # noqa: E731
    managed: list[dict] = []  # (person) under dynamic control on the last day
    since: dict[str, date] = {}  # pid -> first day they could be visited in the window
    positives: list[tuple[dict, date, str]] = []
    in_society: list[dict] = []
    abstinent: list[dict] = []

    def prior_2017(p: dict, before: date) -> None:
        # An earlier seizure in 2017 (released the same month), so 同比 has data.
        if rng.random() < 0.5:
            when = _d(max(date(2017, 1, 5), p["初次发现日期"] + timedelta(days=30)), date(2017, 12, 20), rng)
            if when < before:
                b.seizure(p, when, rng.choice(("行政拘留", "不予处罚")))

    # Seized in the window: 新发现.
    for _ in range(groups["new_detained"]):
        when = _d(date(2018, 2, 1), date(2018, 10, 20), rng)
        p = person(first=when, last=when, status="羁押", youth=True)
        b.seizure(p, when, "刑事拘留", new=True)
    for i in range(groups["new_community"]):
        when = date(2018, 10, 25) if (i == 0 and pending_order) else _d(W0, W1, rng)
        p = person(first=when, last=when, status="社区戒毒", level="一级", grid=True, youth=True)
        b.seizure(p, when, "社区戒毒", new=True)
        pending = when == date(2018, 10, 25)
        b.order(p, "社区戒毒", when, reported=None if pending else when + timedelta(days=rng.randint(1, 12)))
        managed.append(p)
        in_society.append(p)
        since[p["公民身份号码"]] = when + timedelta(days=1)
        positives.append((p, when, "尿检"))
    # Seized in the window: 复吸.
    for _ in range(groups["relapse_detained"]):
        when = _d(W0, date(2018, 10, 20), rng)
        p = person(first=past(), last=when, status="服刑" if when < date(2018, 6, 1) else "羁押")
        prior_2017(p, when)
        b.seizure(p, when, "刑事拘留")
    for _ in range(groups["relapse_compulsory"]):
        when = _d(W0, date(2018, 10, 25), rng)
        p = person(first=past(), last=when, status="强制隔离戒毒")
        prior_2017(p, when)
        b.seizure(p, when, "强制隔离戒毒", due=True)
    for i in range(groups["relapse_community"]):
        when = _d(W0, W1, rng)
        sick = i < 3 * groups["relapse_community"] // 7
        p = person(first=past(), last=when, status="社区戒毒", level=rng.choice(("一级", "二级")), grid=True,
                   sick=sick)
        prior_2017(p, when)
        b.seizure(p, when, "社区戒毒", due=True, sick=sick)
        b.order(p, "社区戒毒", when, reported=when + timedelta(days=rng.randint(1, 12)))
        managed.append(p)
        in_society.append(p)
        positives.append((p, when, "尿检"))
    for _ in range(groups["relapse_admin"]):
        when = _d(W0, W1, rng)
        p = person(first=past(), last=when, status="社会面", level=rng.choice(("一级", "二级")), grid=True)
        prior_2017(p, when)
        b.seizure(p, when, "行政拘留", due=True)
        managed.append(p)
        in_society.append(p)
        positives.append((p, when, rng.choice(("尿检", "毛发检测"))))
    # Orders of earlier years still in force.
    n_old = groups["old_orders"]
    for i in range(n_old):
        if i < n_old * 10 // 16:
            decided = _d(date(2016, 1, 5), date(2017, 12, 20), rng)
            new = rng.random() < 0.5
            p = person(first=decided if new else _d(date(2008, 1, 1), date(2015, 6, 30), rng), last=decided,
                       status="社区戒毒", level="二级", grid=True)
            b.seizure(p, decided, "社区戒毒", new=new)
            b.order(p, "社区戒毒", decided, reported=decided + timedelta(days=rng.randint(1, 12)))
        else:
            seized = _d(date(2016, 1, 5), date(2016, 10, 5), rng)
            decided = seized + timedelta(days=730)  # released from 2 years of 强戒, 责令社区康复
            p = person(first=_d(date(2006, 1, 1), date(2014, 12, 31), rng), last=seized, status="社区康复",
                       level="二级", grid=True)
            b.seizure(p, seized, "强制隔离戒毒", due=True)
            b.order(p, "社区康复", decided, reported=decided + timedelta(days=rng.randint(1, 10)))
        managed.append(p)
        in_society.append(p)
    # Orders that ended in 2018: abstinent since 2015.
    for _ in range(groups["ended_orders"]):
        decided = _d(date(2015, 1, 5), date(2015, 6, 30), rng)
        p = person(first=_d(date(2008, 1, 1), date(2014, 12, 31), rng), last=decided, status="社会面", grid=True)
        b.seizure(p, decided, "社区戒毒")
        b.order(p, "社区戒毒", decided, reported=decided + timedelta(days=rng.randint(1, 10)), state="期满解除",
                ended=decided.replace(year=2018) - timedelta(days=1))
        in_society.append(p)
        abstinent.append(p)
    # Abstinent three years or more.
    for i in range(groups["abstinent"]):
        last = date(2015, 10, 31) if i == 0 else _d(date(2004, 1, 1), date(2015, 10, 31), rng)
        first = last if rng.random() < 0.4 else _d(date(2000, 1, 1), last, rng)
        keep_last = rng.random() < 0.7 or first != last
        p = person(first=first, last=last if keep_last else None, status="社会面", grid=True,
                   local=rng.random() > 0.06)
        if keep_last and rng.random() < 0.3 and last > first:
            b.seizure(p, last, rng.choice(("行政拘留", "强制隔离戒毒")))
        in_society.append(p)
        abstinent.append(p)
    # Managed: last detected 2015-11-01 .. 2017-12.
    seized_2017: list[dict] = []
    for i in range(groups["managed"]):
        last = date(2015, 11, 1) if i == 0 else _d(date(2015, 11, 2), date(2017, 12, 20), rng)
        first = _d(date(2004, 1, 1), last - timedelta(days=60), rng) if rng.random() < 0.8 else last
        level = rng.choices(("一级", "二级", "三级"), (10, 30, 60))[0]
        p = person(first=first, last=last, status="失联" if rng.random() < 0.03 else "社会面", level=level,
                   grid=True, local=rng.random() > 0.09)
        if last.year == 2017 and rng.random() < 0.6:
            b.seizure(p, last, rng.choice(("行政拘留", "不予处罚")), new=first == last)
            positives.append((p, last, "尿检"))
            seized_2017.append(p)
        managed.append(p)
        in_society.append(p)
    # Seized again after the window (Nov-Dec 2018): stays managed either way.
    for p in seized_2017[: max(1, len(seized_2017) // 7)]:
        when = _d(date(2018, 11, 2), date(2018, 12, 20), rng)
        b.seizure(p, when, "行政拘留")
        p["末次查获日期"] = when
    # In facilities, abroad, dead.
    for _ in range(groups["compulsory_2017"]):
        when = _d(date(2017, 1, 5), date(2017, 12, 20), rng)
        p = person(first=past(), last=when, status="强制隔离戒毒")
        b.seizure(p, when, "强制隔离戒毒", due=True)
    for _ in range(groups["prison"]):
        when = _d(date(2016, 3, 1), date(2017, 12, 20), rng)
        p = person(first=_d(date(2005, 1, 1), when, rng), last=when, status="服刑")
        b.seizure(p, when, "刑事拘留", new=p["初次发现日期"] == when)
    for _ in range(groups["abroad"]):
        last = _d(date(2010, 1, 1), date(2017, 6, 30), rng)
        person(first=_d(date(2003, 1, 1), last, rng), last=last, status="出境")
    for i in range(groups["dead"]):
        if i == 0:
            decided = _d(date(2017, 3, 1), date(2017, 6, 30), rng)
            p = person(first=_d(date(2005, 1, 1), date(2012, 12, 31), rng), last=decided, status="死亡")
            b.seizure(p, decided, "社区戒毒")
            b.order(p, "社区戒毒", decided, reported=decided + timedelta(days=5), state="死亡",
                    ended=_d(date(2018, 1, 10), date(2018, 3, 31), rng))
        else:
            last = _d(date(2005, 1, 1), date(2016, 12, 31), rng)
            person(first=_d(date(2000, 1, 1), last, rng), last=last, status="死亡")

    # Flags among persons in society: grid exclusions, 人户分离, 外来 not yet met/filed.
    pool = [p for p in in_society if p["管控等级"] != "一级"]
    for p in rng.sample(pool, min(grid_excluded, len(pool))):
        p["纳入网格化"] = False
    for k, p in enumerate(rng.sample(in_society, max(1, len(in_society) * 8 // 100))):
        p["人户分离"] = True
        p["已查找"] = k % 10 != 0
    outsiders = [p for p in in_society if p["人员类别"] == "外来"]
    for k, p in enumerate(outsiders[:3]):
        p["已建档"] = False
        if k == 0:
            p["已见面"] = False
    for p in rng.sample(in_society, max(1, len(in_society) // 60)):
        p["病残"] = True

    # Contacts: visits and tests.
    for p in managed:
        pid = p["公民身份号码"]
        worker_list = staff[p["所属村居"]]
        start = max(since.get(pid, p["初次发现日期"] + timedelta(days=1)), date(2017, 1, 1))
        w_start = max(start, PERIOD_START)
        w_end = LAST_DAY
        guaranteed = _d(w_start, w_end, rng)
        b.contact(p, guaranteed, "走访", "见面", rng.choice(worker_list))
        for year, month in [(y, m) for y in (2017, 2018) for m in range(1, 13)]:
            lo, hi = _month_days(year, month)
            lo = max(lo, start)
            if lo > hi or rng.random() > 0.45:
                continue
            method = rng.choices(("走访", "谈话", "见面"), (70, 15, 15))[0]
            result = "见面" if method != "走访" or rng.random() < 0.93 else "未见面"
            b.contact(p, _d(lo, hi, rng), method, result, rng.choice(worker_list))
        if not p["人户分离"]:
            tested = rng.random() < 0.93
            for q in range(4):
                lo = max(date(2018, 1 + 3 * q, 1), start)
                hi = min(_month_days(2018, min(3 + 3 * q, 12))[1], LAST_DAY if q < 3 else date(2018, 12, 31))
                if lo <= hi and (tested and (q == 0 or rng.random() < 0.7)):
                    b.contact(p, _d(lo, hi, rng), "尿检", "阴性", rng.choice(worker_list))
        elif rng.random() < 0.5:
            lo = max(PERIOD_START, start)
            if lo <= LAST_DAY:
                b.contact(p, _d(lo, LAST_DAY, rng), "外出帮教尿检", "阴性", rng.choice(worker_list))
        if p["管控等级"] in ("一级", "二级") and rng.random() < 0.9:
            lo = max(PERIOD_START, start)
            if lo <= LAST_DAY:
                b.contact(p, _d(lo, LAST_DAY, rng), "毛发检测", "阴性", rng.choice(worker_list))
    for p, when, method in positives:
        b.contact(p, when, method, "阳性", rng.choice(staff[p["所属村居"]]))
    for p in abstinent:
        if rng.random() < 0.5:
            b.contact(p, _d(PERIOD_START, date(2018, 12, 20), rng), "走访", "见面", rng.choice(staff[p["所属村居"]]))

    _schedule_tests(b, unit, staff)

    # Publicity: exact totals inside the window, plus activity in 2017 and Nov-Dec 2018.
    doers = list(villages) + list(MEMBER_UNITS)
    talk_rows: list[dict] = []
    outdoor_rows: list[dict] = []
    for form, (total, rows) in publicity.items():
        for qty in split_total(total, rows, rng):
            rec = {"日期": _d(PERIOD_START, LAST_DAY, rng), "形式": form, "数量": qty, "单位": rng.choice(doers),
                   "领导出席人次": None, "受教育人数": None, "所属村居": None}
            b.r["publicity"].append(rec)
            if form == "户外宣传":
                outdoor_rows.append(rec)
            if form in ("宣传活动", "教育讲座", "现身说法", "文艺汇演"):
                talk_rows.append(rec)
    if outdoor_rows:
        for rec, n in zip(outdoor_rows, split_total(leaders, len(outdoor_rows), rng)):
            rec["领导出席人次"] = n
    if talk_rows:
        for rec, n in zip(talk_rows, split_total(audience // 10, len(talk_rows), rng)):
            rec["受教育人数"] = n * 10
    for when_lo, when_hi, n in ((date(2017, 1, 1), date(2017, 12, 31), 40), (date(2018, 11, 1), date(2018, 12, 20), 8)):
        for _ in range(n):
            form = rng.choice(list(publicity))
            qty = {"LED滚动播放": 30, "派发资料": 400, "张贴海报": 20}.get(form, 1)
            b.r["publicity"].append({"日期": _d(when_lo, when_hi, rng), "形式": form,
                                     "数量": rng.randint(1, qty), "单位": rng.choice(doers),
                                     "领导出席人次": rng.randint(1, 3) if form == "户外宣传" else None,
                                     "受教育人数": rng.randint(5, 150) * 10 if form in ("宣传活动", "教育讲座") else None,
                                     "所属村居": None})
    # Units: one row per village.
    for v, w in zip(villages, (workers + (1,) * len(villages))[:len(villages)]):
        b.r["units"].append({"所属村居": v, "所属镇街": unit, "实有人口": rng.randint(60, 260) * 100,
                             "禁毒社工": w, "网格员": rng.randint(6, 24)})


# The default catalog's urine schedule (interval months per order year), for the sample's tests.
SCHEDULE_MONTHS = {"社区戒毒": (1, 2, 3), "社区康复": (2, 3, 6)}
TESTS_UNTIL = date(2018, 12, 20)


def _schedule_tests(b: _Builder, unit: str, staff: dict[str, list[str]]) -> None:
    """尿检 of the community orders in force along their schedule from 报到日期: most persons keep every
    interval, some miss a few (the persons behind), two of the 2018 社区戒毒 relapse (a 阳性 test after
    reporting). Drawn from a generator of their own, so the rest of the sample is unchanged."""
    import numpy as np

    from jindu_metrics.metrics.schedule import _offsets, add_months

    rng = random.Random(f"{unit}-schedule")
    persons = {p["公民身份号码"]: p for p in b.r["persons"] if p["所属镇街"] == unit}
    orders = [o for o in b.r["community"] if o["所属镇街"] == unit and o["执行状态"] == "执行中" and o["报到日期"]]
    relapsing = [o for o in orders if o["类别"] == "社区戒毒" and date(2018, 1, 1) <= o["决定日期"]
                 and o["报到日期"] <= date(2018, 9, 1)][:2]
    for o in orders:
        p = persons[o["公民身份号码"]]
        reported = np.array([o["报到日期"]], dtype="datetime64[D]")
        off = _offsets(SCHEDULE_MONTHS[o["类别"]], 4)
        starts = add_months(reported, off[:-1])[0]
        ends = add_months(reported, off[1:])[0] - np.timedelta64(1, "D")
        keen = rng.random() < 0.6
        for lo, hi in zip(starts.tolist(), ends.tolist()):
            lo, hi = max(lo, date(2017, 1, 1)), min(hi, TESTS_UNTIL)
            if lo > hi:
                continue
            if keen or rng.random() < 0.8:
                b.contact(p, _d(lo, hi, rng), "尿检", "阴性", rng.choice(staff[p["所属村居"]]))
        if o in relapsing:
            b.contact(p, _d(o["报到日期"] + timedelta(days=20), date(2018, 10, 20), rng), "尿检", "阳性",
                      rng.choice(staff[p["所属村居"]]))


def _finish(b: _Builder) -> dict[str, list[dict]]:
    rng = b.rng
    r = b.r
    rng.shuffle(r["persons"])
    r["persons"].sort(key=lambda p: (p["所属镇街"], p["所属村居"]))
    r["seizures"].sort(key=lambda s: (s["查处日期"], s["公民身份号码"]))
    r["community"].sort(key=lambda o: (o["决定日期"], o["公民身份号码"]))
    r["contacts"].sort(key=lambda c: (c["日期"], c["公民身份号码"], c["方式"]))
    r["publicity"].sort(key=lambda x: (x["日期"], x["形式"], x["单位"]))
    return r


def leping_sample(seed: int = SEED) -> Sample:
    """The 乐平镇 sample: ledgers holding exactly the situation of the 2018年1-10月 bulletin."""
    b = _Builder(random.Random(seed))
    _township(b, UNIT, VILLAGES, LEPING_GROUPS, grid_excluded=LEPING_GRID_EXCLUDED, publicity=LEPING_PUBLICITY,
              leaders=LEPING_LEADERS, audience=LEPING_AUDIENCE, workers=LEPING_WORKERS, n_old15=6)
    return Sample(_finish(b), dict(b.id15))


def leping_records(seed: int = SEED) -> dict[str, list[dict]]:
    return leping_sample(seed).records


def township_names(n: int, rng: random.Random) -> list[str]:
    parts = TOWNSHIP_PARTS
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        name = rng.choice(parts) + rng.choice(parts) + ("镇" if rng.random() < 0.7 else "街道")
        if name[0] != name[1] and name not in seen:
            seen.add(name)
            names.append(name)
    return names


def county_records(n_townships: int, persons_per_township: int, seed: int = 1) -> dict[str, list[dict]]:
    """County-sized ledgers: `n_townships` townships shaped like the 乐平镇 sample, each with about
    `persons_per_township` persons (and about 10 contacts per person), distinguished by 所属镇街."""
    rng = random.Random(seed)
    b = _Builder(rng, unique_names=False)
    base = sum(LEPING_GROUPS.values())
    scale = persons_per_township / base
    units = township_names(n_townships, rng)
    for t, unit in enumerate(units):
        villages = tuple(f"{unit[:2]}{rng.choice(TOWNSHIP_PARTS)}{'村' if k % 3 else '社区'}{k + 1}"
                         for k in range(9))
        groups = {g: max(1, round(n * scale)) for g, n in LEPING_GROUPS.items()}
        publicity = {f: (max(rows, round(tot * scale)), max(1, min(rows, round(rows * scale))))
                     for f, (tot, rows) in LEPING_PUBLICITY.items()}
        publicity = {f: (max(tot, rows), rows) for f, (tot, rows) in publicity.items()}
        outdoor = publicity["户外宣传"][1]
        talks = sum(publicity[f][1] for f in ("宣传活动", "教育讲座", "现身说法", "文艺汇演"))
        _township(b, unit, villages, groups, grid_excluded=round(LEPING_GRID_EXCLUDED * scale),
                  publicity=publicity, leaders=max(outdoor, round(LEPING_LEADERS * scale)),
                  audience=max(10 * talks, int(round(LEPING_AUDIENCE * scale, -1))),
                  workers=tuple(max(1, round(w * scale)) for w in LEPING_WORKERS), n_old15=0,
                  pending_order=t % 2 == 0)
    return _finish(b)
