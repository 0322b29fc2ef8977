"""Acceptance of `jindu batch` (issue 6): 12 township workbooks + 2 broken files."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import run_forked
from support.workbooks import write_canonical

from jindu_metrics.ledgers.ids import make_id

PERIOD = "2018-01..2018-10"
TOWNS = [f"{c}镇" for c in "甲乙丙丁戊己庚辛壬癸子丑"]


def town_records(town: str, seed: int, n: int = 30, villages: list[str] | None = None, id_base: int = 0) -> dict:
    """Small, plausible ledgers for one township (all kinds), deterministic for a seed."""
    rnd = random.Random(seed)
    villages = villages or [f"{town}{k}村" for k in range(1, 4)]
    persons, seizures, community, contacts, publicity = [], [], [], [], []
    for k in range(n):
        i = id_base + k
        birth = (date(1970, 1, 1) + timedelta(days=i * 37)).strftime("%Y%m%d")
        pid = make_id("440607", birth, i)
        v = villages[k % len(villages)]
        status = rnd.choice(["社会面"] * 6 + ["社区戒毒", "社区康复", "强制隔离戒毒", "出境", "死亡"])
        last = date(2010, 1, 1) + timedelta(days=rnd.randrange(0, 3200))
        persons.append({
            "姓名": f"张{k}", "公民身份号码": pid, "所属村居": v, "所属镇街": town,
            "性别": "男" if int(pid[16]) % 2 else "女", "人员类别": rnd.choice(["本地", "本地", "外来"]),
            "初次发现日期": last - timedelta(days=400), "末次查获日期": last, "人员状态": status,
            "管控等级": rnd.choice(["一级", "二级", "三级"]) if status == "社会面" and last.year >= 2016 else None,
            "纳入网格化": rnd.random() < 0.9, "人户分离": rnd.random() < 0.2, "已查找": rnd.random() < 0.8,
            "已见面": rnd.random() < 0.9, "已建档": rnd.random() < 0.9,
        })
        if rnd.random() < 0.4:
            disposal = rnd.choice(["强制隔离戒毒", "社区戒毒", "刑事拘留", "行政拘留"])
            seizures.append({
                "查处日期": date(2018, 1, 1) + timedelta(days=rnd.randrange(0, 300)), "公民身份号码": pid,
                "新发现": rnd.random() < 0.3, "处置结果": disposal, "应送戒": disposal == "强制隔离戒毒" or rnd.random() < 0.2,
                "病残": rnd.random() < 0.1, "送治": rnd.random() < 0.5,
            })
        if status in ("社区戒毒", "社区康复"):
            decided = date(2017, 6, 1) + timedelta(days=rnd.randrange(0, 450))
            community.append({"公民身份号码": pid, "类别": status, "决定日期": decided,
                              "报到日期": decided + timedelta(days=rnd.randrange(1, 20)),
                              "已建档": rnd.random() < 0.95, "执行状态": "执行中"})
        for _ in range(rnd.randrange(0, 4)):
            contacts.append({"日期": date(2018, 1, 1) + timedelta(days=rnd.randrange(0, 300)), "公民身份号码": pid,
                             "方式": rnd.choice(["走访", "尿检", "毛发检测", "谈话"]),
                             "结果": rnd.choice(["阴性", "阴性", "阴性", "阳性"])})
    for m in range(1, 11):
        publicity.append({"日期": date(2018, m, 15), "形式": rnd.choice(["张贴海报", "派发资料", "教育讲座"]),
                          "数量": rnd.randrange(1, 50), "所属村居": villages[m % len(villages)]})
    units = [{"所属村居": v, "所属镇街": town, "实有人口": 5000 + 100 * j, "禁毒社工": 1} for j, v in enumerate(villages)]
    return {"persons": persons, "seizures": seizures, "community": community, "contacts": contacts,
            "publicity": publicity, "units": units}


def write_county(folder: Path, towns=TOWNS, n: int = 30) -> dict[str, dict]:
    folder.mkdir(parents=True, exist_ok=True)
    recs = {}
    for j, t in enumerate(towns):
        recs[t] = town_records(t, seed=j, n=n, id_base=j * 1000)
        write_canonical(recs[t], folder / f"{t}台帐.xlsx")
    return recs


def write_broken(folder: Path) -> list[str]:
    (folder / "损坏的台帐.xlsx").write_bytes(b"PK\x03\x04 this is not really a workbook")
    good = (folder / f"{TOWNS[0]}台帐.xlsx").read_bytes()
    (folder / "半截文件.xlsx").write_bytes(good[: len(good) // 3])
    return ["损坏的台帐.xlsx", "半截文件.xlsx"]


def run(args) -> tuple[int, str, str]:
    """The real CLI in a child process (the error boundary in main(), stderr not a terminal)."""
    r = run_forked(args, encoding="utf-8")
    return r.returncode, r.stdout, r.stderr


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    base = tmp_path_factory.mktemp("county")
    inp = base / "各镇台帐"
    recs = write_county(inp)
    broken = write_broken(inp)
    scheme = Path(__file__).parents[2] / "src/jindu_metrics/metrics/scoring_example.toml"
    out2 = base / "out2"
    code, stdout, stderr = run(["batch", str(inp), "--period", PERIOD, "--out", str(out2), "--jobs", "2",
                                "--scoring", str(scheme)])
    return {"base": base, "inp": inp, "recs": recs, "broken": broken, "out": out2, "code": code,
            "stdout": stdout, "stderr": stderr, "scheme": scheme,
            "summary": json.loads((out2 / "summary.json").read_text(encoding="utf-8"))}


def test_exit_1_and_failures_named(county):
    assert county["code"] == 1
    failed = [u for u in county["summary"]["units"] if u["status"] == "failed"]
    assert sorted(u["file"] for u in failed) == sorted(county["broken"])
    for u in failed:
        assert u["error"] and u["file"] in county["stderr"]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in u["error"])  # the reason is in Chinese
    assert "Traceback" not in county["stderr"]


def test_twelve_townships_computed_and_bulletins(county):
    ok = [u for u in county["summary"]["units"] if u["status"] == "ok"]
    assert sorted(u["unit"] for u in ok) == sorted(TOWNS)
    for t in TOWNS:
        text = (county["out"] / t / "通报.txt").read_text(encoding="utf-8")
        assert t in text
    county_text = (county["out"] / "全县通报.txt").read_text(encoding="utf-8")
    assert re.search(r"^　　 *1　　\S+镇　+[\d.]+$", county_text, flags=re.M)  # 考评得分 table (plain text), first place
    assert "损坏的台帐.xlsx" in county_text
    assert "文件「" not in county_text and str(county["out"].parent) not in county_text  # no paths in a 公文


def test_total_is_sum_of_parts_for_every_ratio(county):
    s = county["summary"]
    total = {r["metric"]: r for r in s["rows"] if r["unit"] == s["total_unit"]}
    towns = [r for r in s["rows"] if r["unit"] != s["total_unit"]]
    assert total and "rollup_mismatches" not in s
    ratios = [m for m, r in total.items() if r["denominator"] is not None]
    assert len(ratios) >= 10
    for m in ratios:
        parts = [r for r in towns if r["metric"] == m]
        assert len(parts) == 12
        assert total[m]["numerator"] == sum(r["numerator"] for r in parts), m
        assert total[m]["denominator"] == sum(r["denominator"] for r in parts), m
        if total[m]["denominator"]:
            assert total[m]["value"] == pytest.approx(total[m]["numerator"] / total[m]["denominator"])


def test_every_township_row_ranked_and_scored(county):
    s = county["summary"]
    towns = [r for r in s["rows"] if r["unit"] != s["total_unit"]]
    assert towns and all(isinstance(r["rank"], int) and 1 <= r["rank"] <= 12 for r in towns)
    # competition ranking: rank = 1 + number of strictly better townships (direction from the catalog)
    from jindu_metrics.metrics.catalog import load_catalog

    cat = load_catalog()
    for m in {r["metric"] for r in towns}:
        group = [r for r in towns if r["metric"] == m and r["value"] is not None]
        hi = cat.get(m).direction == "higher"
        for r in group:
            better = sum(1 for o in group if (o["value"] > r["value"] if hi else o["value"] < r["value"]))
            assert r["rank"] == better + 1, m
    scores = s["scores"]
    assert sorted(x["unit"] for x in scores) == sorted(TOWNS)
    assert all(0 <= float(x["score"]) <= 100 for x in scores) and min(x["rank"] for x in scores) == 1


def test_summary_workbook(county):
    from openpyxl import load_workbook

    path = county["out"] / "汇总.xlsx"
    wb = load_workbook(path)
    assert wb.sheetnames == ["指标汇总", "考评得分", "数据问题", "趋势"]
    ws = wb["指标汇总"]
    assert [ws.cell(5 + i, 1).value for i in range(13)] == sorted(TOWNS) + ["全县"]
    assert ws.freeze_panes == "B5"
    with zipfile.ZipFile(path) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) >= 3
        assert b"<lineChart>" in z.read(charts[0]) or b"<c:lineChart>" in z.read(charts[0])
    assert wb["考评得分"].max_row == 3 + 12
    failed_files = {c.value for c in wb["数据问题"]["B"]}
    assert set(county["broken"]) <= failed_files


def test_no_pii_in_aggregate_outputs(county):
    blob = (county["out"] / "summary.json").read_text(encoding="utf-8")
    blob += (county["out"] / "全县通报.txt").read_text(encoding="utf-8")
    for t in TOWNS[:3]:
        blob += (county["out"] / t / "通报.txt").read_text(encoding="utf-8")
    for recs in list(county["recs"].values())[:3]:
        for p in recs["persons"][:10]:
            assert p["公民身份号码"] not in blob
            assert f"\"{p['姓名']}\"" not in blob


@pytest.mark.slow
def test_jobs_1_identical_and_equal_to_compute_per_file(county):
    out1 = county["base"] / "out1"
    code, _, _ = run(["batch", str(county["inp"]), "--period", PERIOD, "--out", str(out1), "--jobs", "1",
                      "--scoring", str(county["scheme"])])
    assert code == 1
    for name in ("summary.json", "汇总.xlsx", "全县通报.txt", f"{TOWNS[3]}/通报.txt"):
        assert (out1 / name).read_bytes() == (county["out"] / name).read_bytes(), name
    # each township's rows equal compute on its own file
    from jindu_metrics.ledgers import load_ledgers
    from jindu_metrics.metrics.catalog import load_catalog
    from jindu_metrics.metrics.engine import compute
    from jindu_metrics.periods import parse_period

    s = county["summary"]
    for t in TOWNS[:2]:
        res = compute(load_ledgers([county["inp"] / f"{t}台帐.xlsx"]), load_catalog(), parse_period(PERIOD))
        mine = [{k: v for k, v in r.items() if k not in ("rank", "score", "window")} for r in s["rows"] if r["unit"] == t]
        assert mine == [r.to_dict() for r in res.rows]


def test_county_wide_file_is_split_by_town(county, tmp_path):
    towns = TOWNS[:3]
    merged: dict[str, list] = {}
    for t in towns:
        for kind, rows in county["recs"][t].items():
            merged.setdefault(kind, []).extend(rows)
    # community/contacts/seizures carry no 所属镇街: they must follow the person
    write_canonical(merged, tmp_path / "全县台帐.xlsx")
    code, _, stderr = run(["batch", str(tmp_path / "全县台帐.xlsx"), "--period", PERIOD,
                           "--out", str(tmp_path / "o"), "--jobs", "1"])
    assert code == 0, stderr
    split = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))
    assert [u["unit"] for u in split["units"]] == sorted(towns)
    one_by_one = [r for r in county["summary"]["rows"] if r["unit"] in towns]
    got = [r for r in split["rows"] if r["unit"] in towns]
    key = lambda r: (r["unit"], r["metric"])  # noqa: E731
    strip = lambda r: {k: r[k] for k in ("unit", "metric", "numerator", "denominator", "display")}  # noqa: E731
    assert sorted(map(strip, got), key=key) == sorted(map(strip, one_by_one), key=key)


def test_bad_scheme_and_missing_period_exit_2(county, tmp_path):
    bad = tmp_path / "方案.toml"
    bad.write_text('[[item]]\nmetric = "纳入率"\npoints = 10\ncolour = 1\n', encoding="utf-8")
    code, _, stderr = run(["batch", str(county["inp"]), "--period", PERIOD, "--out", str(tmp_path / "o"),
                           "--scoring", str(bad)])
    assert code == 2 and "第4行" in stderr and "colour" in stderr
    code, _, stderr = run(["batch", str(county["inp"]), "--out", str(tmp_path / "o")])
    assert code == 2 and "--period" in stderr


def test_unit_names_cannot_escape_outdir():
    from jindu_metrics.outputs import safe_name

    assert safe_name("../../etc") == "_.._etc"
    assert "/" not in safe_name("a/b") and safe_name("..") == "_"


def _calc_soffice():
    """soffice, when LibreOffice Calc is installed (a Writer-only install cannot load xlsx)."""
    import shutil

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        return None
    program = Path(os.path.realpath(soffice)).parent
    return soffice if list(program.glob("libsclo*")) else None


@pytest.mark.slow
@pytest.mark.skipif(_calc_soffice() is None, reason="LibreOffice Calc is not installed (.ci/run installs it)")
def test_summary_workbook_opens_in_libreoffice_with_charts(county, tmp_path):
    soffice = _calc_soffice()
    src = county["out"] / "汇总.xlsx"
    r = subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to",
                        "ods", "--outdir", str(tmp_path), str(src)], capture_output=True, text=True, timeout=300)
    out = tmp_path / "汇总.ods"
    assert r.returncode == 0 and out.exists(), r.stderr
    with zipfile.ZipFile(out) as z:
        objects = [n for n in z.namelist() if n.startswith("Object") and n.endswith("content.xml")]
        assert len(objects) >= 3  # the line charts survived the round trip as LibreOffice charts
        assert b"chart:class=\"chart:line\"" in z.read(objects[0])
