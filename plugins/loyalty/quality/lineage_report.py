"""The audit report's lineage section: each metric mart and everything it was built from that
night, layer by layer back to the source systems, drawn from the night's OpenLineage events
(``loyalty.quality.lineage``). Plain HTML in the report's own table style."""

from __future__ import annotations

import html
import logging
from typing import Any

from loyalty.config import Settings
from loyalty.quality import lineage

log = logging.getLogger(__name__)
COLUMNS = ("serving", "intermediate", "core", "staging", "raw (warehouse)", "raw zone", "source")


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def lineage_section(settings: Settings, batch_id: str) -> str:
    """The section's HTML; a file that cannot be read is reported, never raised."""
    try:
        return _section(settings, batch_id)
    except Exception as exc:  # the audit report is written whatever else failed
        log.warning("lineage section of night %s", batch_id, exc_info=True)
        return f"<h2 id=\"lineage\">Lineage</h2><p>The night's lineage could not be read: {_e(exc)}</p>"


def _section(settings: Settings, batch_id: str) -> str:
    path = lineage.lineage_path(settings, batch_id)
    head = "<h2 id=\"lineage\">Lineage</h2>"
    events = lineage.read_events(path)
    if not events:
        return head + f"<p>No lineage events for this night (<code>{_e(path)}</code>).</p>"
    chains = lineage.mart_chains(events, settings)
    jobs = len({(e.get("run") or {}).get("runId") for e in events})
    intro = (f"<p>From the night's OpenLineage events, <a href=\"{_e(path.as_uri())}\">{_e(path.name)}</a> "
             f"({len(events)} events, {jobs} runs): each metric mart and every dataset it was built from tonight, "
             "read from left to right upstream: serving file ← mart ← intermediate ← core (facts, dimensions) ← "
             "staging ← raw (warehouse views) ← raw zone (Parquet) ← source (shop DB tables, survey inbox, tickets "
             "API). The file's digest is in the evidence manifest.</p>")
    if not chains:
        return head + intro + "<p>No mart was built this night.</p>"
    rows = []
    for chain in chains:
        cells = [f"<td><code>{_e(lineage.short_name(chain.mart, settings))}</code></td>"]
        for column in COLUMNS:
            names = [lineage.short_name(d, settings) for d in chain.by_layer.get(column, [])]
            cells.append("<td>" + "<br>".join(f"<code>{_e(n)}</code>" for n in names) + "</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    header = "".join(f"<th>{_e(c)}</th>" for c in ("mart", *COLUMNS))
    return head + intro + f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
