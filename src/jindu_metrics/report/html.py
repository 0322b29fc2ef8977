"""The bulletin as one self-contained web page: its text, its tables and SVG charts drawn by pygal.

No network and no other file: the CSS is inline, the charts are inline SVG (pygal's JavaScript is left out),
and a Content-Security-Policy forbids the page any fetch. Same input, byte-identical page: pygal's random
chart ids become stable ones and its dated comments are dropped. Every text from a ledger cell is escaped
(HTML and SVG). Only aggregate figures reach the page: it carries no name or ID of a person.

The page is built from plain data (`page` dicts below) so that any caller can assemble one:
  {"title", "subtitle", "text": bulletin text or None, "tables": [table], "trends": [trend], "rankings": [ranking]}
  table:   {"caption", "header": [str], "rows": [[str]], "notes": [str]}
  trend:   {"name", "format", "decimals", "target": Fraction | None, "target_text", "months": [str],
            "series": [{"label", "values": [Fraction | None], "missing": reason or ""}]}
  ranking: {"name", "format", "decimals", "target", "target_text", "direction",
            "bars": [{"label", "value": Fraction | None, "rank": int | None, "met": bool | None, "missing": str}]}
Exact values are on the engine's scale (ratios as fractions); None is "no value" (分母为0), and a series or
bar whose ledger is missing carries its reason in "missing" and is left out, never drawn as 0.
"""

from __future__ import annotations

import html
import re
from fractions import Fraction
from pathlib import Path

from ..metrics.display import SCALE, SUFFIX, format_value
from ..outputs.compute import xml_text

# Chinese labels must render wherever the page is opened: Windows (雅黑, 宋体), then Linux fonts.
FONT_STACK = '"Microsoft YaHei","SimSun","WenQuanYi Zen Hei","Noto Sans CJK SC",sans-serif'
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
MET_COLOR, UNMET_COLOR, PLAIN_COLOR, TARGET_COLOR = "#2e7d32", "#c62828", "#1565c0", "#e65100"
_COMMENT = re.compile(r"<!--.*?-->", re.S)

_PAGE_CSS = """
body{margin:0;background:#f4f4f4;color:#222;font-family:FONTS;line-height:1.7}
main{max-width:960px;margin:0 auto;padding:24px 32px 48px;background:#fff}
h1{font-size:26px;text-align:center;margin:16px 0 4px}
.subtitle{text-align:center;color:#555;margin:0 0 24px}
h2{font-size:20px;border-bottom:2px solid #c62828;padding-bottom:4px;margin-top:36px}
.bulletin p{margin:6px 0;text-indent:2em}
.bulletin p.title{text-indent:0;text-align:center;font-size:22px;font-weight:bold}
.bulletin p.addressee{text-indent:0}
.bulletin p.h1{font-weight:bold}
.bulletin .lead{font-weight:bold}
.bulletin p.signature,.bulletin p.date{text-align:right;text-indent:0}
table{border-collapse:collapse;margin:12px 0;width:100%}
caption{font-weight:bold;text-align:left;padding:4px 0}
th,td{border:1px solid #999;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}
thead th{background:#eee}
figure{margin:16px 0 28px}
figure svg{display:block;width:100%;max-width:900px;height:auto}
figcaption,.note{color:#555;font-size:14px}
""".replace("FONTS", FONT_STACK)


def _esc(text) -> str:
    """Cell text as HTML text: markup escaped, characters HTML/XML cannot hold shown as \\x01."""
    return html.escape(xml_text(str(text)), quote=True)


def _scaled(exact, fmt: str) -> float | None:
    """The exact value on the display scale (24.49 for 24.49%) as a float for the chart's geometry only;
    every number printed on the page comes from format_value (ROUND_HALF_UP on the exact value)."""
    return None if exact is None else float(Fraction(exact) * SCALE.get(fmt, 1))


def _axis_formatter(fmt: str):
    suffix = SUFFIX.get(fmt, "")
    return lambda y: f"{y:g}{suffix}"


def _style():
    from pygal.style import Style

    return Style(font_family=FONT_STACK, background="white", plot_background="white",
                 colors=(PLAIN_COLOR, TARGET_COLOR, "#ef6c00", "#6a1b9a", "#00838f", "#ad1457"),
                 title_font_size=18, label_font_size=13, major_label_font_size=13, legend_font_size=14,
                 value_font_size=12, tooltip_font_size=13, guide_stroke_color="#d0d0d0",
                 major_guide_stroke_color="#b0b0b0")


def _svg(chart, chart_id: str) -> str:
    """The chart as inline SVG markup with a stable id, without pygal's script and dated comments."""
    from lxml import etree  # pygal's tree when lxml is installed, as it is for python-docx

    chart.uuid = chart_id  # pygal draws a uuid4 per chart: the id and the CSS prefix become stable
    root = chart.render_tree()
    for node in root.iter(etree.Comment):
        node.getparent().remove(node)
    for node in root.iter("{http://www.w3.org/2000/svg}script", "script"):
        node.getparent().remove(node)
    text = etree.tostring(root, encoding="unicode")
    return _COMMENT.sub("", text)


def trend_svg(trend: dict, chart_id: str) -> tuple[str | None, list[str]]:
    """(SVG of the month-by-month lines with the target line, notes); SVG None when no line has a value."""
    import pygal

    fmt, dec = trend.get("format", "percent"), trend.get("decimals", 1)
    months = list(trend["months"])
    notes: list[str] = []
    lines = []
    for s in trend["series"]:
        if s.get("missing"):
            notes.append(f"{s['label']}：{s['missing']}，无{trend['name']}数据。")
            continue
        values = list(s["values"])
        empty = [months[k] for k, v in enumerate(values) if v is None]
        if empty:
            notes.append(f"{s['label']}{'、'.join(empty)}分母为0，无数值（该点不画）。")
        if any(v is not None for v in values):
            lines.append((s["label"], values))
    if not lines:
        return None, notes
    target = trend.get("target")
    top = max(_scaled(v, fmt) for _, values in lines for v in [*values, target] if v is not None)
    chart = pygal.Line(
        range=(0, top * 1.08 or 1),  # headroom: a target line on 100% must not hide under the frame
        style=_style(), js=[], width=900, height=380, include_x_axis=True, legend_at_bottom=True,
        title=xml_text(trend_title(trend)), x_labels=[xml_text(m) for m in months],
        value_formatter=_axis_formatter(fmt), print_values=False, dots_size=4, allow_interruptions=True,
        truncate_legend=-1, truncate_label=-1,
    )
    for label, values in lines:
        chart.add(xml_text(label), [
            None if v is None else {"value": _scaled(v, fmt), "formatter": _fixed(format_value(v, fmt, dec))}
            for v in values], stroke_style={"width": 3})
    if target is not None:
        shown = f"目标{trend.get('target_text') or format_value(target, fmt, dec)}"
        chart.add(xml_text(shown), [{"value": _scaled(target, fmt), "formatter": _fixed(shown)}] * len(months),
                  stroke_style={"width": 3, "dasharray": "10,6"}, show_dots=False)
    return _svg(chart, chart_id), notes


def _fixed(text: str):
    return lambda _value: text


def ranking_svg(ranking: dict, chart_id: str) -> tuple[str | None, list[str]]:
    """(SVG of the units' bars, best first, coloured by target; notes); SVG None when no unit has a value."""
    import pygal

    fmt, dec = ranking.get("format", "percent"), ranking.get("decimals", 1)
    notes: list[str] = []
    absent = [b["label"] for b in ranking["bars"] if b.get("missing")]
    if absent:
        reasons = sorted({b["missing"] for b in ranking["bars"] if b.get("missing")})
        notes.append(f"{'、'.join(absent)}{'；'.join(reasons)}，不参与排名。")
    undefined = [b["label"] for b in ranking["bars"] if not b.get("missing") and b.get("value") is None]
    if undefined:
        notes.append(f"{'、'.join(undefined)}分母为0，无数值，不参与排名。")
    bars = [b for b in ranking["bars"] if not b.get("missing") and b.get("value") is not None]
    if not bars:
        return None, notes
    lower = ranking.get("direction") == "lower"
    bars.sort(key=lambda b: (b["rank"] if b.get("rank") is not None else 10**9,
                             Fraction(b["value"]) if lower else -Fraction(b["value"]), b["label"]))
    target = ranking.get("target")
    title = ranking_title(ranking)
    labels = [xml_text(_bar_label(b)) for b in reversed(bars)]  # pygal draws the first label at the bottom
    # pygal sizes labels at 0.6 em a character; a Chinese character is a full em: add the difference
    wide = max(sum(1 for ch in lb if ord(ch) > 0x2E7F) for lb in labels)
    chart = pygal.HorizontalBar(
        margin_left=20 + round(0.45 * 13 * wide), style=_style(), js=[], width=900, height=max(260, 60 + 30 * len(bars)), include_x_axis=True,
        show_legend=False, title=xml_text(title), value_formatter=_axis_formatter(fmt), print_values=True,
        print_values_position="top", truncate_label=-1,
        x_labels=labels,
    )
    values = []
    for b in reversed(bars):
        color = PLAIN_COLOR if b.get("met") is None else (MET_COLOR if b["met"] else UNMET_COLOR)
        values.append({"value": _scaled(b["value"], fmt), "color": color,
                       "formatter": _fixed(format_value(b["value"], fmt, dec))})
    chart.add(xml_text(ranking["name"]), values)
    if target is not None:
        notes.append("绿色：达到目标；红色：未达到目标。")
    return _svg(chart, chart_id), notes


def trend_title(trend: dict) -> str:
    return trend["name"] + "（1月至各月累计，存量看月末）"


def ranking_title(ranking: dict) -> str:
    return ranking["name"] + (f"（目标{ranking.get('target_text')}）" if ranking.get("target") is not None else "")


def _bar_label(bar: dict) -> str:
    return f"第{bar['rank']}名 {bar['label']}" if bar.get("rank") is not None else bar["label"]


# ---------------------------------------------------------------- the page


def _bulletin_html(text: str) -> str:
    from .docx import parse_blocks  # one reading of a bulletin's layout for docx and html

    out = []
    for b in parse_blocks(text):
        if b.kind == "table":  # a markdown table of the bulletin text (the county rankings): a table here too
            header, *rows = b.rows
            out.append(_table_html({"caption": "", "header": header, "rows": rows}))
            continue
        cls = b.kind if b.kind in ("title", "addressee", "h1", "h2", "signature", "date") else "para"
        lead = f'<span class="lead">{_esc(b.lead)}</span>' if getattr(b, "lead", "") else ""
        out.append(f'<p class="{cls}">{lead}{_esc(b.text)}</p>')
    return "\n".join(out)


def _table_html(t: dict) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in t["header"])
    body = "\n".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>" for row in t["rows"])
    notes = "".join(f'<p class="note">{_esc(n)}</p>' for n in t.get("notes", ()))
    return (f"<table><caption>{_esc(t['caption'])}</caption><thead><tr>{head}</tr></thead>\n"
            f"<tbody>\n{body}\n</tbody></table>{notes}")


def _figure(svg: str | None, notes: list[str], title: str) -> str:
    caption = "".join(f"<p>{_esc(n)}</p>" for n in notes)
    if svg is None:
        caption = f"<p>{_esc(title)}：无可绘制的数值。</p>" + caption
        return f'<figure class="empty"><figcaption>{caption}</figcaption></figure>'
    return f"<figure>{svg}<figcaption>{caption}</figcaption></figure>" if caption else f"<figure>{svg}</figure>"


def render_page(page: dict) -> str:
    """The whole page as text (UTF-8 when written): deterministic for the same `page`."""
    parts = ['<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">',
             f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{_esc(page['title'])}</title>\n<style>{_PAGE_CSS}</style>\n</head>\n<body>\n<main>",
             f"<h1>{_esc(page['title'])}</h1>"]
    if page.get("subtitle"):
        parts.append(f'<p class="subtitle">{_esc(page["subtitle"])}</p>')
    n = 0
    for key, css, heading, draw, title in (
            ("trends", "trends", "主要指标逐月走势", trend_svg, trend_title),
            ("rankings", "rankings", page.get("ranking_title") or "排名", ranking_svg, ranking_title)):
        if not page.get(key):
            continue
        parts.append(f'<section class="{css}">\n<h2>{_esc(heading)}</h2>')
        for chart in page[key]:
            n += 1  # ids in page order: the same page, the same ids
            svg, notes = draw(chart, f"jindu-{n}")
            parts.append(_figure(svg, notes, title(chart)))
        parts.append("</section>")
    if page.get("tables"):
        parts.append('<section class="tables">\n<h2>数据表</h2>')
        parts += [_table_html(t) for t in page["tables"]]
        parts.append("</section>")
    if page.get("text"):
        parts.append(f'<section class="bulletin">\n<h2>通报全文</h2>\n{_bulletin_html(page["text"])}\n</section>')
    parts.append("</main>\n</body>\n</html>\n")
    return "\n".join(parts)


def write_html(path: str | Path, page: dict, *, inputs=(), create_folder: bool = True) -> None:
    """Write the page atomically (outputs.atomic_write_text)."""
    from ..outputs import atomic_write_text

    atomic_write_text(path, render_page(page), inputs=inputs, create_folder=create_folder)


# ---------------------------------------------------------------- pages from the tools' data


def _target_value(ind: dict):
    """The target on the exact scale (catalog.parse_target), or None when none is set or readable."""
    if not ind.get("target"):
        return None
    from ..metrics.catalog import parse_target

    try:
        return parse_target(ind["target"], ind["format"], ind.get("direction") or "higher").value
    except ValueError:
        return None


def county_page(data: dict, text: str | None = None) -> dict:
    """The county page from batch's plain workbook data (batch.workbook_head and workbook_rest): the county total's lines,
    the townships' ranking bars and table on the main ratios (data["trend"]["metrics"]), and the text."""
    trend = data.get("trend") or {}
    main = list(trend.get("metrics", []))
    units, total = list(data["units"]), data["total_unit"]
    cell = {(r["unit"], r["metric"]): r for r in data["rows"]}
    trends, rankings = [], []
    for ind in main:
        target = _target_value(ind)
        tot = cell.get((total, ind["id"]), {})
        series = [{"label": total, "values": trend.get("values", {}).get(total, {}).get(ind["id"], []),
                   "missing": tot.get("missing") or ""}]
        trends.append({**ind, "target": target, "target_text": ind.get("target") or "",
                       "months": trend.get("months", []), "series": series})
        bars = []
        for u in units:
            r = cell.get((u, ind["id"]), {})
            bars.append({"label": u, "value": r.get("exact"), "rank": r.get("rank"), "met": r.get("met"),
                         "missing": r.get("missing") or ""})
        rankings.append({**ind, "target": target, "target_text": ind.get("target") or "", "bars": bars})
    header = ["镇街"] + [ind["name"] + (f"（目标{ind['target']}）" if ind.get("target") else "") for ind in main]
    rows = []
    for u in [*units, total]:
        row = [u]
        for ind in main:
            r = cell.get((u, ind["id"]), {})
            if r.get("missing"):
                row.append(r["missing"])
                continue
            shown = format_value(r.get("exact"), ind["format"], ind["decimals"])
            if r.get("rank") is not None:
                shown += f"（第{r['rank']}名）"
            if r.get("met") is False:
                shown += " 未达标"
            row.append(shown)
        rows.append(row)
    notes = ["—：分母为0，无数值。"] if any(
        cell.get((u, i["id"]), {}).get("exact") is None and not cell.get((u, i["id"]), {}).get("missing")
        for u in [*units, total] for i in main) else []
    table = {"caption": "各镇街主要指标及排名", "header": header, "rows": rows, "notes": notes}
    return {"title": data.get("title") or "各镇街禁毒工作指标汇总", "subtitle": data.get("subtitle", ""),
            "text": text, "tables": [table] if units else [], "trends": trends, "rankings": rankings,
            "ranking_title": "各镇街排名"}


def township_page(context: dict, trend: dict, text: str, main_ids) -> dict:
    """A unit's page from its bulletin context (report.context.build_context), its trend
    ({"months": [...], "values": {metric: [Fraction | None]}}) and its bulletin text."""
    m = context["m"]
    unit = context["unit"]
    trends, rows = [], []
    main = [m[i] for i in main_ids if i in m]
    for x in main:
        target = _target_value({"target": x.target, "format": x.format, "direction": x.direction})
        trends.append({"name": x.name, "format": x.format, "decimals": x.decimals, "target": target,
                       "target_text": x.target or "", "months": trend["months"],
                       "series": [{"label": unit, "values": trend["values"].get(x.id, []),
                                   "missing": x.missing_text}]})
        rows.append([x.name, x.missing_text or x.display, x.yoy.display, x.yoy.change_display, x.target or "—",
                     "—" if x.met is None else ("达标" if x.met else (x.gap_text or "未达标"))])
    tables = [{"caption": "主要指标", "header": ["指标", "本期", "去年同期", "同比", "目标", "达标/差距"],
               "rows": rows, "notes": ["—：无数值（分母为0、未提供台帐或去年同期无数据）或未设目标。"]}]
    cols = ("seizures", "grid_inclusion_rate", "visit_rate", "community_execution_rate")
    villages = context.get("villages") or []
    if villages:
        header = ["村居"] + [m[c].name if c in m else c for c in cols]
        vrows = [[v["name"]] + [v["m"][c].display if c in v["m"] else "—" for c in cols] for v in villages]
        tables.append({"caption": "各村居情况", "header": header, "rows": vrows, "notes": []})
    rankings = []
    for x in main:
        bars = [{"label": v["name"], "value": v["m"][x.id].exact if x.id in v["m"] else None, "rank": None,
                 "met": v["m"][x.id].met if x.id in v["m"] else None,
                 "missing": v["m"][x.id].missing_text if x.id in v["m"] else ""} for v in villages]
        if bars:
            rankings.append({"name": x.name, "format": x.format, "decimals": x.decimals, "direction": x.direction,
                             "target": _target_value({"target": x.target, "format": x.format,
                                                      "direction": x.direction}),
                             "target_text": x.target or "", "bars": bars})
    return {"title": f"{unit}{context['period']['label']}禁毒工作情况", "subtitle": f"统计期：{context['period']['label']}",
            "text": text, "tables": tables, "trends": trends, "rankings": rankings, "ranking_title": "各村居对比"}



def write_report_html(path, text: str, results: dict, trend: dict, catalog, *, workspace=None, date=None,
                      inputs=()) -> None:
    """`jindu report --format html`: the bulletin (render.bulletin_results, its txt text) and its main ratios'
    trend ({"months": [...], "values": {metric: [exact | None]}}, the main ratios in their order)."""
    from .context import build_context

    context = build_context(results["result_ytd"], month=results["month"], villages=results["villages"],
                            workspace=workspace, catalog=catalog, date=date)
    write_html(path, township_page(context, trend, text, list(trend["values"])), inputs=inputs,
               create_folder=False)

def write_county_html(path, workbook: dict, text: str | None = None) -> None:
    """batch's 汇总.html from the data of its summary workbook (batch.workbook_head and workbook_rest) and the county text."""
    write_html(path, county_page(workbook, text))
