"""Fuzzing the whole pipeline (issue 8.2): mutated ledgers → load_ledgers + validate + compute either succeed
(findings allowed) or raise a JinduError subclass; never any other exception. The CLI on mutated files exits
0/1/2 without a traceback.

Fast profile by default (a few hundred cases). The big run:
    JINDU_FUZZ_EXAMPLES=10000 python -m pytest -n 0 tests/readers/test_fuzz.py -q -s -k pipeline
prints cases, outcomes and time, and lists every distinct uncaught exception (it does not stop at the first).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
import re
import tempfile
import time
import traceback
import zipfile
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from jindu_metrics import schema
from jindu_metrics.errors import JinduError

BIG = int(os.environ.get("JINDU_FUZZ_EXAMPLES", "0"))
EXAMPLES = BIG or 60
ROWS = 20

# Values a hand-kept or hostile ledger holds where something else is expected.
ODD_TEXT = [
    "", " ", "\u200b", "\ufeff张三", "𠀀𠀁", "\u202e村乐平", "①②", "Ⅻ", "٣٤٥", "１２３", "NaN", "nan", "None", "inf",
    "-0", "1e400", "9" * 40, "=1+1", "+cmd|' /C calc'!A0", "@SUM(1,2)", "-2+3", "\tX", "\rX", "2018-02-30",
    "2018年13月", "0000-00-00", "99999999", "#N/A", "#REF!", "TRUE", "是否", "√×", "1900-01-00", "2018/1/",
    "44061519850312001X", "440607850312001", "X" * 18, "合计", "填表人：", "吸毒人员登记台帐", "姓名", "公民身份号码",
    "长" * 3000, "a,b;c\t|d", '"', '""', "\n", "\r\n", "\x00", "\x1b[31m", "<f>1</f>", "]]>", "&amp;", "𝕏",
]
HEADER_ODDITIES = ["身份證號碼", "姓 名", "所屬村居", "公民身份號碼", "序号", "", "  ", "Unnamed: 0", "人员类别(本地/外来)",
                   "初次发现日期\n(年月日)", "＃", "=A1", "姓名", "公民身份号码", "日期", "所属镇街", "所属村居"]

cell_values = st.one_of(
    st.none(),
    st.sampled_from(ODD_TEXT),
    st.text(max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-5, max_value=80000),  # plausible Excel serials and counts
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
    st.datetimes(min_value=dt.datetime(1899, 12, 1), max_value=dt.datetime(2100, 1, 1)),
    st.booleans(),
)

KIND_IDS = list(schema.KINDS)


@lru_cache(maxsize=1)
def base() -> dict[str, tuple[list, list[list]]]:
    """{kind: (header, rows)} of a small valid ledger set: the first ROWS records of the 乐平镇 sample."""
    from support import samples
    from support.workbooks import cell_text

    records = samples.leping_records()
    out = {}
    for kind_id, kind in schema.KINDS.items():
        names = kind.column_names
        out[kind_id] = (list(names), [[cell_text(r.get(n)) for n in names] for r in records[kind_id][:ROWS]])
    return out


@lru_cache(maxsize=1)
def base_xlsx() -> bytes:
    """The canonical workbook of base() as bytes (for in-memory XML mutation)."""
    from support import samples
    from support.workbooks import write_canonical

    records = {k: v[:ROWS] for k, v in samples.leping_records().items()}
    with tempfile.TemporaryDirectory() as d:
        p = write_canonical(records, Path(d) / "x.xlsx")
        return p.read_bytes()


@lru_cache(maxsize=1)
def catalog():
    from jindu_metrics.metrics.catalog import load_catalog

    return load_catalog()


# ------------------------------------------------------------------------------------------- mutations
op = st.one_of(
    st.tuples(st.just("cell"), st.sampled_from(KIND_IDS), st.integers(0, ROWS), st.integers(0, 30), cell_values),
    st.tuples(st.just("column"), st.sampled_from(KIND_IDS), st.integers(0, 30), cell_values),  # whole column
    st.tuples(st.just("hdel"), st.sampled_from(KIND_IDS), st.integers(0, 30)),
    st.tuples(st.just("hren"), st.sampled_from(KIND_IDS), st.integers(0, 30),
              st.one_of(st.sampled_from(HEADER_ODDITIES), st.text(max_size=12))),
    st.tuples(st.just("hdup"), st.sampled_from(KIND_IDS), st.integers(0, 30), st.integers(0, 30)),
    st.tuples(st.just("hant"), st.sampled_from(KIND_IDS)),  # the whole header in 繁体
    st.tuples(st.just("rdup"), st.sampled_from(KIND_IDS), st.integers(0, ROWS)),
    st.tuples(st.just("rcut"), st.sampled_from(KIND_IDS), st.integers(0, ROWS), st.integers(0, 30)),  # ragged row
    st.tuples(st.just("above"), st.sampled_from(KIND_IDS), st.lists(cell_values, max_size=5)),  # title row
    st.tuples(st.just("drop"), st.sampled_from(KIND_IDS)),  # a whole ledger missing
)


def mutate(ops) -> dict[str, tuple[list, list[list]]]:
    import zhconv

    data = {k: (list(h), [list(r) for r in rows]) for k, (h, rows) in base().items()}
    for o in ops:
        kind = o[1]
        if kind not in data:
            continue
        header, rows = data[kind]
        name = o[0]
        if name == "cell" and rows:
            row = rows[o[2] % len(rows)]
            if row:
                row[o[3] % len(row)] = o[4]
        elif name == "column" and header:
            j = o[2] % len(header)
            for row in rows:
                if j < len(row):
                    row[j] = o[3]
        elif name == "hdel" and header:
            j = o[2] % len(header)
            del header[j]
            for row in rows:
                if j < len(row):
                    del row[j]
        elif name == "hren" and header:
            header[o[2] % len(header)] = o[3]
        elif name == "hdup" and header:
            header[o[3] % len(header)] = header[o[2] % len(header)]
        elif name == "hant":
            header[:] = [zhconv.convert(h, "zh-hant") if isinstance(h, str) else h for h in header]
        elif name == "rdup" and rows:
            rows.append(list(rows[o[2] % len(rows)]))
        elif name == "rcut" and rows:
            row = rows[o[2] % len(rows)]
            del row[o[3] % (len(row) + 1):]
        elif name == "above":
            rows.insert(0, header[:])
            header[:] = o[2]
        elif name == "drop":
            del data[kind]
    return data


def csv_text(header: list, rows: list[list]) -> str:
    def s(v):
        if v is None:
            return ""
        if isinstance(v, (dt.date, dt.datetime)):
            return v.isoformat()
        return str(v)

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([s(v) for v in header])
    for r in rows:
        w.writerow([s(v) for v in r])
    return buf.getvalue()


ENCODINGS = ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "utf-16-le", "latin-1", "big5", "mojibake"]


def encode(text: str, enc: str) -> bytes:
    if enc == "mojibake":  # UTF-8 bytes read once as latin-1 and saved again as UTF-8
        return text.encode("utf-8", "surrogatepass").decode("latin-1").encode("utf-8")
    return text.encode(enc, errors="replace")


def xlsx_bytes(data) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def clean(v):
        # Values openpyxl itself refuses to write are written as the text a user would have typed.
        if isinstance(v, str):
            return ILLEGAL_CHARACTERS_RE.sub("", v)[:32767]
        if isinstance(v, float) and not math.isfinite(v):
            return str(v)
        if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 2**63:
            return str(v)
        if isinstance(v, (dt.date, dt.datetime)) and v.year < 1900:
            return v.isoformat()
        return v

    wb = Workbook()
    wb.remove(wb.active)
    for kind, (header, rows) in data.items():
        ws = wb.create_sheet(schema.KINDS[kind].name)
        ws.append([clean(v) for v in header])
        for r in rows:
            ws.append([clean(v) for v in r])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def corrupt(data: bytes, how: tuple) -> bytes:
    kind, a, b = how
    if not data:
        return data
    if kind == "truncate":
        return data[: int(len(data) * a)]
    if kind == "flip":
        i = int((len(data) - 1) * a)
        return data[:i] + bytes([data[i] ^ (b or 1)]) + data[i + 1:]
    return data


def edit_xml(body: bytes, edit: str) -> bytes:
    """A textual edit of a package part: a huge declared dimension, or odd text injected into a value."""
    if edit == "dimension":
        huge = b'<dimension ref="A1:XFD1048576"/>'
        if b"<dimension" in body:
            return re.sub(rb'<dimension ref="[^"]*"/>', huge, body, count=1)
        return body.replace(b"<sheetViews>", huge + b"<sheetViews>", 1)
    raw = edit.encode("utf-8", "surrogatepass")
    for tag in (b"<t>", b"<v>", b"<c "):
        if tag in body:
            return body.replace(tag, tag + raw, 1)
    return body[: len(body) // 2] + raw + body[len(body) // 2:]


def mutate_zip_member(data: bytes, member_pick: float, how: tuple, xml_edit: str | None) -> bytes:
    """Rewrite one member of an xlsx package: a textual edit of its XML, or truncated / flipped bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    infos = src.infolist()
    target = infos[int((len(infos) - 1) * member_pick)].filename
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in infos:
            body = src.read(info.filename)
            if info.filename == target:
                body = edit_xml(body, xml_edit) if xml_edit is not None else corrupt(body, how)
            dst.writestr(info, body)
    return out.getvalue()


byte_damage = st.one_of(
    st.just(("none", 0.0, 0)),
    st.tuples(st.just("truncate"), st.floats(0, 1), st.just(0)),
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(0, 255)),
)

case = st.fixed_dictionaries({
    "container": st.sampled_from(["csv", "csv", "csv", "xlsx", "xlsx_member", "xlsx_whole"]),
    "ops": st.lists(op, max_size=6),
    "encoding": st.sampled_from(ENCODINGS),
    "damage": st.one_of(st.just(("none", 0.0, 0)), st.just(("none", 0.0, 0)), byte_damage),
    "member": st.floats(0, 1),
    "xml_edit": st.one_of(st.none(), st.sampled_from(["dimension", "&", "<x>", "\U0001d54f", "1e999", "-1",
                                                      "]]>", "\x01"]), st.text(max_size=8)),
    "suffix": st.sampled_from([".csv", ".csv", ".txt", ".xlsx", ".xls"]),
    "unit": st.one_of(st.none(), st.just("乐平镇")),
    "by": st.sampled_from([None, "所属村居", "所属镇街"]),
    "compare": st.booleans(),
    "period": st.sampled_from([None, "2018-01..2018-10", "2018-10", "2018-Q3"]),
})


def write_case(c: dict, folder: Path) -> list[Path]:
    """Materialise a case as files in `folder`; returns the input paths."""
    container = c["container"]
    if container == "csv":
        paths = []
        for kind, (header, rows) in mutate(c["ops"]).items():
            raw = corrupt(encode(csv_text(header, rows), c["encoding"]), c["damage"])
            suffix = c["suffix"] if kind == "persons" else ".csv"
            p = folder / f"{schema.KINDS[kind].name}{suffix}"
            p.write_bytes(raw)
            paths.append(p)
        return [folder] if paths else []
    if container == "xlsx":
        raw = corrupt(xlsx_bytes(mutate(c["ops"])), c["damage"])
    elif container == "xlsx_member":
        raw = mutate_zip_member(base_xlsx(), c["member"], c["damage"], c["xml_edit"])
    else:
        raw = corrupt(base_xlsx(), c["damage"] if c["damage"][0] != "none" else ("flip", c["member"], 0x55))
    p = folder / "台帐.xlsx"
    p.write_bytes(raw)
    return [p]


def run_pipeline(c: dict, folder: Path) -> str:
    """load + validate + compute (+ the JSON/CSV shapes); returns 'ok' or 'error' (a JinduError)."""
    from jindu_metrics.ledgers import load_ledgers
    from jindu_metrics.metrics.engine import compute
    from jindu_metrics.outputs.compute import compute_csv
    from jindu_metrics.periods import default_period, parse_period
    from jindu_metrics.validate import validate

    paths = write_case(c, folder)
    try:
        if not paths:
            return "empty"
        ledgers = load_ledgers(paths, unit=c["unit"])
        for f in validate(ledgers):
            f.to_dict()
            f.to_dict(show_pii=True)
        period = parse_period(c["period"]) if c["period"] else default_period(ledgers)
        result = compute(ledgers, catalog(), period, by=c["by"], compare=c["compare"])
        result.to_dict()
        compute_csv(result)
        return "ok"
    except JinduError as exc:
        str(exc)
        return "error"


def _where(exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "jindu_metrics" in f.filename] or \
        traceback.extract_tb(exc.__traceback__)[-1:]
    f = frames[-1]
    return f"{type(exc).__name__} at {Path(f.filename).name}:{f.lineno} ({f.name})"


@pytest.mark.slow
def test_pipeline_never_raises_anything_but_jindu_errors():
    stats: dict[str, int] = {"ok": 0, "error": 0, "empty": 0}
    failures: dict[str, tuple[str, dict]] = {}

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not BIG,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case)
    def one(c):
        with tempfile.TemporaryDirectory() as d:
            try:
                stats[run_pipeline(c, Path(d))] += 1
            except Exception as exc:  # noqa: BLE001 - the property: collect every distinct one
                key = _where(exc)
                stats["uncaught"] = stats.get("uncaught", 0) + 1
                if key not in failures:
                    failures[key] = ("".join(traceback.format_exception(exc))[-3000:], c)

    t = time.time()
    one()
    elapsed = time.time() - t
    total = sum(stats.values())
    print(f"\nfuzz: {total} cases in {elapsed:.1f} s; outcomes {stats}; distinct uncaught: {len(failures)}")
    for key, (tb, c) in failures.items():
        print("=" * 80, "\n", key, "\n", {k: (v if k != "ops" else v[:6]) for k, v in c.items()}, "\n", tb)
    assert total >= min(EXAMPLES, 100)
    assert not failures, "\n".join(failures)
    assert stats["ok"] > 0 and stats["error"] > 0  # both paths exercised


# ------------------------------------------------------------------------------------------- the CLI
@settings(max_examples=8 if not BIG else 200, deadline=None, database=None, derandomize=not BIG,
          suppress_health_check=list(HealthCheck))
@given(case, st.sampled_from(["validate-json", "validate", "compute-csv", "compute-json", "report", "explain"]))
def test_cli_on_mutated_files_exits_0_1_2_without_traceback(jindu, c, command):
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "in"
        folder.mkdir()
        paths = [str(p) for p in write_case(c, folder)] or [str(folder)]
        period = ["--period", c["period"]] if c["period"] else []
        args = {
            "validate-json": ["validate", "--format", "json", *paths],
            "validate": ["validate", *paths],
            "compute-csv": ["compute", *period, "--by", "所属村居", "--format", "csv", "-o", f"{d}/o.csv", *paths],
            "compute-json": ["compute", *period, "--format", "json", *paths],
            "report": ["report", *period, *paths],
            "explain": ["explain", "newly_found", *period, *paths],
        }[command]
        code, out, err = jindu(args)
    assert code in (0, 1, 2), (args, code, err)
    assert "Traceback" not in err and "Traceback" not in out
    assert "内部错误" not in err, err  # an unexpected exception reached the boundary
    if code == 2:
        assert err.strip(), "exit 2 needs a message"


def test_fuzz_inputs_really_mutate(tmp_path):
    """The generator is not a no-op: a header deletion and a 繁体 header reach the files."""
    c = {"container": "csv", "ops": [("hdel", "persons", 0), ("hant", "seizures")], "encoding": "utf-8",
         "damage": ("none", 0.0, 0), "member": 0.0, "xml_edit": None, "suffix": ".csv", "unit": None,
         "by": None, "compare": False, "period": None}
    (folder,) = write_case(c, tmp_path)
    assert (folder / "吸毒人员登记台帐.csv").read_text("utf-8").splitlines()[0].startswith("公民身份号码,")
    assert "公民身份號碼" in (folder / "查处台帐.csv").read_text("utf-8").splitlines()[0]
    big = zipfile.ZipFile(io.BytesIO(mutate_zip_member(base_xlsx(), 3 / 13, ("none", 0.0, 0), "dimension")))
    assert b'ref="A1:XFD1048576"' in big.read("xl/worksheets/sheet1.xml")


@pytest.mark.parametrize("container,value", [("xlsx", dt.date(7225, 4, 25)), ("xlsx", dt.date(1000, 1, 1)),
                                             ("csv", "9999-12-31"), ("csv", "0001-01-01"), ("csv", 2958465)])
def test_dates_beyond_pandas_range_are_findings(tmp_path, container, value):
    """Found by the fuzz run: a year beyond 2262 raised OutOfBoundsDatetime from frames.coerce."""
    c = {"container": container, "ops": [("cell", "persons", 0, 6, value), ("cell", "contacts", 3, 0, value)],
         "encoding": "utf-8", "damage": ("none", 0.0, 0), "member": 0.0, "xml_edit": None, "suffix": ".csv",
         "unit": None, "by": "所属村居", "compare": True, "period": "2018-01..2018-10"}
    (tmp_path / "a").mkdir()
    assert run_pipeline(c, tmp_path / "a") == "ok"
    from jindu_metrics.ledgers import load_ledgers

    codes = {f.code for f in load_ledgers(write_case(c, tmp_path)).findings}
    assert codes & {"date_out_of_range", "unreadable_date"}
