"""公文-style docx: layout (page, margins, fonts, indents, spacing), byte-identical output, LibreOffice opens it."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from datetime import date

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from test_report import render

from jindu_metrics.errors import UsageError
from jindu_metrics.report.docx import docx_bytes, parse_blocks, write_docx

D = date(2018, 11, 15)


@pytest.fixture(scope="module")
def text():
    return render()


@pytest.fixture(scope="module")
def doc(text):
    return Document(io.BytesIO(docx_bytes(text, report_date=D)))


def test_blocks(text):
    kinds = [(b.kind, b.lead or b.text) for b in parse_blocks(text)]
    assert kinds[0] == ("title", "关于2018年1-10月禁毒工作情况的通报")
    assert kinds[1] == ("addressee", "各村居委会、各禁毒成员单位：")
    assert ("h1", "一、工作成效") in kinds and ("h2", "（一）打击涉毒违法犯罪。") in kinds
    assert kinds[-2:] == [("signature", "乐平镇禁毒委员会办公室"), ("date", "2018年11月15日")]


def test_blocks_of_each_kind_of_line():
    text = ("\n标题一\n标题二\n\n各单位：\n一、" + "甲" * 40 + "。其余\n（二）乙丙：丁\n"
            "| a | b |\n|---|--:|\n| 1 | 2 |\n\n| c |\n| 3 |\n段落\n| 单位 |\n2018年11月15日\n")
    blocks = parse_blocks(text)
    assert [(b.kind, b.lead, b.text, b.rows) for b in blocks] == [
        ("title", "", "标题一", ()), ("title", "", "标题二", ()),
        ("addressee", "", "各单位：", ()),
        ("h1", "一、" + "甲" * 40 + "。", "其余", ()),  # a numbered paragraph: its lead-in is the heading
        ("h2", "（二）乙丙：", "丁", ()),
        ("table", "", "", (("a", "b"), ("1", "2"))),  # the |---| rule dropped
        ("table", "", "", (("c",), ("3",))),  # a blank line parts two tables
        ("para", "", "段落", ()),
        ("signature", "", "| 单位 |", ()),  # the line above the date signs, even one that looks like a row
        ("date", "", "2018年11月15日", ()),
    ]


def test_page_and_margins(doc):
    s = doc.sections[0]
    got = (s.page_width, s.page_height, s.top_margin, s.bottom_margin, s.left_margin, s.right_margin)
    want = (Mm(210), Mm(297), Mm(37), Mm(35), Mm(28), Mm(26))
    assert all(abs(g - w) < Mm(0.05) for g, w in zip(got, want)), got  # stored in twips


def _east_asian(run):
    return run._element.rPr.rFonts.get(qn("w:eastAsia"))


def test_fonts_sizes_indents_spacing(doc):
    paras = [p for p in doc.paragraphs if p.text]
    title = paras[0]
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert _east_asian(title.runs[0]) == "方正小标宋简体" and title.runs[0].font.size == Pt(22)
    for p in paras:
        for r in p.runs:  # East Asian font on every run
            assert _east_asian(r) in ("方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312"), p.text
        assert p.paragraph_format.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    h1 = next(p for p in paras if p.text == "一、工作成效")
    assert _east_asian(h1.runs[0]) == "黑体" and h1.runs[0].font.size == Pt(16)
    h2 = next(p for p in paras if p.text.startswith("（一）打击"))
    assert _east_asian(h2.runs[0]) == "楷体_GB2312" and h2.runs[0].text == "（一）打击涉毒违法犯罪。"
    assert _east_asian(h2.runs[1]) == "仿宋_GB2312"
    body = next(p for p in paras if p.text.startswith("现将"))
    assert body.paragraph_format.first_line_indent == Pt(32)
    assert body._p.pPr.find(qn("w:ind")).get(qn("w:firstLineChars")) == "200"
    assert body.paragraph_format.line_spacing == Pt(28)
    sig, when = paras[-2], paras[-1]
    assert sig.text == "乐平镇禁毒委员会办公室" and when.text == "2018年11月15日"
    assert sig.alignment == when.alignment == WD_ALIGN_PARAGRAPH.RIGHT


def test_headings_and_the_signature_stay_with_what_follows(doc):
    """A heading on its own line never ends a page, nor is the signature parted from its date (keep with
    next); body paragraphs flow freely."""
    paras = doc.paragraphs
    keep = {p.text: p.paragraph_format.keep_with_next for p in paras if p.text}
    assert keep["一、工作成效"] is True
    assert keep["乐平镇禁毒委员会办公室"] is True and not keep["2018年11月15日"]
    assert not next(v for t, v in keep.items() if t.startswith("现将"))
    at = next(i for i, p in enumerate(paras) if p.text == "乐平镇禁毒委员会办公室")
    assert all(p.paragraph_format.keep_with_next for p in paras[at - 2:at])  # the two blank lines before it
    # the end of the body keeps with the signature (GB/T 9704: 落款 and date never alone on the last page):
    # "特此通报。" and, as it is only a closing line, the paragraph of substance before it
    assert paras[at - 3].text == "特此通报。" and paras[at - 3].paragraph_format.keep_with_next
    assert paras[at - 4].text.startswith("【此段由禁毒办填写") and paras[at - 4].paragraph_format.keep_with_next
    assert not any(p.paragraph_format.keep_with_next for p in paras[:at - 4] if p.text.startswith("（"))


def test_a_tables_lead_in_keeps_with_the_table(text):
    doc = Document(io.BytesIO(docx_bytes(text, report_date=D)))
    body = doc.element.body
    for tbl in body.iterchildren(qn("w:tbl")):
        before = tbl.getprevious()
        assert before.tag == qn("w:p") and before.find(f"{qn('w:pPr')}/{qn('w:keepNext')}") is not None


def test_a_date_without_signature_keeps_with_the_body():
    doc = Document(io.BytesIO(docx_bytes("标题\n\n正文一段，内容较长。\n\n特此通报。\n\n2018年11月15日\n")))
    keep = {p.text: p.paragraph_format.keep_with_next for p in doc.paragraphs if p.text}
    assert keep["特此通报。"] and keep["正文一段，内容较长。"] and not keep["2018年11月15日"]


def test_core_properties_fixed(doc):
    cp = doc.core_properties
    assert cp.author == "" and cp.last_modified_by == ""
    assert cp.created.date() == D and cp.modified.date() == D
    assert cp.title == "关于2018年1-10月禁毒工作情况的通报"


def test_byte_identical_and_constant_zip_dates(text, tmp_path):
    a, b = tmp_path / "a.docx", tmp_path / "b.docx"
    write_docx(text, a, report_date=D)
    write_docx(text, b, report_date=D)
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as z:
        assert len({i.date_time for i in z.infolist()}) == 1  # one constant time, never "now"
        assert "docProps/thumbnail.jpeg" not in z.namelist()
        core = z.read("docProps/core.xml").decode()
        assert "python-docx" not in core and "2018-11-15" in core
    # without an explicit date, the text's own date line is used — never today's
    assert docx_bytes(text) == a.read_bytes()


def test_docx_needs_output():
    with pytest.raises(UsageError):
        write_docx("x\n", None)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_converts_to_pdf(text, tmp_path):
    src = tmp_path / "通报.docx"
    write_docx(text, src, report_date=D)
    p = subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                        "--convert-to", "pdf", "--outdir", str(tmp_path), str(src)],
                       capture_output=True, text=True, timeout=180)
    pdf = tmp_path / "通报.pdf"
    assert pdf.exists(), p.stderr
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and data.count(b"/Type /Page") + data.count(b"/Type/Page") >= 2
    if shutil.which("pdftotext"):
        out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert "关于2018年1-10月禁毒工作情况的通报" in out.replace(" ", "") and "24.49%" in out
