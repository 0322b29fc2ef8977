"""Text folding: the shortcuts taken for speed give what zhconv itself gives."""

from __future__ import annotations

import unicodedata

import zhconv
from hypothesis import given, settings
from hypothesis import strategies as st

from jindu_metrics.ledgers.textnorm import fold

# ASCII (IDs, dates, numbers as text), full-width forms, 繁体 characters and the mixed keys of zhconv's
# dictionary (16進位, A型肝炎): the ASCII shortcut must never skip a conversion zhconv would make
_CHARS = st.one_of(st.characters(max_codepoint=127), st.sampled_from(list("１６ＡＢ進位型肝炎臺帳戶號碼　 ")))


@settings(max_examples=300)
@given(st.text(_CHARS, max_size=12))
def test_fold_is_nfkc_and_zhconv(text):
    s = unicodedata.normalize("NFKC", text).strip()
    assert fold.__wrapped__(text) == (zhconv.convert(s, "zh-cn") if s else s)


def test_fold_converts_mixed_keys():
    assert fold.__wrapped__("16進位") == "16进制" and fold.__wrapped__("ＩＤ123") == "ID123"
