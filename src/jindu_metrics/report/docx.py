"""公文-style Word output after GB/T 9704: A4, fixed margins, 方正小标宋/仿宋/黑体/楷体, byte-identical files.

The layout comes from the rendered bulletin text (`parse_blocks`): the first lines are the title, a line
ending in "：" right after it the addressee, "一、" lines level-1 headings (黑体), "（一）" lead-ins level-2
(楷体), the last date line and the line before it the signature (right-aligned). Consecutive markdown table rows (`| a | b |`, the `|---|` rule dropped) make a table whose
first row is its header, repeated on every page it runs over (w:tblHeader); its columns fill the 版心 exactly.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date as Date
from datetime import datetime
from pathlib import Path

from ..errors import UsageError
from ..outputs import atomic_write_bytes
from ..outputs.compute import deterministic_zip, xml_text

# (font, fallback) — offices have the GB fonts; the fallback ships with Windows and WPS.
TITLE_FONT = ("方正小标宋简体", "宋体")
BODY_FONT = ("仿宋_GB2312", "仿宋")
H1_FONT = ("黑体", "黑体")
H2_FONT = ("楷体_GB2312", "楷体")
PAGE_NUMBER_FONT = ("宋体", "宋体")
TITLE_PT, BODY_PT, PAGE_NUMBER_PT = 22, 16, 14  # 二号, 三号, 四号
LINE_PT, TITLE_LINE_PT = 28, 36  # fixed line spacing (GB/T 9704: 22 lines of 28 characters)

_CN_NUM = "一二三四五六七八九十"
_H1 = re.compile(rf"^[{_CN_NUM}]+、")
_H2 = re.compile(rf"^（[{_CN_NUM}]+）")
_DATE = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$")
_INDENT = " \t\u3000"


@dataclass(frozen=True)
class Block:
    kind: str  # title / addressee / h1 / h2 / para / table / signature / date
    text: str
    lead: str = ""  # h2: the 楷体 lead-in ("（一）打击涉毒违法犯罪。"), text is the rest
    rows: tuple[tuple[str, ...], ...] = ()  # table: its rows of cells, the header first


def _plain(line: str) -> str:
    """A markdown line as text: no heading marks, bold marks, <br> or html tags."""
    line = re.sub(r"^#+\s*", "", line)
    line = re.sub(r"<br\s*/?>", "", line)
    line = re.sub(r"</?div[^>]*>", "", line)
    return line.replace("**", "")


def parse_blocks(text: str) -> list[Block]:
    """The bulletin text as layout blocks (blank lines only separate paragraphs)."""
    lines = [_plain(ln).strip(_INDENT) for ln in text.split("\n")]
    lines = [ln for ln in lines if not re.fullmatch(r"\|?[-:| ]+\|?", ln) or not ln]
    i = next((k for k, ln in enumerate(lines) if ln), len(lines))
    blocks: list[Block] = []
    while i < len(lines) and lines[i]:  # the title may run over several lines
        blocks.append(Block("title", lines[i]))
        i += 1
    body, starts = _body(lines[i:])
    date_at = max((k for k, ln in enumerate(body) if _DATE.match(ln)), default=None)
    for k, ln in enumerate(body):
        block = _line_block(k, ln, date_at)
        if block.kind == "table" and blocks and blocks[-1].kind == "table" and k not in starts:
            blocks[-1] = Block("table", "", rows=(*blocks[-1].rows, *block.rows))
        else:
            blocks.append(block)
    return blocks


def _body(lines: list[str]) -> tuple[list[str], set[int]]:
    """(the non-blank lines after the title, where a table begins among them: a row not right after another
    row, so that a blank line between two tables keeps them apart)."""
    body: list[str] = []
    starts: set[int] = set()
    after_row = False
    for ln in lines:
        row = _is_row(ln)
        if row and not after_row:
            starts.add(len(body))
        after_row = row
        if ln:
            body.append(ln)
    return body, starts


def _line_block(k: int, ln: str, date_at: int | None) -> Block:
    """The block of the body's line `k`: the date and the signature above it, the addressee first, the
    headings, a table row (a one-row table), else a paragraph."""
    if date_at is not None and k == date_at:
        return Block("date", ln)
    if date_at is not None and k == date_at - 1 and len(ln) <= 30:
        return Block("signature", ln)
    if k == 0 and ln.endswith(("：", ":")) and len(ln) <= 60:
        return Block("addressee", ln)
    if _H1.match(ln):
        if len(ln) <= 30:
            return Block("h1", ln)
        cut = ln.find("。") + 1 or len(ln)  # a numbered paragraph: its lead-in up to the first 。 is the heading
        return Block("h1", ln[cut:], lead=ln[:cut])
    if _H2.match(ln):
        m = re.search(r"[。：:]", ln)
        cut = m.end() if m and m.end() <= 40 else _H2.match(ln).end()
        return Block("h2", ln[cut:], lead=ln[:cut])
    if _is_row(ln):  # a markdown table row
        return Block("table", "", rows=(tuple(c.strip() for c in ln[1:-1].split("|")),))
    return Block("para", ln)


def _is_row(line: str) -> bool:
    return len(line) > 1 and line.startswith("|") and line.endswith("|")


def _set_font(run, font: tuple[str, str], size: int, bold: bool = False) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = font[0]
    run.font.size = Pt(size)
    run.font.bold = bold
    rpr = run._element.get_or_add_rPr()
    rfonts = rpr.get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), font[0])
    rfonts.set(qn("w:hint"), "eastAsia")


def _paragraph(doc, *, align=None, first_line_chars: int = 0, right_chars: int = 0, line_pt: int = LINE_PT):
    from docx.enum.text import WD_LINE_SPACING
    from docx.oxml.ns import qn
    from docx.shared import Pt

    p = doc.add_paragraph()
    pf = p.paragraph_format
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Pt(line_pt)
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    if align is not None:
        p.alignment = align
    if first_line_chars or right_chars:
        if first_line_chars:
            pf.first_line_indent = Pt(BODY_PT * first_line_chars)
        if right_chars:
            pf.right_indent = Pt(BODY_PT * right_chars)
        ind = p._p.get_or_add_pPr().find(qn("w:ind"))
        # character-based indents follow the font size in Word and WPS (2 characters, not 32pt)
        if first_line_chars:
            ind.set(qn("w:firstLineChars"), str(first_line_chars * 100))
        if right_chars:
            ind.set(qn("w:rightChars"), str(right_chars * 100))
    return p


def _font_table_fallbacks(doc) -> None:
    """Declare each GB font with its alternative (w:altName), so Word/WPS substitute 宋体/仿宋/楷体."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    part = next((r.target_part for r in doc.part.rels.values() if r.reltype == RT.FONT_TABLE), None)
    if part is None:
        return
    root = parse_xml(part.blob)
    for name, alt in (TITLE_FONT, BODY_FONT, H2_FONT):
        if name == alt:
            continue
        root.append(parse_xml(
            f'<w:font {nsdecls("w")} w:name="{name}"><w:altName w:val="{alt}"/><w:charset w:val="86"/>'
            '<w:family w:val="modern"/><w:pitch w:val="fixed"/></w:font>'))
    from lxml import etree

    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _page_number_footer(section) -> None:
    """"— 1 —" centred at the foot of every page (公文 page numbers)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for piece in ("— ", None, " —"):
        if piece is None:
            fld = parse_xml(f'<w:fldSimple {nsdecls("w")} w:instr="PAGE"><w:r><w:t>1</w:t></w:r></w:fldSimple>')
            p._p.append(fld)
            _set_font(_wrap_run(fld), PAGE_NUMBER_FONT, PAGE_NUMBER_PT)
        else:
            _set_font(p.add_run(piece), PAGE_NUMBER_FONT, PAGE_NUMBER_PT)


def _wrap_run(fld):
    from docx.oxml.ns import qn
    from docx.text.run import Run

    return Run(fld.find(qn("w:r")), None)


TEXT_WIDTH_MM = 210 - 28 - 26  # 版心 156 mm
TABLE_PT = 14  # 四号: a table's cells, one size below the body text
TABLE_LINE_PT = 20
_TWIPS_PER_MM = 1440 / 25.4


def _text_width(text: str) -> float:
    """Width of `text` in em: CJK and full-width characters 1, others ½."""
    return sum(1 if ord(ch) > 0x2E7F else 0.5 for ch in text)


def column_widths(rows, total_mm: float = TEXT_WIDTH_MM, pt: int = TABLE_PT) -> list[int]:
    """Column widths in twips summing to the 版心: each column's widest cell (plus padding), shares of what
    is left, long columns wrapping when the whole does not fit."""
    n = max(len(r) for r in rows)
    em_mm = pt * 25.4 / 72
    need = [max(_text_width(r[j]) if j < len(r) else 0 for r in rows) * em_mm + 2.5 for j in range(n)]
    floor = [min(x, 4 * em_mm + 2.5) for x in need]  # no column narrower than four characters (or its text)
    if sum(need) <= total_mm:
        widths = [x + (total_mm - sum(need)) / n for x in need]
    else:  # shrink the wide columns towards their floor, in proportion to what they can give
        spare = sum(need) - total_mm
        give = [x - f for x, f in zip(need, floor)]
        room = sum(give) or 1
        widths = [x - spare * g / room for x, g in zip(need, give)]
    twips = [max(1, round(w * _TWIPS_PER_MM)) for w in widths]
    twips[-1] += round(total_mm * _TWIPS_PER_MM) - sum(twips)  # exactly the 版心, whatever the rounding
    return twips


def _table(doc, rows) -> None:
    """A bordered table filling the 版心: header row in 黑体, repeated on each page, rows never split."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls, qn
    from docx.shared import Pt, Twips

    n = max(len(r) for r in rows)
    widths = column_widths(rows)
    table = doc.add_table(rows=len(rows), cols=n)
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    tblpr = table._tbl.tblPr
    tblpr.append(parse_xml(f'<w:tblW {nsdecls("w")} w:w="{sum(widths)}" w:type="dxa"/>'))
    tblpr.append(parse_xml(f'<w:tblLayout {nsdecls("w")} w:type="fixed"/>'))
    grid = table._tbl.tblGrid
    for col, w in zip(grid.findall(qn("w:gridCol")), widths):
        col.set(qn("w:w"), str(w))
    numeric = re.compile(r"^[-+]?[\d.,]+(%|‱|:1)?$|^—$")
    for i, cells in enumerate(rows):
        row = table.rows[i]
        trpr = row._tr.get_or_add_trPr()
        trpr.append(parse_xml(f'<w:cantSplit {nsdecls("w")}/>'))
        if i == 0:
            trpr.append(parse_xml(f'<w:tblHeader {nsdecls("w")}/>'))
        for j in range(n):
            cell = row.cells[j]
            cell.width = Twips(widths[j])
            text = cells[j] if j < len(cells) else ""
            p = cell.paragraphs[0]
            pf = p.paragraph_format
            pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            pf.line_spacing = Pt(TABLE_LINE_PT)
            pf.space_before = pf.space_after = Pt(0)
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER if i == 0 or numeric.match(text) else WD_ALIGN_PARAGRAPH.LEFT
            _set_font(p.add_run(text), H1_FONT if i == 0 else BODY_FONT, TABLE_PT)


def _keep_ending(body: list) -> None:
    """The body's last paragraph keeps with the signature (GB/T 9704: 落款 and 成文日期 never stand alone on a
    page), and so does the one before when the last is a closing line such as "特此通报。" — the page then
    holds at least the end of a paragraph of substance (its last lines: widow control lets a long one split)."""
    for p in body[-2:] if body and len(body[-1].text) <= 20 else body[-1:]:
        p.paragraph_format.keep_with_next = True
        p.paragraph_format.widow_control = True


def _block(doc, b: Block):
    """Write one block other than a title or table; its (last) paragraph."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    if b.kind == "addressee":
        p = _paragraph(doc)
        _set_font(p.add_run(b.text), BODY_FONT, BODY_PT)
    elif b.kind in ("h1", "h2"):
        p = _paragraph(doc, first_line_chars=2)
        lead = b.lead or b.text if b.kind == "h1" else b.lead
        _set_font(p.add_run(lead), H1_FONT if b.kind == "h1" else H2_FONT, BODY_PT)
        if b.lead and b.text:
            _set_font(p.add_run(b.text), BODY_FONT, BODY_PT)
        else:  # a heading on its own line never ends a page
            p.paragraph_format.keep_with_next = True
    elif b.kind == "signature":
        for _ in range(2):  # 空二行 before the signature, which stays on the page of its date
            blank = _paragraph(doc)
            blank.paragraph_format.keep_with_next = True
            _set_font(blank.add_run(""), BODY_FONT, BODY_PT)
        p = _paragraph(doc, align=WD_ALIGN_PARAGRAPH.RIGHT, right_chars=2)
        p.paragraph_format.keep_with_next = True
        _set_font(p.add_run(b.text), BODY_FONT, BODY_PT)
    elif b.kind == "date":
        p = _paragraph(doc, align=WD_ALIGN_PARAGRAPH.RIGHT, right_chars=2)
        _set_font(p.add_run(b.text), BODY_FONT, BODY_PT)
    else:
        p = _paragraph(doc, first_line_chars=2)
        _set_font(p.add_run(b.text), BODY_FONT, BODY_PT)
    return p


def build_document(blocks: list[Block], *, report_date: Date, title: str | None = None):
    """A python-docx Document laid out from `blocks`."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    doc = Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin = Mm(37), Mm(35)
    sec.left_margin, sec.right_margin = Mm(28), Mm(26)
    sec.header_distance, sec.footer_distance = Mm(15), Mm(25)

    normal = doc.styles["Normal"]
    normal.font.name = BODY_FONT[0]
    normal.font.size = Pt(BODY_PT)
    rfonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), BODY_FONT[0])
    lang = normal.element.get_or_add_rPr().find(qn("w:lang"))
    if lang is None:
        from docx.oxml import OxmlElement

        lang = OxmlElement("w:lang")
        normal.element.get_or_add_rPr().append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")

    seen_title = False
    body: list = []  # the body paragraphs written so far: the last ones keep with the signature and date
    for k, b in enumerate(blocks):
        if b.kind == "title":
            p = _paragraph(doc, align=WD_ALIGN_PARAGRAPH.CENTER, line_pt=TITLE_LINE_PT)
            _set_font(p.add_run(b.text), TITLE_FONT, TITLE_PT)
            seen_title = True
            continue
        if seen_title:  # one empty line between title and addressee
            _set_font(_paragraph(doc).add_run(""), BODY_FONT, BODY_PT)
            seen_title = False
        if b.kind == "table":
            if body:  # the lead-in of a table ("（一）刑拘查处比。全县22.09%。") never ends a page without it
                body[-1].paragraph_format.keep_with_next = True
            _table(doc, b.rows)
            body = []
            continue
        if b.kind == "signature" or (b.kind == "date" and (k == 0 or blocks[k - 1].kind != "signature")):
            _keep_ending(body)
        body.append(_block(doc, b))

    _page_number_footer(sec)
    _font_table_fallbacks(doc)

    stamp = datetime(report_date.year, report_date.month, report_date.day)
    cp = doc.core_properties
    cp.author = ""
    cp.last_modified_by = ""
    cp.title = title or next((b.text for b in blocks if b.kind == "title"), "")
    cp.subject = cp.keywords = cp.comments = cp.category = ""
    cp.created = cp.modified = cp.last_printed = stamp
    cp.revision = 1
    return doc


def _date_of(blocks: list[Block]) -> Date:
    """The bulletin's own date line (2018年11月15日); a constant when it has none — never today's date."""
    for b in blocks:
        if b.kind == "date":
            y, m, d = map(int, re.findall(r"\d+", b.text))
            try:
                return Date(y, m, d)
            except ValueError:
                break
    return Date(2000, 1, 1)


def docx_bytes(text: str, *, report_date: Date | None = None) -> bytes:
    """The .docx file of a bulletin's text, byte-identical for the same text and date.

    Core properties carry `report_date` (default: the date line of the text), no author or user name.
    """
    blocks = parse_blocks(xml_text(text))  # a control character in a village name would fail python-docx
    doc = build_document(blocks, report_date=report_date or _date_of(blocks))
    raw = io.BytesIO()
    doc.save(raw)
    return _normalise_zip(raw.getvalue())


def _normalise_zip(data: bytes) -> bytes:
    """Constant entry timestamps; drop python-docx's stock preview image (not this document)."""
    return deterministic_zip(data, core_time=None, drop=frozenset({"docProps/thumbnail.jpeg"}))


def write_docx(text: str, path: Path | str | None, *, report_date: Date | None = None, inputs=(),
               create_folder: bool = True) -> None:
    """Write the bulletin `text` as a 公文-style .docx at `path`, atomically (outputs.atomic_write_bytes)."""
    if path is None:
        raise UsageError("docx 格式需要用 --output 指定输出文件，如 --output 通报.docx")
    atomic_write_bytes(path, docx_bytes(text, report_date=report_date), inputs=inputs, create_folder=create_folder)
