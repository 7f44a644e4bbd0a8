# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The campaign's HTML report: one self-contained page, rendered from the manifest's rows, its history and the ETA.

In order: what needs attention (the pass's failure, attempts the destination failed, mailboxes given up, exports a
check contradicted, an ETA past the deadline), the counts by status, the ETA and its basis, a chart of the progress
over time (an inline SVG, with its data as a table for readers that cannot see it) and the table of every mailbox.
Everything read from AWS or the directory is escaped; the page's script only filters and sorts the table (see
:mod:`report_page`). Plain Python: no Ansible or AWS imports.
"""

from html import escape

from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_page import CONTENT_SECURITY_POLICY
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_page import SCRIPT
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_page import STYLE
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_rows import STATUS_CONTRADICTED
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_rows import STATUS_GIVEN_UP
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_rows import STATUSES
from ansible_collections.mailops.workmail.plugins.module_utils._campaign.report_rows import count_statuses

# The attention section lists at most this many mailboxes of a kind (the table has them all).
LISTED = 25
LABELS = dict(STATUSES)
# The mailbox table's columns: (row key, heading, numeric).
TABLE_COLUMNS = (
    ("email", "Email", False),
    ("name", "Name", False),
    ("id", "Id", False),
    ("type", "Type", False),
    ("size_mb", "Size (MB)", True),
    ("status", "Status", False),
    ("attempts", "Attempts", True),
    ("job_id", "Job id", False),
    ("s3_uri", "Archive", False),
    ("object_size", "Object size (bytes)", True),
    ("encryption_key", "Encryption key", False),
    ("verification", "Verification", False),
    ("problem", "Problem", False),
    ("start_time", "Started", False),
    ("end_time", "Ended", False),
)
CHART_WIDTH = 720
CHART_HEIGHT = 260
CHART_MARGIN = 40


def text(value):
    """``value`` as escaped HTML text; empty for None."""
    return "" if value is None else escape(str(value), quote=True)


def number(value, digits=0):
    """A number with thousands separators (``digits`` decimals); empty for None."""
    if value is None:
        return ""
    return f"{value:,.{digits}f}"


def _status_link(status, words):
    return f'<a href="#status={text(status)}">{words}</a>'


def _listed(rows, kind, describe):
    """A list of at most :data:`LISTED` of ``rows`` of status ``kind``, each described by ``describe(row)``."""
    chosen = [row for row in rows if row["status"] == kind]
    items = "".join(f"<li>{describe(row)}</li>" for row in chosen[:LISTED])
    more = len(chosen) - LISTED
    tail = f"<p>And {more} more: {_status_link(kind, 'show them in the table')}.</p>" if more > 0 else ""
    return f"<ul>{items}</ul>{tail}"


def _mailbox_words(row, detail):
    who = text(row["email"] or row["id"])
    return f"<strong>{who}</strong> (<code>{text(row['id'])}</code>): {text(row[detail]) or 'no detail recorded'}"


def attention_items(rows, eta, failure):
    """The HTML blocks of what needs attention, most urgent first (none: nothing does)."""
    blocks = []
    if failure:
        blocks.append(f"<h3>The last pass failed</h3><p>{text(failure)}</p>")
    faults = [row for row in rows if row["destination_fault"]]
    if faults:
        names = ", ".join(text(row["email"] or row["id"]) for row in faults[:LISTED])
        blocks.append(
            f"<h3>Destination fault</h3><p>AWS refused the export destination (the role, the key or the bucket) "
            f"for {len(faults)} mailbox(es): {names}. Those attempts do not count; fix the destination and run the "
            "campaign again.</p>"
        )
    given_up = [row for row in rows if row["status"] == STATUS_GIVEN_UP]
    if given_up:
        listing = _listed(rows, STATUS_GIVEN_UP, lambda row: _mailbox_words(row, "problem"))
        blocks.append(f"<h3>{len(given_up)} mailbox(es) given up</h3>{listing}")
    contradicted = [row for row in rows if row["status"] == STATUS_CONTRADICTED]
    if contradicted:
        listing = _listed(rows, STATUS_CONTRADICTED, lambda row: _mailbox_words(row, "problem"))
        blocks.append(f"<h3>{len(contradicted)} verification(s) contradicted</h3>{listing}")
    if eta and eta.get("at_risk"):
        advice = "".join(f"<li>{text(item)}</li>" for item in eta.get("advice") or [])
        heading = "The deadline has passed" if eta.get("deadline_passed") else "The deadline is at risk"
        blocks.append(f"<h3>{heading}</h3><p>{text(eta.get('warning'))}</p><ul>{advice}</ul>")
    return blocks


def attention_section(rows, eta, failure):
    blocks = attention_items(rows, eta, failure)
    if not blocks:
        return (
            '<section id="attention" class="attention calm" aria-labelledby="attention-title">'
            '<h2 id="attention-title">Needs attention</h2><p>Nothing needs attention.</p></section>'
        )
    return (
        '<section id="attention" class="attention" aria-labelledby="attention-title">'
        f'<h2 id="attention-title">Needs attention</h2>{"".join(blocks)}</section>'
    )


def counts_section(rows):
    counts = count_statuses(rows)
    body = "".join(
        f'<tr id="count-{name}"><th scope="row">{_status_link(name, text(label))}</th>'
        f'<td data-count="{counts[name]}">{number(counts[name])}</td></tr>'
        for name, label in STATUSES
    )
    total_mb = sum(row["size_mb"] or 0 for row in rows)
    done_mb = sum(row["size_mb"] or 0 for row in rows if row["state"] == "COMPLETED")
    return (
        '<section id="counts" aria-labelledby="counts-title"><h2 id="counts-title">Counts</h2>'
        '<table class="counts"><caption class="meta">Mailboxes by status</caption><tbody>'
        f'{body}<tr id="count-total" class="total"><th scope="row">All mailboxes</th>'
        f'<td data-count="{len(rows)}">{number(len(rows))}</td></tr></tbody></table>'
        f'<p id="megabytes">{number(done_mb)} of {number(total_mb)} MB exported.</p></section>'
    )


def _eta_range(eta):
    if eta.get("basis") == "done":
        return (
            f"<p>The campaign is done{', the last export ended at ' + text(eta['eta']) if eta.get('eta') else ''}.</p>"
        )
    if eta.get("early") and eta.get("late") and eta.get("early") != eta.get("late"):
        middle = f", most likely {text(eta['eta'])}" if eta.get("eta") else ""
        early, late = text(eta["early"]), text(eta["late"])
        return f'<p id="eta-range">Between <strong>{early}</strong> and <strong>{late}</strong>{middle}.</p>'
    if eta.get("eta"):
        return f'<p id="eta-range">Around <strong>{text(eta["eta"])}</strong>.</p>'
    return '<p id="eta-range">No estimate yet: no export job of the campaign has completed.</p>'


def eta_section(eta):
    if not eta:
        return (
            '<section id="eta" aria-labelledby="eta-title"><h2 id="eta-title">Estimated completion</h2>'
            "<p>No estimate.</p></section>"
        )
    parts = [_eta_range(eta)]
    if eta.get("basis") != "done":  # the range says it is done; the basis would say it again
        parts.append(f"<p>{text(eta.get('basis_text'))}</p>")
    if eta.get("deadline"):
        parts.append(
            f"<p>Deadline {text(eta['deadline'])} (warned from {text(eta.get('deadline_with_margin'))}, "
            f"{text(eta.get('margin_days'))} days before).</p>"
        )
    if eta.get("at_risk"):
        parts.append(f'<p class="warning" id="eta-warning">{text(eta.get("warning"))}</p>')
    return (
        '<section id="eta" aria-labelledby="eta-title"><h2 id="eta-title">Estimated completion</h2>'
        f'{"".join(parts)}</section>'
    )


def _share(value, whole):
    return 0.0 if not whole else max(0.0, min(1.0, float(value or 0) / float(whole)))


def _marker(x, y, colour, shape):
    """A point's marker: a circle, or a square (the second series), so that two series on the same points both show."""
    if shape == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="#fff" stroke="{colour}" stroke-width="2"/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>'


def _polyline(coordinates, colour, label, shape="circle"):
    """A series: its line (dashed for the square-marked one, so that lines that coincide still show both) and a
    marker at each of its points."""
    markers = "".join(_marker(x, y, colour, shape) for x, y in coordinates)
    if len(coordinates) == 1:
        return f"<g><title>{label}</title>{markers}</g>"
    joined = " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
    dash = ' stroke-dasharray="8 5"' if shape == "square" else ""
    return (
        f'<g><title>{label}</title><polyline points="{joined}" fill="none" stroke="{colour}" stroke-width="2.5"{dash}/>'
        f"{markers}</g>"
    )


def chart_svg(points, total_mb):
    """An SVG of the shares of mailboxes and of megabytes completed over time (0 to 100 %)."""
    first, last = points[0]["t"], points[-1]["t"]
    span = max(last - first, 1)
    inner_w, inner_h = CHART_WIDTH - 2 * CHART_MARGIN, CHART_HEIGHT - 2 * CHART_MARGIN

    def place(point, share):
        return CHART_MARGIN + inner_w * (point["t"] - first) / span, CHART_MARGIN + inner_h * (1 - share)

    mailboxes = [place(point, _share(point["completed"], point["total"])) for point in points]
    megabytes = [place(point, _share(point["completed_mb"], total_mb)) for point in points]
    grid = "".join(
        f'<line x1="{CHART_MARGIN}" x2="{CHART_WIDTH - CHART_MARGIN}" y1="{CHART_MARGIN + inner_h * (1 - share):.1f}" '
        f'y2="{CHART_MARGIN + inner_h * (1 - share):.1f}" stroke="#ddd"/>'
        f'<text x="{CHART_MARGIN - 6}" y="{CHART_MARGIN + inner_h * (1 - share) + 4:.1f}" text-anchor="end" '
        f'font-size="11" fill="#555">{int(share * 100)} %</text>'
        for share in (0, 0.25, 0.5, 0.75, 1)
    )
    axis = (
        f'<text x="{CHART_MARGIN}" y="{CHART_HEIGHT - 12}" font-size="11" fill="#555">{text(points[0]["at"])}</text>'
        f'<text x="{CHART_WIDTH - CHART_MARGIN}" y="{CHART_HEIGHT - 12}" font-size="11" fill="#555" '
        f'text-anchor="end">{text(points[-1]["at"])}</text>'
    )
    summary = (
        f"From {points[0]['at']} to {points[-1]['at']}, mailboxes completed went from {points[0]['completed']} to "
        f"{points[-1]['completed']} of {points[-1]['total']}, and megabytes completed from "
        f"{points[0]['completed_mb']} to {points[-1]['completed_mb']} of {round(total_mb)}."
    )
    return (
        f'<svg class="chart" viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" role="img" '
        'aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">'
        '<title id="chart-title">Share of the campaign completed over time</title>'
        f'<desc id="chart-desc">{text(summary)}</desc>{grid}{axis}'
        f'{_polyline(mailboxes, "#1f4e9c", "mailboxes completed")}'
        f'{_polyline(megabytes, "#c25400", "megabytes completed", "square")}</svg>'
    )


def _last_share(value, whole):
    """The latest share of a series, as the legend gives it: ``40 % (4 of 10)``."""
    return f"{_share(value, whole) * 100:.0f} % ({number(value)} of {number(whole)})"


def chart_data(points):
    body = "".join(
        f'<tr><td>{text(point["at"])}</td><td class="num">{number(point["completed"])}</td>'
        f'<td class="num">{number(point["total"])}</td><td class="num">{number(point["completed_mb"])}</td>'
        f'<td class="num">{number(point["running"])}</td></tr>'
        for point in points
    )
    return (
        "<details><summary>The chart's data</summary><table><caption>Progress at each recorded pass</caption>"
        '<thead><tr><th scope="col">Time</th><th scope="col">Mailboxes completed</th><th scope="col">Mailboxes</th>'
        '<th scope="col">Megabytes completed</th><th scope="col">Jobs running</th></tr></thead>'
        f"<tbody>{body}</tbody></table></details>"
    )


def chart_section(points, rows):
    if not points:
        chart = "<p>No progress recorded yet.</p>"
    else:
        total_mb = sum(row["size_mb"] or 0 for row in rows)
        last = points[-1]
        chart = (
            f'<figure>{chart_svg(points, total_mb)}<figcaption class="legend">'
            '<span><span class="swatch mailboxes"></span>Mailboxes completed (share of all, round markers): '
            f'<span id="legend-mailboxes">{_last_share(last["completed"], last["total"])}</span></span>'
            '<span><span class="swatch megabytes"></span>Megabytes completed (share of all, square markers, dashed): '
            f'<span id="legend-megabytes">{_last_share(last["completed_mb"], total_mb)}</span></span>'
            f"</figcaption></figure>{chart_data(points)}"
        )
    return (
        '<section id="progress" aria-labelledby="progress-title"><h2 id="progress-title">Progress over time</h2>'
        f"{chart}</section>"
    )


def _cell(row, key, numeric):
    if key == "status":
        return f"<td>{text(LABELS[row['status']])}</td>"
    if key == "verification":
        value = " ".join(part for part in (row["verification_outcome"], row["verification_level"]) if part)
        return f"<td>{text(value)}</td>"
    value = row[key]
    if numeric and value is not None:
        return f'<td class="num" data-sort="{text(value)}">{number(value, 1 if isinstance(value, float) else 0)}</td>'
    if key in ("id", "job_id", "s3_uri", "encryption_key"):
        return f'<td class="mono">{text(value)}</td>'
    return f"<td>{text(value)}</td>"


def table_section(rows):
    options = "".join(f'<option value="{text(name)}">{text(label)}</option>' for name, label in STATUSES)
    heads = "".join(
        f'<th scope="col"{" class=num" if numeric else ""}>{text(heading)}</th>'
        for dummy, heading, numeric in TABLE_COLUMNS
    )
    body = "".join(
        f'<tr data-status="{text(row["status"])}">'
        + "".join(_cell(row, key, numeric) for key, dummy, numeric in TABLE_COLUMNS)
        + "</tr>"
        for row in rows
    )
    return (
        '<section id="mailboxes" aria-labelledby="mailboxes-title"><h2 id="mailboxes-title">Mailboxes</h2>'
        '<form id="controls" hidden role="search" aria-label="Filter the mailboxes">'
        '<label for="filter-text">Filter (any text of the row)<input id="filter-text" type="search"></label>'
        f'<label for="filter-status">Status<select id="filter-status"><option value="">Any</option>{options}'
        '</select></label><p id="shown" aria-live="polite"></p></form>'
        '<div class="wide"><table id="mailbox-table"><caption class="meta">Every mailbox of the campaign; the '
        "column headings sort the table.</caption>"
        f"<thead><tr>{heads}</tr></thead><tbody>{body}</tbody></table></div></section>"
    )


def render_html(manifest, rows, context):
    """The report page (UTF-8 bytes). ``rows``: :func:`report_rows.mailbox_rows`; ``context``: ``generated`` (ISO
    time), ``manifest_uri``, ``eta`` (the ETA dict or None), ``history`` (points, oldest first: dicts with ``t``,
    ``at``, ``total``, ``completed``, ``completed_mb``, ``running``) and ``failure`` (why the pass failed, or None)."""
    campaign = text(manifest["campaign"])
    head = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>Export campaign {campaign}: report</title><style>{STYLE}</style></head>"
    )
    header = (
        f"<header><h1>WorkMail export campaign <code>{campaign}</code></h1>"
        f'<p class="meta">Organization <code>{text(manifest["organization_id"])}</code> in '
        f'{text(manifest.get("region"))}; manifest <code>{text(context.get("manifest_uri"))}</code>; '
        f'report of the pass at <time id="generated">{text(context.get("generated"))}</time>.</p></header>'
    )
    main = (
        "<main>"
        + attention_section(rows, context.get("eta"), context.get("failure"))
        + counts_section(rows)
        + eta_section(context.get("eta"))
        + chart_section(context.get("history") or [], rows)
        + table_section(rows)
        + "</main>"
    )
    return (f"{head}<body>{header}{main}<script>{SCRIPT}</script></body></html>\n").encode("utf-8")
