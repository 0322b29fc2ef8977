"""Bulletin rendering on a hand-made result (the 乐平镇 figures): context, filters, templates, sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jindu_metrics.errors import ConfigError, UsageError
from jindu_metrics.metrics.model import Comparison, MetricRow
from jindu_metrics.report import build_context, render_report
from jindu_metrics.report.filters import change, chinese, percent, permyriad, ratio
from jindu_metrics.workspace import Workspace

GOLDEN = Path(__file__).parent / "golden"


@dataclass(frozen=True)
class FakePeriod:
    start: date
    end: date
    label: str
    months_label: str


YTD = FakePeriod(date(2018, 1, 1), date(2018, 10, 31), "2018年1-10月", "1至10月")
OCT = FakePeriod(date(2018, 10, 1), date(2018, 10, 31), "2018年10月", "10月")


class FakeResult:
    def __init__(self, period, unit, rows, by=None):
        self.period, self.unit, self.rows, self.by = period, unit, rows, by

    def get(self, metric_id, unit=None):
        return next(r for r in self.rows if r.metric == metric_id and r.unit == (unit or self.unit))


def _row(unit, metric, name, num, den=None, display=None, target=None, met=None, gap=None, kind=None,
         unit_label="人", **kw):
    kind = kind or ("ratio" if den is not None else "count")
    exact = None if (den == 0) else (Fraction(num, den) if den is not None else Fraction(num))
    return MetricRow(unit=unit, metric=metric, name=name, area="", kind=kind, numerator=num, denominator=den,
                     exact=exact, display=display if display is not None else str(num), target=target,
                     met=met, gap=gap, unit_label=unit_label, **kw)


def lepingzhen_rows(unit="乐平镇", scale=1):
    """The published 乐平镇 1至10月 figures (seed 000), as the engine's rows."""
    yoy = Comparison("2017-01-01", "2017-10-31", 0.2, "20.00%", 10, 50)
    return [
        _row(unit, "seizures", "查处吸毒人员数", 49 * scale),
        _row(unit, "criminal_detentions", "刑拘人数", 12 * scale),
        _row(unit, "detention_ratio", "刑拘查处比", 12, 49, "24.49%", unit_label="%", yoy=yoy),
        _row(unit, "newly_found", "新发现吸毒人员数", 16),
        _row(unit, "newly_found_share", "新发现占查处比例", 16, 49, "32.7%", unit_label="%"),
        _row(unit, "compulsory_rehab", "强制隔离戒毒人数", 11),
        _row(unit, "rehab_rate", "送戒率", 11, 23, "47.8%", unit_label="%"),
        _row(unit, "sick_treated_rate", "送治率", 0, 3, "0.0%", unit_label="%"),
        _row(unit, "grid_included", "纳入网格化人数", 354),
        _row(unit, "grid_inclusion_rate", "纳入率", 354, 374, "94.7%", target="≥95%", met=False, gap=2,
             unit_label="%"),
        _row(unit, "managed", "管控人数", 258),
        _row(unit, "visited", "走访人数", 258),
        _row(unit, "visit_rate", "走访管控率", 258, 258, "100%", target="100%", met=True, gap=0, unit_label="%"),
        _row(unit, "community_orders", "在册社区戒毒社区康复人数", 36),
        _row(unit, "community_reported", "报到建档人数", 36),
        _row(unit, "community_execution_rate", "执行率", 36, 36, "100%", target="100%", met=True, gap=0,
             unit_label="%"),
        _row(unit, "worker_ratio", "吸毒人员与禁毒社工配比", 258, 10, "26:1", target="≤30:1", met=True,
             unit_label=":1"),
        _row(unit, "led_items", "滚动播放LED", 650, kind="sum", unit_label="条"),
        _row(unit, "outdoor_events", "户外宣传", 40, kind="sum", unit_label="次"),
        _row(unit, "posters", "张贴海报", 225, kind="sum", unit_label="张"),
        _row(unit, "leaflets", "派发资料", 6790, kind="sum", unit_label="份"),
        _row(unit, "media_items", "媒体采用", 13, kind="sum", unit_label="条"),
        _row(unit, "campaigns", "大型宣传活动", 21, kind="sum", unit_label="场"),
        _row(unit, "lectures", "教育讲座", 9, kind="sum", unit_label="场"),
        _row(unit, "testimonies", "现身说法及文艺汇演", 3, kind="sum", unit_label="场"),
        _row(unit, "leader_attendance", "领导出席人次", 37, kind="sum", unit_label="人次"),
        _row(unit, "audience", "受教育人数", 37000, kind="sum", unit_label="人次"),
        _row(unit, "urine_coverage", "尿检覆盖率", 0, 0, "—", target="≥90%", unit_label="%",
             reason="分母为0：无人在户在的管控人员"),
    ]


def fake_results():
    ytd = FakeResult(YTD, "乐平镇", lepingzhen_rows())
    prev = Comparison("2018-09-01", "2018-09-30", 4, "4", 4, None, 1, "增加1人")
    month = FakeResult(OCT, "乐平镇", [_row("乐平镇", "seizures", "查处吸毒人员数", 5, previous=prev),
                                    _row("乐平镇", "criminal_detentions", "刑拘人数", 2)])
    vrows = lepingzhen_rows()[:0]
    for v, (inc, tot, gap) in {"东村": (100, 100, None), "西村": (90, 100, 5)}.items():
        vrows += [_row(v, "seizures", "查处吸毒人员数", 7),
                  _row(v, "grid_inclusion_rate", "纳入率", inc, tot, "100%" if inc == tot else f"{inc * 100 / tot:.1f}%", target="≥95%", met=gap is None, gap=gap, unit_label="%"),
                  _row(v, "visit_rate", "走访管控率", 3, 3, "100%", target="100%", met=True, unit_label="%"),
                  _row(v, "community_execution_rate", "执行率", 0, 0, "—", target="100%", unit_label="%")]
    villages = FakeResult(YTD, "乐平镇", lepingzhen_rows() + vrows, by="所属村居")
    return ytd, month, villages


WS = Workspace(root=Path("."), unit="乐平镇", level="镇街", office="乐平镇禁毒委员会办公室")


def render(fmt="txt", **kw):
    ytd, month, villages = fake_results()
    args = dict(month=month, villages=villages, workspace=WS, fmt=fmt, date=date(2018, 11, 15))
    args.update(kw)
    return render_report(ytd, **args)


PUBLISHED = [
    "1至10月份，全镇查处吸毒人员49人，刑拘12人，刑拘查处比为24.49%",
    "1至10月份，全镇新发现吸毒人员16人，占查处的32.7%；强制隔离戒毒11人，送戒率为47.8%；"
    "送治病残吸毒人员0人，送治率为0.0%；纳入网格化吸毒人员354人，纳入率为94.7%",
    "全镇管控人数258人，走访258人，走访管控率100%，在册社区戒毒社区康复人员共36人，报到建档36人，执行率为100%",
    "纳入率为94.7%，低于95%的目标，还需纳入2人",
]


# ---- the default bulletin ------------------------------------------------------------------------------

def test_default_bulletin_has_published_sentences():
    text = render()
    assert text.startswith("关于2018年1-10月禁毒工作情况的通报\n\n各村居委会、各禁毒成员单位：\n")
    for sentence in PUBLISHED:
        assert sentence in text
    assert "一、工作成效" in text and "二、主要工作" in text and "三、存在问题" in text and "四、下一步工作" in text
    assert "刑拘查处比24.49%（同比上升4.49个百分点）" in text  # in the rate's own decimals
    assert "其中10月份查处吸毒人员5人（环比增加1人），刑拘2人" in text
    assert "吸毒人员与禁毒社工配比为26:1" in text
    assert "未达标的村居：西村90.0%（还需纳入5人）。" in text
    assert "东村查处吸毒人员7人" in text
    assert text.endswith("乐平镇禁毒委员会办公室\n2018年11月15日\n")
    assert "None" not in text and "{{" not in text


def test_golden_fake_txt_and_md(golden):
    for fmt in ("txt", "md"):
        golden(GOLDEN / f"fake_bulletin.{fmt}", render(fmt))


def test_date_defaults_to_period_end_and_output_is_stable():
    a = render(date=None)
    assert a.endswith("2018年10月31日\n")
    assert a == render(date=None)


def test_scope_and_office_follow_workspace():
    ws = Workspace(root=Path("."), unit="三水区", level="县区", office="三水区禁毒委员会办公室")
    text = render(workspace=ws)
    assert "1至10月份，全区查处吸毒人员49人" in text and "现将我区" in text
    assert text.endswith("三水区禁毒委员会办公室\n2018年11月15日\n")
    text = render(workspace=None)
    assert "全镇查处" in text and "乐平镇禁毒委员会办公室" in text


def test_all_targets_met_and_missing_data_dash():
    rows = [r for r in lepingzhen_rows() if r.metric not in ("grid_inclusion_rate", "rehab_rate")]
    text = render_report(FakeResult(YTD, "乐平镇", rows), workspace=WS)
    assert "设有目标的各项指标均已达到目标" in text
    # absent rows are said to be without a value, never "" and never "—" in prose
    assert "送戒率无法计算（无数据）" in text and "纳入率无法计算（无数据）" in text and "—" not in text
    assert "None" not in text


def test_month_equal_to_ytd_is_not_repeated():
    jan = FakePeriod(date(2018, 1, 1), date(2018, 1, 31), "2018年1月", "1月")
    r = FakeResult(jan, "乐平镇", lepingzhen_rows())
    text = render_report(r, month=r, workspace=WS)
    assert "其中" not in text


def test_context_names():
    ytd, month, villages = fake_results()
    ctx = build_context(ytd, month=month, villages=villages, workspace=WS, date=date(2018, 11, 15))
    assert ctx["period"] == {"start": "2018-01-01", "end": "2018-10-31", "label": "2018年1-10月",
                             "months_label": "1至10月", "year": 2018, "end_month": 10, "end_text": "10月底"}
    x = ctx["m"]["grid_inclusion_rate"]
    assert (x.numerator, x.denominator, x.display, x.target, x.met, x.gap) == (354, 374, "94.7%", "≥95%", False, 2)
    assert x.gap_text == "还需纳入2人" and ctx["grid_inclusion_rate"] is x
    assert [u.id for u in ctx["unmet"]] == ["grid_inclusion_rate"]
    assert [v["name"] for v in ctx["villages"]] == ["东村", "西村"]
    assert ctx["month"]["m"]["seizures"].display == "5"
    assert not ctx["m"]["seizures"].yoy and ctx["m"]["seizures"].yoy.display == "—"
    assert ctx["date"] == "2018年11月15日" and ctx["scope"] == "全镇" and ctx["ours"] == "我镇"


def test_unknown_format_is_usage_error():
    with pytest.raises(UsageError):
        render(fmt="pdf")


# ---- filters ------------------------------------------------------------------------------------------

def test_filters_examples():
    assert percent(Fraction(12, 49), 2) == "24.49%"
    assert percent(Fraction(354, 374)) == "94.7%"
    assert percent(Fraction(1)) == "100%" and percent(Fraction(0), 1) == "0.0%"
    assert percent(Fraction(1, 8), 1) == "12.5%" and percent(Fraction(1, 16), 2) == "6.25%"
    assert percent(Fraction(5, 2000), 1) == "0.3%"  # 0.25 → 0.3: half up, not banker's 0.2
    assert percent(None) == "—"
    assert permyriad(Fraction(35, 1000000)) == "0.35‱"
    assert ratio(Fraction(258, 10)) == "26:1" and ratio(Fraction(50, 2)) == "25:1" and ratio(Fraction(51, 2)) == "26:1"
    assert chinese(3) == "三" and chinese(21) == "二十一" and chinese(None) == "—"
    assert change(Fraction(23, 1000)) == "上升2.3个百分点"
    assert change(-5, unit="人") == "减少5人" and change(0, unit="人") == "持平"
    assert change(None) == "—"


@given(st.integers(0, 10**6), st.integers(1, 10**6), st.integers(0, 4))
def test_percent_is_half_up(num, den, decimals):
    from decimal import ROUND_HALF_UP, Decimal, localcontext

    with localcontext() as c:
        c.prec = 60
        want = (Decimal(num) * 100 / Decimal(den)).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    got = percent(Fraction(num, den), decimals)
    assert got == ("100%" if num == den else f"{want}%")


# ---- user templates and the sandbox ------------------------------------------------------------------

def _user(tmp_path, text):
    p = tmp_path / "模板.txt.j2"
    p.write_text(text, encoding="utf-8")
    return p


def test_user_template_with_documented_names(tmp_path):
    t = _user(tmp_path, "{{ unit }}{{ period.label }}（{{ period.start }}至{{ period.end }}，{{ period.months_label }}）\n"
                        "{{ scope }} {{ office }} {{ date }} {{ date_iso }}\n"
                        "{{ m.detention_ratio.value|percent(2) }} {{ seizures }} {{ m.rehab_rate.numerator }}"
                        "/{{ m.rehab_rate.denominator }} {{ m.grid_inclusion_rate.target }} "
                        "{{ m.grid_inclusion_rate.met }} {{ m.grid_inclusion_rate.gap }} "
                        "{{ m.detention_ratio.yoy.display }} {{ m.detention_ratio.previous.display }}\n"
                        "排名第{{ 3|中文数字 }} {{ m.worker_ratio.value|比例 }} {{ 0.000035|万分比 }} "
                        "{{ m.detention_ratio|change('yoy') }} {{ m.detention_ratio|变化 }}\n"
                        "{% for x in unmet %}{{ x.name }}:{{ x.gap_text }}{% endfor %} "
                        "{% for v in villages %}{{ v.name }}={{ v.m.grid_inclusion_rate }};{% endfor %}\n\n"
                        "{{ month.m.seizures }} {{ month.period.label }}\n")
    text = render(template=t)
    assert text == ("乐平镇2018年1-10月（2018-01-01至2018-10-31，1至10月）\n"
                    "全镇 乐平镇禁毒委员会办公室 2018年11月15日 2018-11-15\n"
                    "24.49% 49 11/23 ≥95% False 2 20.00% —\n"
                    "排名第三 26:1 0.35‱ 上升4.49个百分点 上升4.49个百分点\n"
                    "纳入率:还需纳入2人 东村=100%;西村=90.0%;\n"
                    "5 2018年10月\n")


def test_workspace_template_is_used(tmp_path):
    t = _user(tmp_path, "本单位模板 {{ unit }}\n")
    ws = Workspace(root=tmp_path, unit="乐平镇", office="乐平镇禁毒办", template=t)
    assert render(workspace=ws) == "本单位模板 乐平镇\n"


@pytest.mark.parametrize("body,name,line", [
    ("第一行\n{{ unkown_var }}\n", "unkown_var", 2),
    ("a\nb\n{{ m.no_such_metric.display }}\n", "no_such_metric", 3),
    ("{{ period.lable }}", "lable", 1),
    ("{% for x in unmet %}\n{{ x.nmae }}\n{% endfor %}", "nmae", 2),
])
def test_unknown_name_fails_naming_it(tmp_path, body, name, line):
    t = _user(tmp_path, body)
    with pytest.raises(ConfigError) as ei:
        render(template=t)
    msg = str(ei.value)
    assert f"「{name}」" in msg and f"第{line}行" in msg and str(t) in msg


def test_syntax_error_and_unknown_filter(tmp_path):
    with pytest.raises(ConfigError, match="第2行"):
        render(template=_user(tmp_path, "ok\n{% if %}\n"))
    with pytest.raises(ConfigError, match="「nofilter」"):
        render(template=_user(tmp_path, "{{ 1|nofilter }}"))


SANDBOX_ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ self.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ joiner.__init__.__globals__.os.popen('id').read() }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ percent.__globals__ }}",
    "{{ m.seizures.__class__.__init__.__globals__ }}",
    "{{ m.seizures.__slots__ }}",
    "{{ m.seizures._wording() }}",
    "{{ range.__self__ }}",
    "{{ '{0.__class__}'.format(1) }}",
    "{% set x = [].append %}{{ x.__self__ }}",
    "{{ m.__class__ }}",
    "{% include '/etc/passwd' %}",
    "{% extends '../../etc/passwd' %}",
    "{% import 'os' as os %}",
    "{{ villages.__len__.__self__ }}",
    "{{ (1).__class__.__base__.__subclasses__() }}",
]


@pytest.mark.parametrize("body", SANDBOX_ESCAPES)
def test_sandbox_escapes_fail_safely(tmp_path, body):
    with pytest.raises(ConfigError) as ei:
        render(template=_user(tmp_path, body))
    assert "模板" in str(ei.value)


def test_sandbox_escape_exits_2_without_traceback(tmp_path):
    import subprocess
    import sys

    t = _user(tmp_path, "{{ cycler.__init__.__globals__.os }}")
    code = ("import sys; from jindu_metrics.cli import main; sys.argv = ['jindu', 'report', '--template', "
            f"{str(t)!r}, '--period', '2018-10', {str(tmp_path)!r}]; main()")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 2
    assert "Traceback" not in p.stderr


def test_template_file_problems(tmp_path):
    with pytest.raises(ConfigError, match="无法读取"):
        render(template=tmp_path / "missing.j2")
    p = tmp_path / "bin.j2"
    p.write_bytes(b"\xff\xfe\x00\x81\x00")
    with pytest.raises(ConfigError):
        render(template=p)


def test_long_loop_is_bounded(tmp_path):
    # the sandbox caps range() at 100000 items; output size is capped too
    with pytest.raises(ConfigError):
        render(template=_user(tmp_path, "{% for i in range(10**9) %}x{% endfor %}"))


def test_docs_example_renders(tmp_path):
    import re

    doc = (Path(__file__).resolve().parents[2] / "docs" / "templates.md").read_text(encoding="utf-8")
    example = re.search(r"```jinja\n(.*?)```", doc, re.S).group(1)
    text = render(template=_user(tmp_path, example))
    assert text.startswith("乐平镇2018年1-10月禁毒工作简报\n1至10月份，全镇查处吸毒人员49人，刑拘查处比24.49%，同比上升4.49个百分点。")
    assert "一、纳入率为94.7%，低于95%的目标，还需纳入2人。" in text


def test_a_missing_golden_fails_and_is_not_written(tmp_path, golden, monkeypatch):
    monkeypatch.delenv("JINDU_WRITE_GOLDEN", raising=False)
    with pytest.raises(AssertionError, match="missing"):
        golden(tmp_path / "none.txt", "text")
    assert not (tmp_path / "none.txt").exists()
    (tmp_path / "old.txt").write_text("old", encoding="utf-8")
    with pytest.raises(AssertionError):
        golden(tmp_path / "old.txt", "new")
