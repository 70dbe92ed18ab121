"""The report as one self-contained HTML page (opens without a network).

plotly.js is inlined once in the page head (``plotly.offline.get_plotlyjs``,
the same script ``include_plotlyjs=True`` would inline); each figure is a
``<div>`` drawn by it. Per domain and group: agreement with CI bars
(human-human beside each judge), confusion matrices of each judge against
the human majority, reliability diagrams of continuous step scores, judge
scores against the human mean; the verdict table first.
"""

from __future__ import annotations

import html
import json
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from analysis.report import Report

__all__ = ["render_html"]

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}
th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top;font-size:.9rem}
th{background:#f3f3f3}
.yes{color:#176b2c}.no{color:#a32020}.na{color:#777}
.note{color:#555;font-size:.85rem}
.figs{display:flex;flex-wrap:wrap;gap:1rem}
"""


def _fmt(v: Any, nd: int = 3) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float | int):
        return f"{v:.{nd}f}" if isinstance(v, float) else str(v)
    return html.escape(str(v))


def _ci(ci: Any) -> str:
    if not ci:
        return ""
    return f" [{_fmt(ci[0])}, {_fmt(ci[1])}]"


def _result_cell(res: dict[str, Any] | None) -> str:
    if not res:
        return "—"
    if res.get("value") is None:
        return f"<span class='na'>undefined: {html.escape(str(res.get('reason')))}</span>"
    return (
        f"{_fmt(res['value'])}{_ci(res.get('ci'))}"
        f"<br><span class='note'>n={res['n_units']}, dropped {res['n_dropped']}</span>"
    )


def _fig_html(fig: go.Figure) -> str:
    fig.update_layout(margin={"l": 50, "r": 20, "t": 50, "b": 50}, template="plotly_white")
    return fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        config={"displaylogo": False, "displayModeBar": False},
    )


def _ci_bars(group: dict[str, Any]) -> go.Figure | None:
    names, values, lows, highs = [], [], [], []
    hh_from_gap = None
    for jd in group["judges_vs_humans"]:
        gap = jd.get("gap")
        if gap and gap.get("judge_human") is not None:
            hh_from_gap = hh_from_gap or gap
            names.append(jd["judge"])
            values.append(gap["judge_human"])
            ci = gap.get("judge_human_ci") or [gap["judge_human"]] * 2
            lows.append(gap["judge_human"] - ci[0])
            highs.append(ci[1] - gap["judge_human"])
    if hh_from_gap is None:
        return None
    ci = hh_from_gap.get("human_human_ci") or [hh_from_gap["human_human"]] * 2
    names.insert(0, "human-human")
    values.insert(0, hh_from_gap["human_human"])
    lows.insert(0, hh_from_gap["human_human"] - ci[0])
    highs.insert(0, ci[1] - hh_from_gap["human_human"])
    colors = ["#555"] + ["#1f77b4"] * (len(names) - 1)
    fig = go.Figure(
        go.Bar(
            x=names,
            y=values,
            marker_color=colors,
            error_y={"type": "data", "symmetric": False, "array": highs, "arrayminus": lows},
        )
    )
    fig.update_layout(
        title=f"mean pairwise α ({group['alpha_level']}) with CI",
        yaxis_title="Krippendorff's α",
        width=520,
        height=360,
    )
    return fig


def _confusion(jd: dict[str, Any]) -> go.Figure | None:
    conf = jd.get("confusion")
    if not conf:
        return None
    fig = go.Figure(
        go.Heatmap(
            z=conf["table"],
            x=[f"human {v}" for v in conf["labels"]],
            y=[f"judge {v}" for v in conf["labels"]],
            colorscale="Blues",
            text=conf["table"],
            texttemplate="%{text}",
            showscale=False,
        )
    )
    fig.update_layout(title=f"{jd['judge']}: judge vs human majority", width=380, height=340)
    return fig


def _calibration(jd: dict[str, Any]) -> go.Figure | None:
    cal = jd.get("calibration")
    if not cal or not cal.get("n"):
        return None
    pts = [
        (m, s, c) for m, s, c in zip(cal["mean_score"], cal["share_correct"], cal["count"], strict=True) if c
    ]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dot", "color": "#999"}, name="perfect")
    )
    fig.add_trace(
        go.Scatter(
            x=[p[0] for p in pts],
            y=[p[1] for p in pts],
            mode="lines+markers",
            text=[f"n={p[2]}" for p in pts],
            name=jd["judge"],
        )
    )
    fig.update_layout(
        title=f"{jd['judge']}: step-score calibration (ECE {_fmt(cal['ece'])})",
        xaxis_title="mean step score",
        yaxis_title="share correct (human majority)",
        width=420,
        height=360,
    )
    return fig


def _scatter(points: dict[str, list[float]] | None, judge: str) -> go.Figure | None:
    if not points or not points["human"]:
        return None
    fig = go.Figure(
        go.Scatter(
            x=points["human"],
            y=points["judge"],
            mode="markers",
            marker={"opacity": 0.5, "size": 6},
            name=judge,
        )
    )
    fig.update_layout(
        title=f"{judge}: judge score vs human mean",
        xaxis_title="human mean",
        yaxis_title="judge",
        width=420,
        height=360,
    )
    return fig


def _verdict_table(verdicts: list[dict[str, Any]]) -> str:
    if not verdicts:
        return "<p class='na'>No judge ratings.</p>"
    head = (
        "<tr><th>domain</th><th>level</th><th>criterion</th><th>judge</th>"
        "<th>α gap (judge−human vs human−human) [CI]</th><th>agreement</th>"
        "<th>alt-test passed</th><th>ω</th><th>ρ</th><th>verdict</th></tr>"
    )
    body = []
    for v in verdicts:
        cls = {True: "yes", False: "no", None: "na"}[v["alt_test_passed"]]
        body.append(
            "<tr>"
            f"<td>{_fmt(v['domain'])}</td><td>{_fmt(v['level'])}</td>"
            f"<td>{_fmt(v['criterion'] or '')}</td><td>{_fmt(v['judge'])}</td>"
            f"<td>{_fmt(v['difference'])}{_ci(v['difference_ci'])}</td>"
            f"<td>{_fmt(v['agreement'])}</td>"
            f"<td class='{cls}'>{_fmt(v['alt_test_passed'])}</td>"
            f"<td>{_fmt(v['winning_rate'])}</td><td>{_fmt(v['advantage_probability'])}</td>"
            f"<td>{_fmt(v['summary'])}</td>"
            "</tr>"
        )
    return f"<table>{head}{''.join(body)}</table>"


def _group_section(group: dict[str, Any], report: Report) -> str:
    title = group["level"] + (f" / {group['criterion']}" if group["criterion"] else "")
    parts = [f"<h3>{html.escape(title)}</h3>"]
    parts.append(
        f"<p class='note'>{group['n_units']} units in {group['n_items']} items; humans: "
        f"{html.escape(', '.join(group['humans']) or 'none')}; judges: "
        f"{html.escape(', '.join(group['judges']) or 'none')}; categories "
        f"{html.escape(json.dumps(group['categories']))}</p>"
    )
    hh = group.get("human_human")
    if hh:
        parts.append(
            "<table><tr><th>human-human</th><th>Krippendorff's α "
            f"({group['alpha_level']}) [CI]</th><th>Gwet's AC1 [CI]</th>"
            "<th>percent agreement [CI]</th></tr>"
            f"<tr><td></td><td>{_result_cell(hh['alpha'])}</td>"
            f"<td>{_result_cell(hh['gwet_ac1'])}</td>"
            f"<td>{_result_cell(hh['percent_agreement'])}</td></tr></table>"
        )
    else:
        parts.append(f"<p class='na'>Human-human: {html.escape(group['human_human_reason'])}</p>")
    rows = []
    for jd in group["judges_vs_humans"]:
        stats = "".join(
            f"<div><b>{html.escape(k)}</b>: {_result_cell(v)}</div>" for k, v in jd["statistics"].items()
        )
        note = f"<br><span class='na'>{html.escape(jd['reason'])}</span>" if jd["reason"] else ""
        rows.append(
            f"<tr><td>{html.escape(jd['judge'])}<br><span class='note'>vs "
            f"{jd['reference']}; {jd['n_reference_ties']} tied majorities left out"
            f"</span>{note}</td><td>{stats or '—'}</td></tr>"
        )
    if rows:
        parts.append(
            "<table><tr><th>judge</th><th>against the humans [CI]</th></tr>" + "".join(rows) + "</table>"
        )
    figs = []
    bars = _ci_bars(group)
    if bars is not None:
        figs.append(_fig_html(bars))
    for jd in group["judges_vs_humans"]:
        key = (group["domain"], group["level"], group["criterion"], jd["judge"])
        for fig in (
            _confusion(jd),
            _calibration(jd),
            _scatter(report.points.get(key), jd["judge"]),
        ):
            if fig is not None:
                figs.append(_fig_html(fig))
    if figs:
        parts.append("<div class='figs'>" + "".join(figs) + "</div>")
    return "".join(parts)


def render_html(report: Report) -> str:
    """Render ``report`` as a complete HTML document (a str)."""
    data = report.data
    title = data.get("title") or "Concordance report"
    s = data["settings"]
    sections = []
    for domain in data["domains"]:
        groups = [g for g in data["groups"] if g["domain"] == domain]
        sections.append(
            f"<h2>Domain: {html.escape(domain)}</h2>" + "".join(_group_section(g, report) for g in groups)
        )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style>"
        f"<script type='text/javascript'>{get_plotlyjs()}</script></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        f"<p class='note'>{data['n_ratings']} ratings. Confidence intervals: "
        f"{s['ci'] * 100:g}% percentile bootstrap, {s['n_resamples']} resamples, seed "
        f"{s['seed']}; steps resampled by item. Alternative-annotator test: ε={s['epsilon']}, "
        f"Benjamini-Yekutieli q={s['q']}. Ties (equal values) count as agreement; a tied "
        "human majority leaves the unit out; units with one rating are dropped and "
        "counted.</p>"
        "<h2>Verdicts</h2>" + _verdict_table(data["verdicts"]) + "".join(sections) + "</body></html>"
    )
