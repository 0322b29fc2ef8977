"""Privacy (issue 8.4): every command over the samples (canonical and messy); every 姓名 and 公民身份号码 of the
ledgers, gathered independently of the reader (openpyxl / xlrd / csv), is searched for in every output:
aggregate outputs (compute, report, batch, metrics, init) hold none; validate and explain show only masked
forms unless --show-pii, and --show-pii really shows them; stderr with --debug and log records hold none."""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # every test here shares one module fixture that runs many commands

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_ledgers" / "乐平镇台帐.xlsx"
MESSY = ROOT / "sample_ledgers" / "messy"
PERIOD = "2018-01..2018-10"
NAME_HEADERS = {"姓名"}
ID_HEADERS = {"公民身份号码", "公民身份號碼", "身份证号码", "身份證號碼", "身份证号", "证件号码"}
MASKED_ID = re.compile(r"\d{6}\*{8}\d{3}[\dX]|\d{6}\*{6}\d{3}")
PLANTED: dict = {}
LOGGED: dict = {"records": [], "level": None}  # every log record emitted while the runs fixture ran  # the planted ledger's people, filled by the runs fixture
MASKED_NAME = re.compile(r"[\u4e00-\u9fff]\*{1,3}")


def _sheets(path: Path):
    """Rows of every sheet, read without jindu's reader."""
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        for ws in wb.worksheets:
            yield [list(r) for r in ws.iter_rows(values_only=True)]
    elif path.suffix == ".xls":
        import xlrd

        book = xlrd.open_workbook(str(path))
        for sh in book.sheets():
            yield [sh.row_values(i) for i in range(sh.nrows)]
    elif path.suffix == ".csv":
        data = path.read_bytes()
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        yield list(csv.reader(io.StringIO(text)))


def _pii(paths: list[Path]) -> tuple[set[str], set[str]]:
    """(names ≥ 2 chars, ID forms: 18-char, 15-char, and each one's other generation)."""
    names, ids = set(), set()
    for p in paths:
        for rows in _sheets(p):
            for i, row in enumerate(rows[:10]):
                heads = [re.sub(r"\s", "", str(v or "")) for v in row]
                name_cols = [j for j, h in enumerate(heads) if h in NAME_HEADERS]
                id_cols = [j for j, h in enumerate(heads) if h in ID_HEADERS]
                if not (name_cols or id_cols):
                    continue
                for r in rows[i + 1:]:
                    for j in name_cols:
                        v = str(r[j] or "").strip() if j < len(r) else ""
                        if len(v) >= 2 and re.fullmatch(r"[\u4e00-\u9fff]+", v):
                            names.add(v)
                    for j in id_cols:
                        v = re.sub(r"\s", "", str(r[j] or "")).upper() if j < len(r) else ""
                        if re.fullmatch(r"\d{17}[\dX]", v):
                            ids.update({v, v[:6] + v[8:17]})
                        elif re.fullmatch(r"\d{15}", v):
                            ids.add(v)
                break
    return names, ids


def _text(path: Path) -> str:
    """A file's text for scanning; zip packages (xlsx/docx) as their XML, also with tags stripped (a name
    split across runs)."""
    data = path.read_bytes()
    if data.startswith(b"PK"):
        parts = []
        with zipfile.ZipFile(path) as zf:
            for n in zf.namelist():
                xml = zf.read(n).decode("utf-8", "replace")
                parts += [xml, re.sub(r"<[^>]+>", "", xml)]
        return "\n".join(parts)
    return data.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def pii():
    names, ids = _pii([SAMPLE, *sorted(MESSY.iterdir())])
    assert len(names) > 300 and len(ids) > 600  # the samples name hundreds of people
    assert any(len(i) == 15 for i in ids) and any(len(i) == 18 for i in ids)
    return names, ids


def _leaks(text: str, pii) -> list[str]:
    """The names and IDs of `pii` found anywhere in `text`, in their order."""
    names, ids = pii
    digits = set(re.findall(r"\d{15,18}[\dXx]?", text))
    found = []
    if digits:
        held = _pieces(text, r"[\dX]+", ids)
        found += [i for i in ids if i in held]
    held = _pieces(text, r"[\u4e00-\u9fff]+", names)
    return found + [n for n in names if n in held]


def _pieces(text: str, chars: str, wanted) -> set[str]:
    """Every substring of `text` of a length in `wanted` made only of `chars` (a character class and +):
    for a w written in those characters, `w in text` is `w in _pieces(...)`, in one pass instead of one per w."""
    assert all(re.fullmatch(chars, w) for w in wanted)
    sizes = {len(w) for w in wanted}
    return {run[k:k + n] for run in re.findall(chars, text) for n in sizes for k in range(len(run) - n + 1)}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every command over the canonical sample and the messy folder: {label: (code, stdout, stderr, [files])},
    with every log record kept (root logger at DEBUG)."""
    out = tmp_path_factory.mktemp("priv")
    res = {}

    class Keep(logging.Handler):
        def emit(self, record):
            LOGGED["records"].append(record)

    root = logging.getLogger()
    handler, old_level = Keep(logging.DEBUG), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    LOGGED["level"] = root.level
    try:
        _run_all(out, res)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    return res


def _run_all(out: Path, res: dict) -> None:
    from conftest import run_cli

    def run(label, args, files=()):
        res[label] = (*run_cli([str(a) for a in args]), [Path(f) for f in files])

    for tag, inp in (("sample", SAMPLE), ("messy", MESSY)):
        d = out / tag
        d.mkdir()
        run(f"{tag} compute table", ["--debug", "compute", "-p", PERIOD, "--by", "所属村居", inp])
        for fmt in ("csv", "xlsx", "json") if tag == "sample" else ("csv", "xlsx"):
            f = d / f"c.{fmt}"
            run(f"{tag} compute {fmt} file", ["compute", "-p", PERIOD, "--by", "所属村居", "-f", fmt, "-o", f, inp],
                [f])
        for fmt in ("txt", "md") if tag == "sample" else ("txt",):
            run(f"{tag} report {fmt}", ["--debug", "report", "-p", PERIOD, "-f", fmt, inp])
        run(f"{tag} report docx", ["report", "-p", PERIOD, "-f", "docx", "-o", d / "r.docx", inp], [d / "r.docx"])
        # sample: bulletins as docx (汇总.xlsx, summary.json and 全县通报.txt come with either format)
        inputs = [SAMPLE] if tag == "sample" else sorted(MESSY.glob("*.xlsx"))
        fmt = ["-f", "docx"] if tag == "sample" else []
        run(f"{tag} batch", ["batch", "-p", PERIOD, "-j", "1", *fmt, "-o", d / "batch", *inputs], ["<batch>", d / "batch"])
        # person-level outputs
        run(f"{tag} validate table", ["--debug", "validate", inp])
        run(f"{tag} validate json", ["validate", "-f", "json", inp])
        run(f"{tag} validate json pii", ["validate", "-f", "json", "--show-pii", inp])
        run(f"{tag} explain seizures", ["--debug", "explain", "seizures", "-p", PERIOD, inp])
        run(f"{tag} explain seizures pii", ["explain", "seizures", "-p", PERIOD, "--show-pii", inp])
        if tag == "sample":
            run(f"{tag} explain seizures json", ["explain", "seizures", "-p", PERIOD, "-f", "json", inp])
            run(f"{tag} explain newly_found", ["explain", "newly_found", "-p", PERIOD, inp])
    # a ledger whose findings point at people: a wrong check digit, and a seizure of an unregistered person
    from jindu_metrics.ledgers.ids import make_id

    planted = out / "planted"
    planted.mkdir()
    good, stray = make_id("440607", "19850312", 11), make_id("440607", "19900101", 22)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    (planted / "吸毒人员登记台帐.csv").write_text(
        "姓名,公民身份号码,所属村居,所属镇街,人员类别,初次发现日期,人员状态\n"
        f"欧阳青山,{bad},青禾村,乐平镇,本地,2018-03-01,社会面\n", "utf-8")
    (planted / "查处台帐.csv").write_text(
        f"查处日期,公民身份号码,姓名,所属村居,所属镇街,处置结果\n2018-05-02,{stray},司马白云,青禾村,乐平镇,社区戒毒\n",
        "utf-8")
    PLANTED.update(names={"欧阳青山", "司马白云"}, ids={bad, stray})
    run("planted validate table", ["validate", planted])
    run("planted validate json", ["validate", "-f", "json", planted])
    run("planted validate json pii", ["validate", "-f", "json", "--show-pii", planted])
    run("metrics", ["metrics"])
    run("init", ["init", out / "ws", "--unit", "乐平镇"], ["<batch>", out / "ws"])


def _files(entry) -> list[Path]:
    files = entry[3]
    if files and files[0] == Path("<batch>"):
        return sorted(p for p in files[1].rglob("*") if p.is_file())
    return files


AGGREGATE = ("compute", "report", "batch", "metrics", "init")


def test_commands_ran(runs):
    for label, (code, _out, err, _) in runs.items():
        assert code in (0, 1), (label, code, err)
        assert "Traceback" not in err, label
    assert len(_files(runs["sample batch"])) >= 4 and len(_files(runs["messy batch"])) >= 3
    assert any(f.suffix == ".docx" for f in _files(runs["sample batch"]))


def test_aggregate_outputs_hold_no_name_or_id(runs, pii):
    scanned = 0
    for label, entry in runs.items():
        if not set(label.split()) & set(AGGREGATE):
            continue
        _code, out, err, _ = entry
        for where, text in [("stdout", out), ("stderr", err)] + [(str(f), _text(f)) for f in _files(entry)]:
            scanned += 1
            assert not _leaks(text, pii), (label, where, _leaks(text, pii)[:5])
    assert scanned > 40


def test_validate_and_explain_mask_unless_show_pii(runs, pii):
    planted = (PLANTED["names"], PLANTED["ids"])
    for label, (_code, out, err, _) in runs.items():
        if not set(label.split()) & {"validate", "explain"}:
            continue
        leaks = _leaks(out + err, planted if label.startswith("planted") else pii)
        if label.endswith(" pii"):
            masked = runs[label[:-4]][1]
            if MASKED_ID.search(masked) or MASKED_NAME.search(masked):  # something to show
                assert leaks, f"{label}: --show-pii shows no name or ID"
        else:
            assert not leaks, (label, leaks[:5])
    # the masked forms are really there (explain lists the people counted)
    assert MASKED_ID.search(runs["sample explain seizures"][1]) and MASKED_NAME.search(runs["sample explain seizures"][1])
    for label in ("planted validate json", "planted validate table"):
        assert MASKED_ID.search(runs[label][1]), runs[label][1]
    shown = runs["planted validate json pii"][1]
    assert all(i in shown for i in planted[1]), shown
    pii_out = runs["sample explain seizures pii"][1]
    assert not MASKED_ID.search(pii_out)


def test_log_records_hold_no_pii(runs, pii):
    """Everything logged at any level (library and third-party readers) while the commands above ran."""
    records = LOGGED["records"]
    text = "\n".join(r.getMessage() for r in records)
    assert not _leaks(text, pii), _leaks(text, pii)[:5]
    assert LOGGED["level"] == logging.DEBUG
