"""A bulletin an office sends unedited (issue 28.5), on generated ledgers: every count with its unit word, 截至,
no "—" in prose, each missing-ledger (or missing-column) reason once per sentence naming its figures, no
doubled punctuation, a real or clearly marked signature, plain-text tables in txt, wording from the catalog."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.workbooks import write_canonical
from test_batch import town_records

from jindu_metrics.metrics.catalog import load_catalog
from jindu_metrics.report.context import OFFICE_PLACEHOLDER, Indicator
from jindu_metrics.report.filters import missing_note, missing_sentence, say, sentence, table

CAT = load_catalog()
KINDS_ALL = ("persons", "seizures", "community", "contacts", "publicity", "units")


def _town(folder: Path, name: str, kinds=KINDS_ALL, seed: int = 3, town: str = "东镇", empty=()) -> Path:
    recs = town_records(town, seed=seed, n=40)
    for k in empty:  # a ledger given with no rows in the window: its ratios have a zero denominator
        recs[k] = []
    path = folder / name
    folder.mkdir(parents=True, exist_ok=True)
    return write_canonical({k: v for k, v in recs.items() if k in kinds}, path)


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=。)", text) if s.strip()]


def _prose(text: str) -> list[str]:
    """The prose lines of a txt bulletin (tables and the signature block left out)."""
    lines = text.split("\n")
    return [ln for ln in lines if ln.startswith("　　") and "。" in ln]


@pytest.fixture(scope="module")
def full(tmp_path_factory) -> Path:
    return _town(tmp_path_factory.mktemp("full"), "东镇台帐.xlsx")


@pytest.fixture(scope="module")
def bulletin(full):
    from conftest import run_cli

    code, out, err = run_cli(["report", full, "--period", "2018-10"])
    assert code == 0, err
    return out


# ---------------------------------------------------------------- units, 截至, dashes
def test_every_count_is_followed_by_its_unit_word(bulletin):
    """Each count or sum the bulletin states in the catalog's phrase carries the catalog's unit word."""
    checked = 0
    for ind in CAT.indicators:
        w = ind.wording
        if ind.kind == "ratio" or not w.unit:
            continue
        for m in re.finditer(re.escape(w.phrase) + r"(\d+)(\D{0,2})", bulletin):
            assert m.group(2).startswith(w.unit), (ind.id, m.group(0))
            checked += 1
    assert checked >= 8  # 查处, 刑拘, 新发现, 强戒, 纳入网格化, 管控, 走访, 在册, 报到建档 and the publicity sums
    assert re.search(r"管控人数\d+人", bulletin)


def test_publicity_lists_what_was_done(bulletin):
    """The generated town's publicity ledger holds 张贴海报, 派发资料 and 教育讲座 only: the other forms are not
    listed as 0 ("滚动播放动态LED0条"), and no separator is left where they were."""
    line = next(ln for ln in bulletin.split("\n") if "（四）禁毒宣传" in ln)
    assert re.fullmatch(r"　　（四）禁毒宣传。截至10月底，我镇累计完成张贴海报\d+张，派发禁毒资料\d+份；禁毒教育讲座\d+场次。", line), line


def test_jiezhi_and_no_dash_in_prose(bulletin, full, tmp_path):
    from conftest import run_cli

    assert "截至10月底" in bulletin and "截止" not in bulletin
    # a ledger given without rows: every ratio over it has a zero denominator, said in words
    path = _town(tmp_path, "x.xlsx", empty=("community", "publicity"))
    code, out, err = run_cli(["report", path, "--period", "2018-10"])
    assert code == 0, err
    assert "执行率无法计算（在册社区戒毒社区康复人数为0）" in out
    assert "（四）禁毒宣传。截至10月底，我镇禁毒宣传台帐中没有宣传活动的记录。" in out
    for line in _prose(out) + _prose(bulletin):
        assert "—" not in line, line


# ---------------------------------------------------------------- missing ledgers and columns
@pytest.mark.parametrize("drop", [("contacts",), ("persons",), ("community", "units"), ("publicity",)])
def test_missing_ledger_notes_name_their_figures_once_per_sentence(tmp_path, drop):
    from conftest import run_cli

    from jindu_metrics.schema import KINDS

    path = _town(tmp_path, "t.xlsx", kinds=[k for k in KINDS_ALL if k not in drop])
    code, out, err = run_cli(["report", path, "--period", "2018-10"])
    assert code == 0, err
    for k in drop:
        assert f"因未提供{KINDS[k].name}，" in out
    for s in _sentences(out):
        for k in drop:
            assert s.count(f"未提供{KINDS[k].name}") <= 1, s  # each reason once per sentence
    # each note names exactly the figures that need that ledger, among those the sentence would state
    for m in re.finditer(r"因未提供([^，；。）]+)，([^；。）]+)无法统计", out):
        kinds = {k for k, v in KINDS.items() if v.name in m.group(1).split("、")}
        for name in m.group(2).split("、"):
            if name.startswith("二级"):  # "一、二级人员毛发采集率" holds a 、 of its own
                continue
            ind = CAT.get(name if not name.endswith("一") else name + "、二级人员毛发采集率")
            assert kinds & set(ind.ledgers), (name, m.group(0))
    assert not re.search(r"[，；、。]{2,}|。（|^（因", out, flags=re.M)  # no doubled punctuation, no lone note


def test_note_of_a_missing_column_reads_like_a_missing_ledger():
    """The rendering is generic over the reason: a figure without value for want of a column (another
    module's missing_columns) is left out and named the same way."""
    ind = CAT.get("outsider_met_rate")
    row = SimpleNamespace(metric=ind.id, name=ind.name, unit="东镇", kind="ratio", display="无此列", exact=None,
                          numerator=None, denominator=None, reason="吸毒人员登记台帐没有「已见面」列", target="100%",
                          met=None, gap=None, missing=(), missing_columns=(("persons", "已见面"),))
    x = Indicator(row, ind, "东镇")
    other = Indicator(SimpleNamespace(metric="x", name="外来吸毒人员建档率", exact=None, display="无台帐", kind="ratio",
                                      missing=("contacts",), reason="未提供帮教管控台帐"), None, "东镇")
    assert x.absent and x.notes == ["吸毒人员登记台帐没有「已见面」列"] and say(x) == ""
    assert x.missing == x.missing_column == ["已见面"] and x.missing_text.endswith("，请在台帐中增加此列")
    note = "因吸毒人员登记台帐没有「已见面」列，外来吸毒人员见面率无法统计，请在台帐中增加此列"
    assert missing_sentence([x, other, x]) == f"{note}；因未提供帮教管控台帐，外来吸毒人员建档率无法统计。"
    assert missing_note([x]) == f"（{note}）"
    assert sentence(f"见面率为{say(x)}，{missing_note([x])}。") == f"见面率为（{note}）。"
    assert sentence(f"，，{missing_note([x])}。") == f"{note}。"
    assert missing_note([]) == missing_sentence([]) == ""


def test_sentence_mends_what_was_left_out():
    assert sentence("甲1人，，乙2人；，丙。") == "甲1人，乙2人；丙。"
    assert sentence("，，。因未提供甲，乙无法统计。") == "因未提供甲，乙无法统计。"
    assert sentence("甲1人，（另有2人尚在报到期内）。") == "甲1人（另有2人尚在报到期内）。"
    assert sentence("刑拘查处比24.49%（同比上升1个百分点），送戒率47.8%。") == \
        "刑拘查处比24.49%（同比上升1个百分点），送戒率47.8%。"


# ---------------------------------------------------------------- signature
def test_signature_is_the_units_or_a_marked_placeholder(tmp_path, full):
    from conftest import run_cli

    from jindu_metrics.workspace import write_config

    code, out, _ = run_cli(["report", full, "--period", "2018-10"])
    assert out.rstrip("\n").split("\n")[-2] == "东镇禁毒委员会办公室"  # the unit its ledger names
    folder = tmp_path / "in"
    _town(folder, "东镇.xlsx")
    _town(folder, "西镇.xlsx", seed=4, town="西镇")
    code, _, err = run_cli(["batch", folder, "--period", "2018-10", "--out", tmp_path / "out", "--jobs", "1"])
    assert code in (0, 1), err
    county = (tmp_path / "out" / "全县通报.txt").read_text(encoding="utf-8")
    assert county.rstrip("\n").split("\n")[-2] == OFFICE_PLACEHOLDER == "【落款单位】"
    assert "全县禁毒委员会办公室" not in county
    ws = tmp_path / "ws"
    ws.mkdir()
    write_config(ws, "三水区", "县区", "三水区禁毒委员会办公室")
    import os

    old = os.getcwd()
    os.chdir(ws)
    try:
        code, _, err = run_cli(["batch", folder, "--period", "2018-10", "--out", tmp_path / "out2", "--jobs", "1"])
    finally:
        os.chdir(old)
    county = (tmp_path / "out2" / "全县通报.txt").read_text(encoding="utf-8")
    assert county.rstrip("\n").split("\n")[-2] == "三水区禁毒委员会办公室", err


# ---------------------------------------------------------------- plain-text tables
def _w(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WFA" else 1 for c in s)


def test_county_txt_tables_are_plain_and_aligned(tmp_path):
    from conftest import run_cli

    folder = tmp_path / "in"
    for k, t in enumerate(("东镇", "西镇", "南华镇", "北镇")):
        _town(folder, f"{t}.xlsx", seed=k, town=t)
    scheme = Path(__file__).parents[2] / "src/jindu_metrics/metrics/scoring_example.toml"
    code, _, err = run_cli(["batch", folder, "--period", "2018-10", "--out", tmp_path / "out", "--jobs", "1",
                            "--scoring", scheme])
    assert code in (0, 1), err
    county = (tmp_path / "out" / "全县通报.txt").read_text(encoding="utf-8")
    assert "|" not in county and "---" not in county, county
    blocks = re.findall(r"(?:^　　排名.*\n)(?:^　　[ 　\d—].*\n)+", county, flags=re.M)
    assert len(blocks) >= 6  # five rankings and the scores
    for block in blocks:
        rows = block.rstrip("\n").split("\n")
        town_col = [_w(r[:r.index(t)]) for r in rows[1:] for t in ("东镇", "西镇", "南华镇", "北镇") if t in r]
        assert len(set(town_col)) == 1, block  # every town name starts in the same column
        if "说明" not in rows[0]:  # right-aligned values end in one column
            assert len({_w(re.match(r"^(.*[\d%])", r).group(1)) for r in rows[1:]}) == 1, block


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.text(alphabet="东西镇村12345.%—ab", min_size=0, max_size=6), min_size=3, max_size=3),
                min_size=1, max_size=6))
def test_table_filter_aligns_any_cells(rows):
    rows = [[c.replace("|", "") for c in r] for r in rows]
    src = "\n".join(["| 排名 | 镇街 | 值 |", "|---:|---|---:|"] + ["| " + " | ".join(r) + " |" for r in rows])
    out = table(src, indent="", sep="  ").split("\n")
    assert len(out) == len(rows) + 1 and "|" not in "".join(out)
    widths = [max(_w(c) for c in col) for col in zip(["排名", "镇街", "值"], *rows)]
    for line, cells in zip(out[1:], rows):  # the third column starts where the widest first two end
        assert _w(line) == sum(widths) + 4 or not cells[2].strip()


# ---------------------------------------------------------------- wording declared in the catalog
def test_wording_comes_from_the_catalog_and_an_office_can_change_it(tmp_path, full):
    from conftest import run_cli

    assert CAT.get("grid_inclusion_rate").wording.gap_verb == "纳入"
    assert CAT.get("worker_ratio").wording.gap_side == "denominator"
    office = tmp_path / "目录.toml"
    office.write_text('[[indicator]]\nid = "managed"\nbulletin = { phrase = "动态管控" }\n\n'
                      '[[indicator]]\nid = "visit_rate"\ntarget = "100%"\nbulletin = { gap_verb = "上门走访" }\n',
                      encoding="utf-8")
    cat = load_catalog(office)
    assert cat.get("managed").wording.phrase == "动态管控" and cat.get("managed").wording.unit == "人"
    assert cat.get("visit_rate").wording.phrase == "走访管控率"  # the keys not written stay the default's
    code, out, err = run_cli(["report", full, "--period", "2018-10", "--catalog", office])
    assert code == 0, err
    assert re.search(r"全镇动态管控\d+人", out) and "还需上门走访" in out
    bad = tmp_path / "bad.toml"
    bad.write_text('[[indicator]]\nid = "grid_inclusion_rate"\nbulletin = { gap_side = "denominator" }\n',
                   encoding="utf-8")
    code, _, err = run_cli(["report", full, "--period", "2018-10", "--catalog", bad])
    assert code == 2 and "gap_side" in err and "第3行" in err
    bad.write_text('[[indicator]]\nid = "managed"\nbulletin = { verb = "x" }\n', encoding="utf-8")
    code, _, err = run_cli(["report", full, "--period", "2018-10", "--catalog", bad])
    assert code == 2 and "verb" in err


def test_state_false_keeps_an_indicator_out_of_the_bulletins_judgement(tmp_path, full):
    from conftest import run_cli

    office = tmp_path / "目录.toml"
    office.write_text('[[indicator]]\nid = "urine_coverage"\nbulletin = { state = false }\n', encoding="utf-8")
    code, before, _ = run_cli(["report", full, "--period", "2018-10"])
    code, after, err = run_cli(["report", full, "--period", "2018-10", "--catalog", office])
    assert code == 0, err
    n = [int(re.search(r"设有目标的(\d+)项指标", t).group(1)) for t in (before, after)]
    assert "尿检覆盖率未达到目标" in before and "尿检覆盖率" not in after and n[1] == n[0] - 1


def test_gap_on_the_denominator():
    ind = CAT.get("worker_ratio")
    row = SimpleNamespace(metric=ind.id, name=ind.name, kind="ratio", numerator=95, denominator=2, exact=95 / 2,
                          display="48:1", target="≤30:1", met=False, gap=35, missing=())
    x = Indicator(row, ind, "东镇")
    assert x.gap_text == "还需配备2名禁毒社工" and x.problem.endswith("高于30:1的目标，还需配备2名禁毒社工")
    assert say(x) == "吸毒人员与禁毒社工配比为48:1"


def test_a_count_change_from_zero_has_no_dash():
    from jindu_metrics.report.filters import change

    ind = CAT.get("seizures")
    then = SimpleNamespace(start="2017-01-01", end="2017-10-31", value=0, display="0", numerator=0)
    row = SimpleNamespace(metric=ind.id, name=ind.name, kind="count", exact=5, display="5", numerator=5,
                          unit_label="人", yoy=then, missing=())
    x = Indicator(row, ind, "东镇")
    assert change(x, "yoy") == "增加5人（基数为0，无法计算增减幅度）"
    assert say(x, None, f"（同比{change(x, 'yoy')}）") == "查处吸毒人员5人（同比增加5人（基数为0，无法计算增减幅度））"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["", "", "甲1人", "乙率为2.0%", "丙无法计算（丁为0）"]),
                          st.sampled_from(["，", "；", "、"])), min_size=1, max_size=8),
       st.sampled_from(["", "因未提供帮教管控台帐，走访人数无法统计。"]))
def test_sentence_leaves_no_stray_punctuation_whatever_is_left_out(clauses, note):
    body = "".join(c + sep for c, sep in clauses)[:-1] + "。" + note
    out = sentence(body)
    assert not re.search(r"[，；、]{2}|[，；、][。）（]|^[，；、。]|（）|。。", out), (body, out)
    kept = [c for c, _ in clauses if c]
    assert re.sub(r"[，；、]", "", out).startswith("".join(kept)), (body, out)  # every stated clause, in order
    assert out.endswith(note or "。") if kept or note else out == ""  # nothing stated: nothing left


def test_a_missing_column_is_named_in_the_bulletin_like_a_missing_ledger(tmp_path):
    """End to end: a persons ledger without the 已见面 and 已建档 columns. The two figures that read them are
    left out (never 0.0%, never in 存在问题) and the bulletin says, once each, which column to add."""
    import openpyxl
    from conftest import run_cli

    path = _town(tmp_path, "t.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["吸毒人员登记台帐"]
    for name in ("已见面", "已建档"):
        ws.delete_cols([c.value for c in ws[1]].index(name) + 1)
    wb.save(path)
    code, out, err = run_cli(["report", path, "--period", "2018-10"])
    assert code == 0, err
    assert "因吸毒人员登记台帐没有「已见面」列，外来吸毒人员见面率无法统计，请在台帐中增加此列" in out
    assert "因吸毒人员登记台帐没有「已建档」列，外来吸毒人员建档率无法统计，请在台帐中增加此列" in out
    assert "外来吸毒人员见面率为" not in out and "外来吸毒人员建档率未达到目标" not in out
    assert "无此列" not in out and "0.0%（还需见面" not in out
