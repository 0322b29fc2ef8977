"""The engine's preparation skips refilling from persons what the reader filled already (link.FILLED): the
frames it gives are those of the full pass, with or without a unit, on the samples and the messy ledgers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from builders import ID_A, ID_B, ID_C, PERSON_HEADER, write_xlsx

from jindu_metrics.ledgers import load_ledgers
from jindu_metrics.ledgers.ids import make_id
from jindu_metrics.ledgers.link import FILLED, FILLED_KINDS
from jindu_metrics.metrics import engine

SAMPLES = Path(__file__).resolve().parents[2] / "sample_ledgers"


def _full_pass(ledgers):
    """_normalise as if the reader had not filled the frames (the marker gone: FILLED read as False)."""
    ledgers.cache.pop(FILLED, None)
    ledgers.cache.pop(f"normalised {ledgers.unit}", None)
    return engine._normalise(ledgers)


def _gaps(folder: Path) -> Path:
    """Two towns; persons and other ledgers with empty 姓名/所属村居/所属镇街, some of which the person fills,
    some the person lacks too, a row of someone not in persons, and a ledger without 所属镇街."""
    d, other = dt.datetime(2018, 5, 1), make_id("440607", "19910101", 7)
    return write_xlsx(folder / "gaps.xlsx", {
        "吸毒人员登记台帐": [PERSON_HEADER,
                      ["张三", ID_A, "乐平村", "乐平镇", "本地", d, "社会面", "是"],
                      ["李四", ID_B, None, "南边镇", "外来", d, "社会面", "否"],
                      ["王五", ID_C, "乐平村", None, "本地", d, "社会面", "是"]],
        "查处台帐": [["查处日期", "公民身份号码", "姓名", "所属村居", "所属镇街", "处置结果"],
                 [d, ID_A, None, None, None, "强戒"], [d, ID_B, "李四", None, None, "强戒"],
                 [d, ID_C, None, None, None, "强戒"], [d, other, None, None, None, "强戒"]],
        "社区戒毒社区康复台帐": [["公民身份号码", "类别", "决定日期", "所属镇街"],
                       [ID_B, "社区戒毒", d, None], [ID_C, "社区康复", d, None], [ID_A, "社区戒毒", d, "乐平镇"]],
        "帮教管控台帐": [["日期", "公民身份号码", "方式", "所属村居"],
                   [d, ID_A, "走访", None], [d, ID_B, "尿检", None], [d, other, "走访", None]],
    })


@pytest.mark.parametrize("source", ["乐平镇台帐.xlsx", "messy", "gaps"])
@pytest.mark.parametrize("unit", [None, "乐平镇", "某镇"])
def test_normalise_after_the_reader_equals_the_full_pass(source, unit, tmp_path):
    ledgers = load_ledgers([_gaps(tmp_path) if source == "gaps" else SAMPLES / source], unit)
    ledgers.unit = unit or ledgers.unit
    assert ledgers.kept(FILLED, FILLED_KINDS, lambda: False) is True  # the skip is taken
    skipped = engine._normalise(ledgers)
    full = _full_pass(ledgers)
    for kind, df in full.items():
        assert list(skipped[kind].columns) == list(df.columns), kind
        assert skipped[kind].equals(df), kind


def test_a_replaced_frame_is_filled_again():
    ledgers = load_ledgers([SAMPLES / "messy"])
    ledgers.frames["contacts"] = ledgers.frames["contacts"].copy()
    assert ledgers.kept(FILLED, FILLED_KINDS, lambda: False) is False
