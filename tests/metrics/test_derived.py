"""The registry of derived columns (derived.py) is the one declaration: the catalog, the engine, state.py,
explain and the docs all agree with it."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from jindu_metrics import derived, schema
from jindu_metrics.ledgers.frames import empty_frame
from jindu_metrics.metrics import catalog
from jindu_metrics.state import person_states

ROOT = Path(__file__).resolve().parents[2]


def test_the_ledger_doc_lists_the_registry():
    doc = (ROOT / "docs" / "台帐格式.md").read_text(encoding="utf-8")
    assert derived.doc_section() in doc


def test_catalog_types_come_from_the_registry():
    assert {led: {d.name: d.type for d in derived.REGISTRY if d.ledger == led}
                               for led in ("persons", "community")} == catalog.DERIVED


def test_person_state_gives_exactly_the_registry_window_columns():
    frames = {k: empty_frame(k) for k in ("persons", "seizures", "contacts")}
    got = person_states(frames["persons"], frames["seizures"], frames["contacts"], [pd.Timestamp("2018-10-31")])
    assert list(got[0]) and set(got[0]) == set(derived.of("persons", derived.WINDOW))
    for d in derived.of("persons", derived.WINDOW).values():
        want = "M" if d.type == schema.DATE else "b"
        assert got[0][d.name].dtype.kind == want, d.name


def test_every_source_is_a_column_or_a_derived_column():
    for d in derived.REGISTRY:
        cols = set(schema.KINDS[d.ledger].column_names) | set(derived.of(d.ledger))
        assert d.sources and set(d.sources) <= cols, d
        assert d.description and not re.search(r"[A-Za-z]{4,}", d.description), d  # Chinese for users


def test_the_catalog_header_documents_every_engine_column():
    text = (ROOT / "src/jindu_metrics/metrics/default_catalog.toml").read_text(encoding="utf-8")
    header = text[:text.index("\n[[indicator]]")]
    for d in derived.REGISTRY:
        if d.stage == derived.WINDOW:
            assert d.name in header, d.name


def test_person_state_is_judged_once_per_day_for_compute_and_the_checks(monkeypatch):
    """compute and the counted checks (judged_summary) of one run judge the period's last day once (state.states_of), and judge anew
    when a frame is replaced; what they get is what person_states gives."""
    import datetime as dt
    import importlib

    from jindu_metrics import state
    from jindu_metrics.ledgers import load_ledgers
    from jindu_metrics.metrics.catalog import load_catalog
    from jindu_metrics.metrics.engine import compute
    from jindu_metrics.periods import parse_period

    validate = importlib.import_module("jindu_metrics.validate")
    days: list = []
    asked: list = []
    real, kept = state.person_states, state.states_of
    monkeypatch.setattr(state, "person_states", lambda *a: (days.extend(a[3]), real(*a))[1])
    counted = lambda led, lasts: (asked.append(lasts), kept(led, lasts))[1]  # noqa: E731
    monkeypatch.setattr(state, "states_of", counted)
    monkeypatch.setattr(importlib.import_module("jindu_metrics.metrics.engine"), "states_of", counted)
    ledgers = load_ledgers([ROOT / "sample_ledgers" / "乐平镇台帐.xlsx"])
    period = parse_period("2018-10")
    compute(ledgers, load_catalog(None), period)
    validate.judged_summary(ledgers, validate.validate(ledgers, state=False), period.end)
    end = pd.Timestamp(period.end)
    assert [end] in asked and len(asked) == 2  # the checks asked too
    assert days.count(end) == 1
    mine = state.states_of(ledgers, [end])[0]
    fresh = real(ledgers["persons"], ledgers["seizures"], ledgers["contacts"], [end])[0]
    assert all(mine[k].equals(fresh[k]) for k in fresh)
    ledgers.frames["persons"] = ledgers["persons"].copy()
    state.states_of(ledgers, [end])
    assert days.count(end) == 2
    assert dt.date(2018, 10, 31) == period.end
