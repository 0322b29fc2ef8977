"""What a user reads: every message in Chinese, no English library text, help that fits 80 columns, and a
stated change that agrees with the values printed beside it."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import pytest
from conftest import run_cli
from hypothesis import given
from hypothesis import strategies as st

from jindu_metrics.metrics.display import change_words, format_value

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_ledgers" / "乐平镇台帐.xlsx"
# words a Chinese message may carry: the program, file kinds, and what the user typed
ALLOWED = re.compile(r"jindu|TOML|UTF-8|Excel|WPS|xlsx|docx|json|csv|--[a-z-]+|endif|endfor|elif|else|Jinja")


def english(message: str, *typed: str) -> list[str]:
    """Runs of three or more Latin letters left once the allowed words and what the user typed are removed."""
    for t in typed:
        message = message.replace(t, "")
    return re.findall(r"[A-Za-z]{3,}", ALLOWED.sub("", message))


def test_jindu_alone_shows_its_help():
    code, out, err = run_cli([])
    assert code == 0 and "用法：jindu" in out and "compute" in out and err == ""


def test_version():
    from jindu_metrics import __version__

    code, out, _ = run_cli(["--version"])
    assert code == 0 and __version__ in out and "jindu" in out


@pytest.mark.parametrize("text", ["[x\na=1\n", "a = \n", "a = 1\na = 2\n", 'a = "x\n', "a b = 1\n", "a = [1,2\n",
                                  "[t]\n[t]\n", "a = 'x' y\n", 'a = "c:\\x\\q"\n', "a = 2018-13-01\n"])
def test_a_broken_catalog_is_worded_in_chinese(tmp_path, text):
    cat = tmp_path / "cat.toml"
    cat.write_text(text, encoding="utf-8")
    code, _, err = run_cli(["compute", SAMPLE, "--catalog", cat])
    assert code == 2 and "不是有效的 TOML" in err and "第" in err
    assert english(err, str(cat)) == [], err


@pytest.mark.parametrize("text", ["{% if x %}\n", "{% endif %}\n", "{% foo %}\n", "{% if x %}{% endfor %}\n",
                                  "{% %}\n", "{{ m. }}\n", "{{ }}\n", "{{ x y }}\n", "{{ (1 }}\n", '{{ "abc }}\n',
                                  "{{ 1/0 }}\n", '{{ "a" + 1 }}\n', "{{ x | nofilter }}\n"])
def test_a_broken_template_is_worded_in_chinese(tmp_path, text):
    tpl = tmp_path / "t.j2"
    tpl.write_text(text, encoding="utf-8")
    code, _, err = run_cli(["report", SAMPLE, "--period", "2018-10", "--template", tpl])
    assert code == 2 and "第1行" in err and "模板" in err
    assert english(err, str(tpl), "nofilter", "foo") == [], err


def test_missing_config_files_say_so_in_chinese(tmp_path):
    for option in ("--catalog", "--template"):
        code, _, err = run_cli(["report", SAMPLE, "--period", "2018-10", option, tmp_path / "无此文件.toml"])
        assert code == 2 and "不存在" in err and "Errno" not in err and english(err, str(tmp_path / "无此文件.toml")) == [], err


def _help_pages() -> list[list[str]]:
    from typer.main import get_command

    from jindu_metrics.cli.commands import __name__ as _  # noqa: F401  (registers the commands)
    from jindu_metrics.cli.root import app

    group = get_command(app)
    return [[]] + [[name] for name in group.list_commands(None)]


@pytest.mark.parametrize("args", _help_pages())
def test_help_fits_an_80_column_console_and_examples_are_whole(monkeypatch, args):
    from jindu_metrics.cli.terminal import width_of

    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run_cli([*args, "-h"])
    assert code == 0
    lines = out.splitlines()
    assert all(width_of(line) <= 80 for line in lines), [line for line in lines if width_of(line) > 80]
    examples = [line.strip() for line in lines if line.strip().startswith("jindu ")]
    # an example is a whole command on one line: the next line never continues it
    for i, line in enumerate(lines):
        if line.strip().startswith("jindu ") and i + 1 < len(lines):
            assert not lines[i + 1].startswith(" " * 8), (line, lines[i + 1])
    assert args == [] or examples, "every command shows an example"


def test_help_sends_users_to_shipped_docs_not_to_a_checkout():
    for args in _help_pages():
        _, out, _ = run_cli([*args, "-h"])
        assert "docs/" not in out, args


def test_the_docs_ship_with_the_package():
    code, out, _ = run_cli(["说明"])
    assert code == 0 and "台帐格式" in out and "指标口径" in out
    for topic, words in (("台帐格式", "公民身份号码"), ("指标口径", "刑拘查处比"), ("模板", "percent")):
        code, out, _ = run_cli(["说明", topic])
        assert code == 0 and words in out, topic
        assert out.strip() == (ROOT / "docs" / {"台帐格式": "台帐格式.md", "指标口径": "指标口径.md",
                                                "模板": "templates.md"}[topic]).read_text(encoding="utf-8").strip()
    code, _, err = run_cli(["说明", "不存在的主题"])
    assert code == 2 and "可选" in err


def test_the_metrics_list_has_chinese_headings_and_no_english_ids_in_hints():
    _, out, _ = run_cli(["metrics"])
    assert "编号" in out.splitlines()[1] or "编号" in out
    code, _, err = run_cli(["explain", "送戒", SAMPLE])
    assert code == 2 and "rehab_rate" not in err and "「送戒率」" in err


@given(st.fractions(min_value=0, max_value=1), st.fractions(min_value=0, max_value=1), st.integers(0, 2))
def test_a_stated_change_is_the_difference_of_the_printed_values(now, then, decimals):
    shown_now, shown_then = format_value(now, "percent", decimals), format_value(then, "percent", decimals)
    words = change_words(now, then, "percent", decimals)
    a, b = Fraction(shown_now.rstrip("%")), Fraction(shown_then.rstrip("%"))
    if a == b:
        assert words == "持平"
    else:
        m = re.fullmatch(r"(上升|下降)([0-9.]+)个百分点", words)
        assert m, words
        assert Fraction(m.group(2)) == abs(a - b) and (m.group(1) == "上升") == (a > b)


@given(st.integers(0, 500), st.integers(0, 500))
def test_a_stated_count_change_is_the_difference_of_the_counts(now, then):
    words = change_words(Fraction(now), Fraction(then), "count", 0, "人", relative=True)
    if now == then:
        assert words == "持平"
    else:
        assert words.startswith(f"{'增加' if now > then else '减少'}{abs(now - then)}人")


def test_the_rounding_case_the_issue_names():
    # 94.4% → 94.7% was called 上升0.2个百分点 (exact values); 94.6% → 94.7% 持平
    assert change_words(Fraction(354, 374), Fraction(338, 358), "percent", 1) == "上升0.3个百分点"
    assert change_words(Fraction(354, 374), Fraction(353, 373), "percent", 1) == "上升0.1个百分点"


def test_every_compute_output_names_its_window_and_what_it_compares_with():
    _code, out, _ = run_cli(["compute", SAMPLE, "--period", "2018-10"])
    lines = out.splitlines()
    assert lines[0].startswith("统计期：2018年10月（当月发生数，存量指标为10月31日）")
    assert lines[1] == "环比：与2018年9月比；同比：与2017年10月比。"
    assert lines[2] == "通报按1至10月累计：jindu compute … --period 2018-01..2018-10"
    _, out, _ = run_cli(["compute", SAMPLE, "--period", "2018-01..2018-10"])
    assert out.startswith("统计期：2018年1-10月（累计，存量指标为10月31日）") and "通报按" not in out
    import json

    _, out, _ = run_cli(["compute", SAMPLE, "--period", "2018-Q3", "--format", "json"])
    window = json.loads(out)["window"]
    assert window["note"].startswith("统计期：2018年第三季度（累计") and window["previous"]["label"] == "2018年第二季度"
    assert window["comparisons"] == "环比：与2018年第二季度比；同比：与2017年第三季度比"
    _, out, _ = run_cli(["explain", "送戒率", SAMPLE, "--period", "2018-10", "--format", "json"])
    assert json.loads(out)["window"]["note"].startswith("统计期：2018年10月")


def test_the_report_says_its_window_is_cumulative():
    code, out, err = run_cli(["report", SAMPLE, "--period", "2018-10"])
    assert code == 0 and "2018年1-10月" in out.splitlines()[0]
    assert "通报统计期：2018年1-10月（累计" in err and "--period 2018-10" in err


def test_a_window_after_the_data_warns_with_the_last_date():
    _code, _out, err = run_cli(["compute", SAMPLE, "--period", "2019"])
    assert "在台帐最新日期（2018年" in err and "之后" in err
    _, _, err = run_cli(["compute", SAMPLE, "--period", "2018-10"])
    assert "之后" not in err


def test_one_mistyped_id_is_one_finding_naming_its_rows(tmp_path):

    from builders import PERSON_HEADER, person_rows, write_xlsx

    from jindu_metrics import load_ledgers, validate
    from jindu_metrics.ledgers.ids import make_id

    typo, other = make_id("440607", "19910101", 7), make_id("440607", "19920202", 9)
    contacts = [["日期", "公民身份号码", "方式"]] + [[f"2018-06-{d:02d}", typo, "走访"] for d in range(1, 13)] \
        + [["2018-07-01", other, "走访"]]
    path = write_xlsx(tmp_path / "台帐.xlsx", {"吸毒人员登记台帐": [PERSON_HEADER, *person_rows()],
                                               "帮教管控台帐": contacts})
    found = [f for f in validate(load_ledgers([path])) if f.code == "unknown_person"]
    assert [(f.row, f.detail) for f in found] == [
        (2, "此号码共12行：第2、3、4、5、6、7、8、9、10、11等行"), (14, "")]


def test_by_unit_notes_name_their_unit_and_unfilled_rows_are_one_line():
    _, out, _ = run_cli(["compute", SAMPLE, "--period", "2018-01..2018-10", "--by", "所属村居"])
    assert "单位：（未填）" not in out
    line = [x for x in out.splitlines() if x.startswith("未填所属村居的记录")]
    assert len(line) == 1 and "计入乐平镇合计" in line[0] and "大型宣传活动21场" in line[0]
    notes = [x for x in out.splitlines() if x.startswith("注：尿检频次达标率")]
    assert len(notes) == len(set(notes)) > 1 and all("2018年1-10月" in x for x in notes)


@pytest.mark.slow
def test_annotating_an_encrypted_ledger_says_how_and_keeps_the_copy_encrypted(tmp_path):
    import io

    import msoffcrypto
    from msoffcrypto.format.ooxml import OOXMLFile

    enc = tmp_path / "加密台帐.xlsx"
    with open(SAMPLE, "rb") as src, open(enc, "wb") as dst:
        OOXMLFile(src).encrypt("mima", dst)
    code, _, err = run_cli(["validate", enc, "--annotate"])
    assert code == 2 and "--password" in err and "JINDU_PASSWORD" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["加密台帐.xlsx"]
    code, _, err = run_cli(["validate", enc, "--password", "mima", "--annotate"])
    copy = tmp_path / "加密台帐_问题标注.xlsx"
    assert code in (0, 1) and copy.is_file()
    assert copy.read_bytes()[:4] == b"\xd0\xcf\x11\xe0"  # not a plain zip: encrypted like its input
    office = msoffcrypto.OfficeFile(io.BytesIO(copy.read_bytes()))
    office.load_key(password="mima")
    plain = io.BytesIO()
    office.decrypt(plain)
    import openpyxl

    assert openpyxl.load_workbook(plain).sheetnames[0] == "问题清单"
    _, out_a, _ = run_cli(["validate", enc, "--password", "mima", "--format", "json"])
    _, out_b, _ = run_cli(["validate", copy, "--password", "mima", "--format", "json"])
    import json

    strip = lambda d: [(f["code"], f["sheet"], f["row"]) for f in d["findings"]]  # noqa: E731
    assert strip(json.loads(out_a)) == strip(json.loads(out_b))


def test_batch_help_does_not_promise_a_default_period_it_refuses(tmp_path):
    _, out, _ = run_cli(["batch", "-h"])
    assert "默认为当年1月" not in out and "必须写" in out
    code, _, err = run_cli(["batch", SAMPLE, "--out", tmp_path / "out"])
    assert code == 2 and "--period" in err
