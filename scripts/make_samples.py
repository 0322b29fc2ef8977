"""Write sample_ledgers/ deterministically: running it twice gives byte-identical files.

    python scripts/make_samples.py [OUT_DIR]      (default: sample_ledgers/ beside this script's repo)

- 乐平镇台帐.xlsx: canonical workbook holding the situation of the 乐平镇 2018年1-10月 bulletin.
- messy/: the same data as offices really keep it — a hand-kept xlsx (title rows, merged two-row header,
  aliases, 繁体, text dates, flag variants, 合计 and 填表人 rows), the seizures as an old BIFF8 .xls (xlwt,
  needed only by this script) and the contacts as a GBK-encoded CSV.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]  # the generators live with the tests (tests/support)

from support import samples  # noqa: E402
from support.workbooks import MESSY_SHEETS, messy_rows, write_canonical, write_messy_xlsx  # noqa: E402

from jindu_metrics import schema  # noqa: E402
from jindu_metrics.outputs import atomic_write_bytes  # noqa: E402

CANONICAL = "乐平镇台帐.xlsx"
MESSY_BOOK = "乐平镇禁毒台账（2018年10月）.xlsx"
MESSY_XLS = "查处台账.xls"
MESSY_CSV = "帮教管控台账.csv"


def write_xls(headers: list[str], rows: list[list], path: Path, title: str) -> None:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet(MESSY_SHEETS["seizures"])
    date_style = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    text_style = xlwt.easyxf(num_format_str="@")
    ws.write_merge(0, 0, 0, len(headers) - 1, title, xlwt.easyxf("font: bold on, height 320; align: horiz centre"))
    for j, h in enumerate(headers):
        ws.write(2, j, h)
        ws.col(j).width = 256 * (22 if "身份" in h else 12)
    for i, row in enumerate(rows, start=3):
        for j, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, dt.date):
                ws.write(i, j, v, date_style)
            elif headers[j] == "身份证号":
                ws.write(i, j, v, text_style)
            else:
                ws.write(i, j, v)
    end = 3 + len(rows)
    ws.write(end, 0, "合计")
    ws.write(end, 1, f"{len(rows)}人次")
    ws.write(end + 1, 0, "填表人：派出所禁毒民警")
    buf = io.BytesIO()
    wb.save(buf)
    atomic_write_bytes(path, buf.getvalue())


def write_gbk_csv(headers: list[str], rows: list[list], path: Path) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(headers)
    for row in rows:
        w.writerow(["" if v is None else (v.isoformat() if isinstance(v, dt.date) else v) for v in row])
    atomic_write_bytes(path, buf.getvalue().encode("gbk"))


def main(out: Path) -> None:
    sample = samples.leping_sample()
    rec = sample.records
    write_canonical(rec, out / CANONICAL)
    messy = out / "messy"
    rng = random.Random(samples.SEED + 1)
    book = {k: v for k, v in rec.items() if k not in ("seizures", "contacts")}
    write_messy_xlsx(book, messy / MESSY_BOOK, rng, unit=samples.UNIT, as_of="2018年12月31日", id15=sample.id15)
    headers, rows = messy_rows("seizures", rec["seizures"], rng, sample.id15)
    write_xls(headers, rows, messy / MESSY_XLS, f"{samples.UNIT}查处吸毒人员台账")
    # CSV exports carry only text: every date becomes text in one of the typed forms.
    headers, rows = messy_rows("contacts", rec["contacts"], rng, sample.id15, text_dates=1.0)
    write_gbk_csv(headers, rows, messy / MESSY_CSV)
    assert set(rec) == set(schema.KINDS)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "sample_ledgers")
