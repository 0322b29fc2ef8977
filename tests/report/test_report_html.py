"""The bulletin as a web page (issue 18 point 4): `jindu report --format html` and batch's 汇总.html.

Self-contained (no network, no other file), byte-identical for the same input, cells escaped, no PII, missing
ledgers absent (not 0), zero denominators without a point; and, where Chromium is installed, rendered by a real
headless browser with its figures' text in the DOM and a screenshot taken.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import openpyxl
import pytest
from conftest import run_forked

from jindu_metrics.report.html import county_page, render_page

SAMPLE = Path(__file__).resolve().parents[2] / "sample_ledgers" / "乐平镇台帐.xlsx"
EVIL = '<b onmouseover="x()">新源</b>&amp;<script>alert(1)</script>'


def run(args) -> subprocess.CompletedProcess:
    return run_forked(args, encoding="utf-8")


def _variant(dest: Path, *, drop: tuple[str, ...] = (), rename: dict[str, str] | None = None) -> Path:
    """The sample workbook without the `drop` sheets and with villages renamed (every sheet)."""
    wb = openpyxl.load_workbook(SAMPLE)
    for name in drop:
        del wb[name]
    for ws in wb.worksheets:
        head = [c.value for c in ws[1]]
        if rename and "所属村居" in head:
            col = head.index("所属村居")
            for row in ws.iter_rows(min_row=2):
                row[col].value = rename.get(row[col].value, row[col].value)
    wb.save(dest)
    return dest


def _page(tmp_path: Path, ledger: Path, name: str = "通报.html") -> str:
    out = tmp_path / name
    r = run(["report", str(ledger), "--period", "2018-10", "--format", "html", "--output", str(out)])
    assert r.returncode == 0, r.stderr
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def sample_page(tmp_path_factory) -> tuple[Path, str]:
    tmp = tmp_path_factory.mktemp("html")
    return tmp / "通报.html", _page(tmp, SAMPLE)


def _figures(page: str) -> list[str]:
    return re.findall(r"<figure.*?</figure>", page, re.S)


LINE = "（1月至各月累计，存量看月末）"  # the title's tail of a month-by-month chart


def _chart(page: str, title: str) -> str:
    """The figure whose chart is titled `title`, or whose caption says `title` has nothing to draw."""
    for f in _figures(page):
        if re.search(rf'class="title[^"]*"[^>]*>{re.escape(title)}</text>', f) or f"<p>{title}：无可绘制" in f:
            return f
    raise AssertionError(f"no chart titled {title}")


def test_same_input_byte_identical(tmp_path, sample_page):
    _, first = sample_page
    second = _page(tmp_path, SAMPLE, "again.html")
    assert first.encode() == second.encode()  # pygal's uuid4 ids and dated comments would differ
    ids = re.findall(r'<svg[^>]* id="([^"]+)"', first)
    assert ids == [f"chart-jindu-{k}" for k in range(1, len(ids) + 1)]


def test_self_contained(sample_page):
    _, page = sample_page
    assert "<script" not in page and "<link" not in page and "<img" not in page and "<iframe" not in page
    assert not re.search(r"\b(src|href)\s*=", page)  # nothing loaded from anywhere
    assert not re.search(r"url\(", page)
    urls = set(re.findall(r"https?://[^\"'\s<>]+", page))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}  # namespaces only
    assert "default-src 'none'" in page  # the browser is told to fetch nothing
    assert "<!--" not in page  # pygal's comments carry today's date


def test_text_tables_and_charts(sample_page):
    _, page = sample_page
    # the bulletin's text, its tables, month-by-month lines with the target line and the villages' bars
    assert "刑拘查处比为24.49%" in page and "特此通报。" in page
    assert "<caption>主要指标</caption>" in page and "<caption>各村居情况</caption>" in page
    assert page.count('class="pygal-chart"') == 10
    for name in ("刑拘查处比", "送戒率", "纳入率", "走访管控率", "执行率"):
        line = _chart(page, name + LINE)
        assert "1月" in line and "10月" in line
    visits = _chart(page, "走访管控率" + LINE)
    assert "目标100%" in visits  # the target line's legend
    # the last point of each line is the bulletin's figure (1至10月, stocks on 10月31日)
    values = re.findall(r'<desc class="value">([^<]*)</desc>', _chart(page, "刑拘查处比" + LINE))
    assert len(values) == 10 and values[-1] == "24.49%"
    values = re.findall(r'<desc class="value">([^<]*)</desc>', _chart(page, "纳入率" + LINE))
    assert values[-1] == "94.7%"
    bars = _chart(page, "刑拘查处比")
    assert "新源社区" in bars and 'font-family:"Microsoft YaHei","SimSun","WenQuanYi Zen Hei"' in page


def test_zero_denominator_has_no_point_and_a_note(sample_page):
    _, page = sample_page
    # 丰和社区 has no seizure: its 刑拘查处比 has no value, no bar, and the figure says so
    bars = _chart(page, "刑拘查处比")
    assert "丰和社区分母为0，无数值，不参与排名。" in bars
    assert "丰和社区" not in re.sub(r"<figcaption>.*?</figcaption>", "", bars, flags=re.S)


def test_no_pii(sample_page):
    _, page = sample_page
    wb = openpyxl.load_workbook(SAMPLE, read_only=True)
    names, ids = set(), set()
    for ws in wb.worksheets:
        rows = ws.iter_rows(values_only=True)
        head = list(next(rows))
        for row in rows:
            for col, bag in (("姓名", names), ("公民身份号码", ids)):
                if col in head and row[head.index(col)]:
                    bag.add(str(row[head.index(col)]))
    assert names and ids
    assert not [n for n in names if n in page] and not [i for i in ids if i in page]


def test_markup_in_a_village_name_is_text(tmp_path):
    ledger = _variant(tmp_path / "台帐.xlsx", rename={"新源社区": EVIL})
    page = _page(tmp_path, ledger)
    assert "<script>alert" not in page and "<b onmouseover" not in page
    assert "&lt;b onmouseover=&quot;x()&quot;&gt;新源&lt;/b&gt;&amp;amp;&lt;script&gt;" in page  # table cells
    bars = _chart(page, "刑拘查处比")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in bars  # chart labels (SVG text)


def test_missing_ledger_is_absent_not_zero(tmp_path):
    ledger = _variant(tmp_path / "台帐.xlsx", drop=("帮教管控台帐",))
    page = _page(tmp_path, ledger)
    visits = _chart(page, "走访管控率" + LINE)
    assert "未提供帮教管控台帐，无走访管控率数据。" in visits
    assert "<svg" not in visits and "0%" not in visits  # no line drawn, never a 0
    assert re.search(r"<td>走访管控率</td><td>未提供帮教管控台帐</td>", page)
    # the other lines are still drawn
    assert "<svg" in _chart(page, "刑拘查处比" + LINE)


def test_month_by_month_is_one_pass(monkeypatch):
    """The twelve-month lines cost one pass of the engine over every window, not a compute per month."""
    from jindu_metrics.ledgers import load_ledgers
    from jindu_metrics.metrics import engine
    from jindu_metrics.metrics.catalog import load_catalog
    from jindu_metrics.periods import parse_period
    from jindu_metrics.report.context import build_context
    from jindu_metrics.report.html import township_page
    from jindu_metrics.report.render import bulletin_results
    from jindu_metrics.report.trend import main_trend

    ledgers, cat, per = load_ledgers([SAMPLE]), load_catalog(), parse_period("2018-10")
    results = bulletin_results(ledgers, cat, per)
    calls = {"compute": 0, "exact_values": 0}
    real_compute, real_exact = engine.compute, engine.exact_values

    def counting(name, f):
        def wrapper(*a, **k):
            calls[name] += 1
            return f(*a, **k)
        return wrapper

    monkeypatch.setattr(engine, "compute", counting("compute", real_compute))
    monkeypatch.setattr(engine, "exact_values", counting("exact_values", real_exact))
    trend = main_trend(ledgers, cat, per)
    context = build_context(results["result_ytd"], month=results["month"], villages=results["villages"], catalog=cat)
    page = township_page(context, trend, "标题\n\n正文。\n", list(trend["values"]))
    assert calls == {"compute": 0, "exact_values": 1}
    line = next(t for t in page["trends"] if t["name"] == "刑拘查处比")
    assert line["months"] == [f"{m}月" for m in range(1, 11)]
    ytd = {r.metric: r for r in results["result_ytd"].rows if r.unit == results["result_ytd"].unit}
    assert line["series"][0]["values"][-1] == ytd["detention_ratio"].exact


def _county_data(**over) -> dict:
    ind = {"id": "visit_rate", "name": "走访管控率", "format": "percent", "decimals": 1, "target": "100%",
           "direction": "higher"}
    rows = [
        {"unit": "甲镇", "metric": "visit_rate", "exact": Fraction(9, 10), "met": False, "rank": 2, "missing": None},
        {"unit": "乙镇", "metric": "visit_rate", "exact": Fraction(1), "met": True, "rank": 1, "missing": None},
        {"unit": "丙镇", "metric": "visit_rate", "exact": None, "met": None, "rank": None,
         "missing": "未提供帮教管控台帐"},
        {"unit": "丁镇", "metric": "visit_rate", "exact": None, "met": None, "rank": None, "missing": None},
        {"unit": "全县", "metric": "visit_rate", "exact": Fraction(19, 20), "met": False, "rank": None,
         "missing": None},
    ]
    data = {"title": "2018年1-10月各镇街禁毒工作指标汇总", "indicators": [ind], "units": ["甲镇", "乙镇", "丙镇", "丁镇"],
            "total_unit": "全县", "rows": rows,
            "trend": {"months": ["1月", "2月", "3月"], "metrics": [ind],
                      "values": {"全县": {"visit_rate": [Fraction(1, 2), None, Fraction(19, 20)]}}}}
    data.update(over)
    return data


def test_county_page_from_plain_data():
    page = render_page(county_page(_county_data(), "各镇街禁毒工作情况的通报\n\n各镇街：\n\n正文。\n"))
    bars = _chart(page, "走访管控率（目标100%）")
    labels = re.findall(r"<text[^>]*>(第\d名 [^<]+)</text>", bars)
    assert labels == ["第2名 甲镇", "第1名 乙镇"]  # drawn bottom-up: the best on top
    assert "丙镇未提供帮教管控台帐，不参与排名。" in bars and "丁镇分母为0，无数值，不参与排名。" in bars
    line = _chart(page, "走访管控率" + LINE)
    assert "全县2月分母为0，无数值（该点不画）。" in line
    assert re.findall(r'<desc class="value">([^<]*)</desc>', line)[:2] == ["50.0%", "95.0%"]  # 2月: no point
    assert "<td>丙镇</td><td>未提供帮教管控台帐</td>" in page and "<td>乙镇</td><td>100%（第1名）</td>" in page
    assert render_page(county_page(_county_data())) == render_page(county_page(_county_data()))


def test_county_page_total_missing_ledger():
    data = _county_data()
    for r in data["rows"]:
        r.update(exact=None, met=None, rank=None, missing="未提供帮教管控台帐")
    data["trend"]["values"]["全县"]["visit_rate"] = [None, None, None]
    page = render_page(county_page(data))
    line = _figures(page)[0]  # no line: the figure holds only its caption
    assert "全县：未提供帮教管控台帐，无走访管控率数据。" in line and "<svg" not in line


@pytest.fixture(scope="module")
def batch_out(tmp_path_factory):
    from test_batch import write_county

    base = tmp_path_factory.mktemp("batch_html")
    write_county(base / "in", towns=["甲镇", "乙镇", "丙镇"], n=40)
    outs = []
    for jobs in ("1", "2"):
        out = base / f"out{jobs}"
        r = run(["batch", str(base / "in"), "--period", "2018-01..2018-10", "--out", str(out), "--jobs", jobs])
        assert r.returncode == 0, r.stderr
        outs.append(out)
    return outs


@pytest.mark.slow
def test_batch_writes_summary_html(batch_out):
    first, second = (o / "汇总.html" for o in batch_out)
    page = first.read_text(encoding="utf-8")
    assert first.read_bytes() == second.read_bytes()  # --jobs 1 and 2, two runs: the same bytes
    assert "<script" not in page and not re.search(r"\b(src|href)\s*=", page)
    for town in ("甲镇", "乙镇", "丙镇"):
        assert f"<td>{town}</td>" in page
    bars = _chart(page, "执行率（目标100%）")
    assert len(re.findall(r"<text[^>]*>第\d名 [甲乙丙]镇</text>", bars)) == 3
    assert "各镇街禁毒工作情况的通报" in page  # the county text
    assert "|---" not in page and "| 排名 |" not in page  # its ranking tables as tables, not markdown
    assert len(re.findall(r"<table><caption></caption><thead><tr><th>排名</th><th>镇街</th>", page)) >= 3
    assert "张1" not in page  # persons' names are 张0, 张1, ...


CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"), "/usr/bin/chromium")
                 if p and Path(p).exists()), None)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium; "
                                            ".ci/run installs it, best effort)")
def test_renders_in_headless_chromium(batch_out, tmp_path):
    page = batch_out[0] / "汇总.html"
    common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
              f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*common, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=180)
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    # the browser parsed the inline SVG charts: their titles, axis labels and bars are in the document
    assert html.count("<svg") == 10, html[:2000]
    assert "走访管控率（1月至各月累计，存量看月末）" in html and "10月" in html
    assert re.search(r"第1名 [甲乙丙]镇", html)
    assert "<rect" in html and "<path" in html
    shot = tmp_path / "汇总.png"
    r = subprocess.run([*common, f"--screenshot={shot}", "--window-size=1000,2400", page.as_uri()],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0 and shot.exists(), r.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 30_000  # a blank page compresses to a few KB


def test_control_characters_in_a_name_stay_visible():
    data = _county_data()
    data["units"][0] = "甲\x01\x1b[31m镇"
    for r in data["rows"]:
        if r["unit"] == "甲镇":
            r["unit"] = data["units"][0]
    page = render_page(county_page(data))
    assert "\x01" not in page and "\x1b" not in page
    assert page.count("甲\\x01\\x1b[31m镇") >= 2  # the bar's label and the table's cell


def test_html_needs_an_output_file():
    r = run(["report", str(SAMPLE), "--period", "2018-10", "--format", "html"])
    assert r.returncode == 2 and "html 格式需要用 --output 指定输出文件" in r.stderr and "<html" not in r.stdout
