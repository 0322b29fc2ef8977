"""Bulletins with tables, as LibreOffice prints them (issue 18.2–3): 全县通报.docx and a township 通报.docx
rendered to PDF hold their tables, repeat a table's header row on every page it runs over, and keep all text
inside the 版心 (GB/T 9704: margins 37/35/28/26 mm on A4)."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from conftest import run_forked

from jindu_metrics.report.docx import TEXT_WIDTH_MM

pytestmark = pytest.mark.slow  # LibreOffice renders each bulletin to PDF (module fixtures)

MM = 72 / 25.4
LEFT, RIGHT, TOP, BOTTOM = 28 * MM, (210 - 26) * MM, 37 * MM, (297 - 35) * MM
SAMPLES = Path(__file__).parents[2] / "sample_ledgers"
TOOLS = ("soffice", "pdftotext", "pdfinfo")
WHY = "需要 LibreOffice（soffice）和 poppler-utils（pdftotext、pdfinfo）才能把 docx 转成 PDF 检查版面；本机未安装：" + \
      "、".join(t for t in TOOLS if shutil.which(t) is None)
needs_tools = pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS), reason=WHY)


def _tables_xml(docx: Path) -> list[str]:
    xml = zipfile.ZipFile(docx).read("word/document.xml").decode("utf-8")
    return re.findall(r"<w:tbl>.*?</w:tbl>", xml, flags=re.S)


def test_docx_tables_fill_the_text_width_and_mark_their_header(county_docx):
    """Without LibreOffice too: every table is exactly the 版心 wide and its first row is a repeated header."""
    tables = _tables_xml(county_docx)
    assert len(tables) >= 5  # five ranking tables and the 考评得分 table
    width = round(TEXT_WIDTH_MM * 1440 / 25.4)
    for t in tables:
        assert f'<w:tblW w:w="{width}" w:type="dxa"/>' in t
        assert sum(map(int, re.findall(r'<w:gridCol w:w="(\d+)"/>', t))) == width
        rows = re.findall(r"<w:tr[ >].*?</w:tr>", t, flags=re.S)
        assert "<w:tblHeader/>" in rows[0] and all("<w:tblHeader/>" not in r for r in rows[1:])


@pytest.fixture(scope="module")
def county_docx(tmp_path_factory) -> Path:
    from test_batch import TOWNS, write_county

    from jindu_metrics.batch import run_batch
    from jindu_metrics.periods import parse_period

    base = tmp_path_factory.mktemp("county_pdf")
    write_county(base / "in", towns=TOWNS, n=30)
    scheme = Path(__file__).parents[2] / "src/jindu_metrics/metrics/scoring_example.toml"
    run_batch([base / "in"], period=parse_period("2018-10"), out=base / "out", jobs=1, fmt="docx", scoring=scheme)
    return base / "out" / "全县通报.docx"


@pytest.fixture(scope="module")
def township_docx(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("town_pdf") / "通报.docx"
    r = run_forked(["report", SAMPLES, "--period", "2018-10", "--format", "docx", "--output", out])
    assert r.returncode == 0, r.stderr
    return out


def _pdf(docx: Path) -> Path:
    outdir = docx.parent / "pdf"
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{docx.parent}/lo", "--convert-to", "pdf",
                    "--outdir", str(outdir), str(docx)], capture_output=True, timeout=300)
    pdf = outdir / (docx.stem + ".pdf")
    assert pdf.exists()
    return pdf


def _pages(pdf: Path) -> list[list[tuple[float, float, float, float, str]]]:
    """Each page's words with their boxes (pdftotext -bbox)."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True).stdout
    pages = []
    for page in html.split("<page ")[1:]:
        pages.append([(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', page)])
    return pages


def _inside_text_area(pages) -> None:
    for n, words in enumerate(pages, 1):
        for x0, y0, x1, _y1, w in words:
            if y0 > BOTTOM:  # the page number "— 1 —" sits in the footer, below the 版心
                assert re.fullmatch(r"—|\d+", w), (n, w)
                continue
            # a line-final 、。）, set in a full-em box with its ink in the left half, may close the line
            # with its box (not its ink) past the margin: LibreOffice's Asian punctuation handling
            slack = 16 if re.search(r"[、。，；：）”]$", w) else 1
            assert x0 >= LEFT - 1 and x1 <= RIGHT + slack and y0 >= TOP - 1, (n, w, x0, x1, y0)


def _lines(words) -> list[str]:
    """A page's words as lines, top to bottom, each read left to right."""
    out: list[tuple[float, list]] = []
    for w in sorted(words, key=lambda w: (w[1], w[0])):
        if out and abs(w[1] - out[-1][0]) < 3:
            out[-1][1].append(w)
        else:
            out.append((w[1], [w]))
    return ["".join(x[4] for x in sorted(ws, key=lambda x: x[0])) for _, ws in out]


def _text(pages) -> str:
    return "\n".join(ln for p in pages for ln in _lines(p))


def _first_line(words) -> str:
    return _lines(words)[0]


@needs_tools
def test_county_bulletin_pdf(county_docx):
    pdf = _pdf(county_docx)
    pages = _pages(pdf)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) == len(pages) >= 3
    text = _text(pages)
    for heading in ("各镇街主要指标排名", "综合考评得分", "存在问题", "排名镇街刑拘查处比"):
        assert heading in text
    # a ranking table running over a page break starts the next page with its header row again
    continued = [n for n, p in enumerate(pages[1:], 2) if re.fullmatch(r"排名镇街\S+", _first_line(p))]
    assert continued, [_first_line(p) for p in pages]
    _inside_text_area(pages)
    _ends_like_a_document(pages, "【落款单位】")


def _body_lines(words) -> list[str]:
    return [ln for ln in _lines([w for w in words if w[1] <= BOTTOM])]


def _ends_like_a_document(pages, office: str) -> None:
    """GB/T 9704: the 落款 and date share their page with body text (at least "特此通报。" and a line of the
    paragraph before it), and no page ends with a heading standing alone."""
    last = _body_lines(pages[-1])
    assert last[-2:] == [office, "2018年10月31日"], last
    assert "特此通报。" in last and last.index("特此通报。") >= 1, last
    for n, words in enumerate(pages[:-1], 1):
        end = _body_lines(words)[-1]
        assert not re.fullmatch(r"[一二三四五六七八九十]+、[^。，；（）]{2,14}", end), (n, end)  # a heading left at the foot


@needs_tools
def test_township_bulletin_pdf(township_docx):
    assert len(_tables_xml(township_docx)) == 2  # the comparison of the main ratios and 各村居情况
    pages = _pages(_pdf(township_docx))
    text = _text(pages)
    assert "指标本期同比目标差距" in text and "刑拘查处比24.49%上升14.71个百分点" in text
    assert "村居查处吸毒人员（人）纳入率走访管控率执行率" in text and "东岚村289.3%100%100%" in text
    _inside_text_area(pages)
    _ends_like_a_document(pages, "乐平镇禁毒委员会办公室")
