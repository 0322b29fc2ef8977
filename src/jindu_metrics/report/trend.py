"""The main ratios month by month over the period's year (each month: flows 1月 to that month, stocks on its
last day), for the charts of the html page and the trend sheet of 汇总.xlsx: one engine pass for all months."""

from __future__ import annotations

# The ratios a bulletin leads with and the charts draw.
TREND_METRICS = ("detention_ratio", "rehab_rate", "grid_inclusion_rate", "visit_rate", "community_execution_rate")


def trend_periods(period) -> list:
    """Jan..each month end of the period's year to date (the last one ends where the period ends)."""
    from ..periods import Period, _month_end

    ytd = period.year_to_date()
    out = []
    for m in range(1, ytd.end.month + 1):
        end = _month_end(ytd.end.year, m)
        out.append(Period(ytd.start, min(end, ytd.end)))
    return out


def trend_ids(catalog) -> list[str]:
    """The main ratios the catalog holds, in TREND_METRICS order."""
    return [m for m in TREND_METRICS if any(i.id == m for i in catalog.indicators)]


def trend_values(ledgers, catalog, period, metric_ids: list[str]) -> dict[str, list]:
    """Each key rate's exact value at each month of the year to date (stock: that month's end; flow: Jan..m)."""
    from ..metrics.engine import exact_values

    if not metric_ids:
        return {}
    got = exact_values(ledgers, catalog, trend_periods(period), metrics=list(metric_ids))
    return {m: got[m] for m in metric_ids}


def main_trend(ledgers, catalog, period) -> dict:
    """{"months": ["1月", …], "values": {metric: [exact value | None per month]}} of the main ratios."""
    return {"months": [f"{p.end.month}月" for p in trend_periods(period)],
            "values": trend_values(ledgers, catalog, period, trend_ids(catalog))}
