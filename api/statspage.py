"""The public statistics page (`/stats`): the open data's numbers as three server-rendered SVG
charts (records anchored per month per agency, revocations by reason, batch sizes) and the
same numbers as tables, with links to the downloads.

No script and no inline style (the CSP forbids both): the charts are SVG elements whose colours
come from classes in /static/stats.css; every text from the chain (an agency's name) is escaped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from registry.opendata import ActivityRow
from registry.service.opendata import OpenDataSnapshot

__all__ = ["render_stats_page"]

MONTHS_CHARTED = 12
SERIES = 7
"""Agencies charted by name; the rest are one "other agencies" series."""

WIDTH, HEIGHT = 360, 220
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _n(value: int) -> str:
    return f"{value:,}"


def _short(value: float) -> str:
    """1,234 -> 1.2k; 1,000,000 -> 1M (axis labels)."""
    for size, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if value >= size:
            text = f"{value / size:.1f}".rstrip("0").rstrip(".")
            return text + suffix
    return f"{value:g}"


def _nice_max(value: int) -> int:
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = int(step * magnitude)
        if top >= value:
            return top
    return value


def _date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%d %b %Y %H:%M UTC")


def _agency_label(address: str, name: str) -> str:
    return name.strip() or address


# ---------------------------------------------------------------- charts


def _svg(chart_id: str, title: str, desc: str, body: list[str]) -> str:
    return (
        f'<svg class="chart-svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" preserveAspectRatio="xMidYMid meet">'
        f'<title id="{chart_id}-t">{_e(title)}</title><desc id="{chart_id}-d">{_e(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def _empty(text: str) -> list[str]:
    return [
        f'<text class="empty" x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">'
        f"{_e(text)}</text>"
    ]


def _records_chart(
    months: list[str], series: list[tuple[str, str, dict[str, int]]]
) -> tuple[str, str]:
    """Stacked bars: records anchored per month, one colour per agency; and its summary."""
    totals = {m: sum(values.get(m, 0) for _, _, values in series) for m in months}
    top = _nice_max(max(totals.values(), default=0))
    left, right, upper, lower = 44, 8, 10, 34
    plot_w, plot_h = WIDTH - left - right, HEIGHT - upper - lower
    body: list[str] = []
    for i in range(3):
        value = top * i / 2
        y = upper + plot_h - plot_h * i / 2
        body.append(
            f'<line class="grid" x1="{left}" x2="{WIDTH - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        body.append(
            f'<text class="axis" x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_short(value)}</text>"
        )
    slot = plot_w / max(len(months), 1)
    bar = min(slot * 0.7, 28)
    for i, month in enumerate(months):
        x = left + slot * i + (slot - bar) / 2
        y = upper + plot_h
        for s, (_, label, values) in enumerate(series):
            count = values.get(month, 0)
            if not count:
                continue
            h = plot_h * count / top
            y -= h
            body.append(
                f'<rect class="s{s}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}">'
                f"<title>{_e(label)}, {_e(month)}: {_n(count)} records</title></rect>"
            )
        year, number = month[:4], int(month[5:])
        cx = left + slot * (i + 0.5)
        body.append(
            f'<text class="axis" x="{cx:.1f}" y="{HEIGHT - lower + 14}" text-anchor="middle">'
            f"{MONTH_NAMES[number - 1]}</text>"
        )
        if i == 0 or number == 1:
            body.append(
                f'<text class="axis year" x="{cx:.1f}" y="{HEIGHT - lower + 27}" '
                f'text-anchor="middle">{year}</text>'
            )
    if not any(totals.values()):
        body += _empty("No records anchored yet")
    total = sum(totals.values())
    desc = (
        f"{_n(total)} records anchored in the {len(months)} months charted, from {months[0]} to "
        f"{months[-1]}."
        if months
        else "No activity yet."
    )
    return _svg("records", "Records anchored per month, by agency", desc, body), desc


def _bar_list(
    chart_id: str, title: str, items: list[tuple[str, int]], unit: str, empty: str
) -> str:
    """Horizontal bars with their labels on the left and values at their ends."""
    left, right, upper = 132, 44, 8
    rows = max(len(items), 1)
    step = (HEIGHT - upper * 2) / rows
    bar = min(step * 0.62, 22)
    top = max((n for _, n in items), default=0)
    body: list[str] = []
    for i, (label, count) in enumerate(items):
        y = upper + step * i + (step - bar) / 2
        width = (WIDTH - left - right) * count / top if top else 0
        body.append(
            f'<text class="label" x="{left - 6}" y="{y + bar / 2 + 4:.1f}" text-anchor="end">'
            f"{_e(label)}</text>"
        )
        body.append(
            f'<rect class="bar" x="{left}" y="{y:.1f}" width="{max(width, 0.5):.1f}" '
            f'height="{bar:.1f}"><title>{_e(label)}: {_n(count)} {unit}</title></rect>'
        )
        body.append(
            f'<text class="value" x="{left + width + 4:.1f}" y="{y + bar / 2 + 4:.1f}">'
            f"{_n(count)}</text>"
        )
    if not top:
        body += _empty(empty)
    desc = "; ".join(f"{label}: {_n(count)}" for label, count in items) + "."
    return _svg(chart_id, title, desc, body)


# ---------------------------------------------------------------- page


def _series(
    rows: list[ActivityRow], agencies: dict[str, str], months: list[str]
) -> list[tuple[str, str, dict[str, int]]]:
    """(key, label, records by month) per charted agency, the largest first, the rest merged."""
    per: dict[str, dict[str, int]] = {a: {} for a in agencies}
    for row in rows:
        if row.scope == "agency" and row.month in months and row.records_anchored:
            per.setdefault(row.agency, {})[row.month] = row.records_anchored
    ranked = sorted(per, key=lambda a: (-sum(per[a].values()), a))
    charted = [(a, _agency_label(a, agencies.get(a, "")), per[a]) for a in ranked[:SERIES]]
    rest = ranked[SERIES:]
    if rest:
        merged: dict[str, int] = {}
        for a in rest:
            for m, n in per[a].items():
                merged[m] = merged.get(m, 0) + n
        charted.append(("other", f"{len(rest)} other agencies", merged))
    return charted


def _legend(series: list[tuple[str, str, dict[str, int]]]) -> str:
    items = "".join(
        f'<li><span class="swatch s{i}" aria-hidden="true"></span>'
        f'<span class="legend-name" title="{_e(label)}">{_e(label)}</span></li>'
        for i, (_, label, _) in enumerate(series)
    )
    return f'<ul class="legend" aria-label="Agencies">{items}</ul>' if items else ""


def _table(
    caption: str, table_id: str, head: list[str], body: list[list[str]], *, numeric_from: int = 1
) -> str:
    th = "".join(f'<th scope="col">{_e(h)}</th>' for h in head)
    rows = []
    for cells in body:
        first, rest = cells[0], cells[1:]
        tds = "".join(
            f'<td class="num">{_e(c)}</td>' if i + 1 >= numeric_from else f"<td>{_e(c)}</td>"
            for i, c in enumerate(rest)
        )
        rows.append(f'<tr><th scope="row">{_e(first)}</th>{tds}</tr>')
    return (
        # A region the keyboard can reach: on a phone a wide table scrolls inside it.
        f'<div class="table-wrap" id="{table_id}" role="region" tabindex="0" '
        f'aria-label="{_e(caption)}"><table><caption>{_e(caption)}</caption>'
        f"<thead><tr>{th}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def render_stats_page(snapshot: OpenDataSnapshot, *, downloads: str = "/opendata") -> str:
    """The whole page for one snapshot of the open data."""
    rows = snapshot.rows
    registry_rows = [r for r in rows if r.scope == "registry"]
    all_months = [r.month for r in registry_rows]
    months = all_months[-MONTHS_CHARTED:]
    series = _series(rows, snapshot.agencies, months)
    records_svg, _ = _records_chart(months, series)
    reasons = [(reason.label, n) for reason, n in snapshot.reasons]
    reasons_svg = _bar_list(
        "reasons", "Revocations by reason", reasons, "revocations", "No revocations yet"
    )
    sizes_svg = _bar_list(
        "sizes",
        "Batches by size (records per batch)",
        snapshot.batch_sizes,
        "batches",
        "No batches yet",
    )
    info = snapshot.info
    total_records = sum(r.records_anchored for r in registry_rows)
    total_batches = sum(r.batches_anchored for r in registry_rows)
    total_revocations = sum(r.revocations for r in registry_rows)

    per_agency: dict[str, list[int]] = {}
    for r in rows:
        if r.scope == "agency":
            t = per_agency.setdefault(r.agency, [0, 0, 0, 0, 0, 0])
            for i, v in enumerate(
                (
                    r.records_anchored,
                    r.batches_anchored,
                    r.revocations,
                    r.key_rotations,
                    r.suspensions,
                    r.compromise_marks,
                )
            ):
                t[i] += v
    status = {r.agency: r.agency_status for r in rows if r.scope == "agency"}
    agencies_table = _table(
        "Agencies: totals over the whole period",
        "table-agencies",
        [
            "Agency",
            "Status",
            "Records",
            "Batches",
            "Revocations",
            "Key rotations",
            "Suspensions",
            "Compromise marks",
        ],
        [
            [_agency_label(a, snapshot.agencies.get(a, "")), status.get(a, ""), *(_n(v) for v in t)]
            for a, t in sorted(per_agency.items(), key=lambda kv: -kv[1][0])
        ],
        numeric_from=2,
    )
    by_month: dict[str, dict[str, int]] = {}
    for r in rows:
        if r.scope == "agency":
            by_month.setdefault(r.month, {})[r.agency] = r.records_anchored
    month_agencies = sorted(per_agency, key=lambda a: -per_agency[a][0])
    records_table = _table(
        "Records anchored per month and agency",
        "table-records",
        [
            "Month",
            *(_agency_label(a, snapshot.agencies.get(a, "")) for a in month_agencies),
            "All agencies",
        ],
        [
            [
                r.month,
                *(_n(by_month.get(r.month, {}).get(a, 0)) for a in month_agencies),
                _n(r.records_anchored),
            ]
            for r in reversed(registry_rows)
        ],
    )
    reasons_table = _table(
        "Revocations by reason",
        "table-reasons",
        ["Reason", "Revocations"],
        [[reason.text, _n(n)] for reason, n in snapshot.reasons],
    )
    sizes_table = _table(
        "Batches by size",
        "table-sizes",
        ["Records per batch", "Batches"],
        [[label, _n(n)] for label, n in snapshot.batch_sizes],
    )
    d = _e(downloads.rstrip("/"))
    as_of = f"block {_n(info.to_block)}, {_date(info.to_time)}" if info.to_time else "no block yet"
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Registry statistics</title>
<link rel="icon" href="/static/favicon.svg">
<link rel="stylesheet" href="/static/style.css">
<link rel="stylesheet" href="/static/stats.css">
<link rel="alternate" type="text/csv" href="{d}/activity.csv" title="Activity (CSV)">
<link rel="alternate" type="application/ld+json" href="{d}/catalog.jsonld" title="DCAT-AP catalog">
</head>
<body>
<a class="skip" href="#main">Skip to the statistics</a>
<header class="site">
  <p class="brand">Public Records Registry</p>
  <nav aria-label="Pages">
    <a href="/">Check a document</a>
    <a href="/static/audit.html">Auditors</a>
    <a href="/stats" aria-current="page">Statistics</a>
  </nav>
</header>
<main id="main" tabindex="-1" class="stats">
  <h1>Registry statistics</h1>
  <p class="lead stats-lead"><strong>{_n(total_records)}</strong> records in
    <strong>{_n(total_batches)}</strong> batches by <strong>{len(snapshot.agencies)}</strong>
    agencies; <strong>{_n(total_revocations)}</strong> revocations. As of {as_of}, from the
    chain's event log alone. <a href="#downloads">Download the data</a>.</p>
  <div class="charts">
    <figure class="chart" id="chart-records">
      <figcaption>Records anchored per month
        <span class="small">(last {len(months)} months)</span></figcaption>
      {records_svg}
      {_legend(series)}
    </figure>
    <figure class="chart" id="chart-reasons">
      <figcaption>Revocations by reason</figcaption>
      {reasons_svg}
    </figure>
    <figure class="chart" id="chart-sizes">
      <figcaption>Batch sizes <span class="small">(records per batch)</span></figcaption>
      {sizes_svg}
    </figure>
  </div>
  <section id="downloads" aria-labelledby="downloads-title">
    <h2 id="downloads-title">Download the data</h2>
    <ul class="downloads">
      <li><a href="{d}/activity.csv">activity.csv</a>
        <span class="small">one row per month and agency, RFC 4180, UTF-8</span></li>
      <li><a href="{d}/activity.json">activity.json</a>
        <span class="small">the same rows, with the columns described</span></li>
      <li><a href="{d}/catalog.jsonld">catalog.jsonld</a> and
        <a href="{d}/catalog.ttl">catalog.ttl</a>
        <span class="small">DCAT-AP 3.0.1 catalog for open-data portals</span></li>
    </ul>
    <p class="small">Licence: CC BY 4.0. Registry {_e(info.registry)} on chain
      {info.chain_id}; anyone can reproduce these files from a node with
      <code>registry opendata export</code>.</p>
  </section>
  <section aria-labelledby="numbers-title">
    <h2 id="numbers-title">The numbers</h2>
    {agencies_table}
    {records_table}
    {reasons_table}
    {sizes_table}
  </section>
</main>
<footer class="site">
  <p>Every number here is read from the registry contract's events on the chain, not from the
    operator's database.</p>
</footer>
</body>
</html>
"""
