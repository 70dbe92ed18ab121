"""The report as one self-contained HTML page: the answer first, the evidence folded below.

No script and no network: every figure is inline SVG drawn here (a forest plot
of the gaps, the alternative-annotator test's winning rate over epsilon,
reliability diagrams, judge-vs-human histograms), tables are plain HTML, and
the long per-group tables sit in ``<details>``. The first screen is the
overview: per domain the human reliability, then the judge x criterion matrix
of verdicts (coloured by verdict, the gap and its CI in each cell, grey where
the reliability gate withholds one), then the forest plot.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

from analysis.report import Report

__all__ = ["VERDICT_CLASS", "render_html"]

_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5rem auto;max-width:1250px;color:#222;padding:0 1rem}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.2rem;margin-top:1.6rem}h3{font-size:1rem}
table{border-collapse:collapse;margin:.4rem 0 1rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top;font-size:.85rem}
th{background:#f3f3f3}
.note{color:#555;font-size:.82rem}.na{color:#777}
.v-better{background:#1b7837;color:#fff}.v-same{background:#a6dba0}.v-worse{background:#d6604d;color:#fff}
.v-withheld{background:#d9d9d9;color:#444}.v-none{background:#f7f7f7;color:#777}
.ok{color:#176b2c;font-weight:600}.bad{color:#a32020;font-weight:600}
.matrix td{min-width:7.5rem;text-align:center}
.legend span{display:inline-block;padding:.1rem .5rem;margin-right:.3rem;font-size:.8rem}
details{margin:.5rem 0 1rem}summary{cursor:pointer;font-weight:600}
.figs{display:flex;flex-wrap:wrap;gap:.8rem}
svg{font-family:system-ui,sans-serif;font-size:10px}
"""

VERDICT_CLASS = {
    "better than people": "v-better",
    "as good as people": "v-same",
    "worse than people": "v-worse",
}


def _e(v: Any) -> str:
    return html.escape(str(v))


def _f(v: Any, nd: int = 3) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return _e(v)


def _ci(ci: Any) -> str:
    return f" [{_f(ci[0], 2)}, {_f(ci[1], 2)}]" if ci else ""


def _result(res: dict[str, Any] | None) -> str:
    if not res:
        return "—"
    if res.get("value") is None:
        return f"<span class='na'>undefined: {_e(res.get('reason'))}</span>"
    return f"{_f(res['value'])}{_ci(res.get('ci'))} <span class='note'>n={res['n_units']}</span>"


def _column(group: dict[str, Any]) -> str:
    return group["level"] + (f" / {group['criterion']}" if group["criterion"] else "")


def verdict_class(verdict: dict[str, Any]) -> str:
    """The matrix cell's class: the verdict's colour, grey where the gate withholds it."""
    if (
        verdict["agreement"] is None
        and not verdict["reliable_reference"]
        and verdict["human_alpha"] is not None
    ):
        return "v-withheld"
    return VERDICT_CLASS.get(verdict["agreement"] or "", "v-none")


# --- SVG -------------------------------------------------------------------------------


def _svg(width: int, height: int, body: str, label: str) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' aria-label='{_e(label)}'>{body}</svg>"
    )


def _forest(rows: Sequence[tuple[str, dict[str, Any]]], title: str) -> str:
    """Gap (judge-human minus human-human alpha) with its CI, one row per (judge, criterion)."""
    pts = [(name, v) for name, v in rows if v.get("difference") is not None or v.get("_gap")]
    if not pts:
        return ""
    values = []
    for _, v in pts:
        gap = v["_gap"]
        values += [gap["difference"], *(gap.get("difference_ci") or [])]
    lo, hi = min(min(values), -0.05), max(max(values), 0.05)
    left, width, row = 230, 360, 15
    height = 34 + row * len(pts)

    def x(val: float) -> float:
        return left + (val - lo) / (hi - lo) * width

    parts = [f"<text x='4' y='12' font-weight='600'>{_e(title)}</text>"]
    parts.append(f"<line x1='{x(0):.1f}' y1='18' x2='{x(0):.1f}' y2='{height - 12}' stroke='#333'/>")
    for tick in (lo, 0.0, hi):
        parts.append(f"<text x='{x(tick):.1f}' y='{height - 2}' text-anchor='middle'>{tick:.2f}</text>")
    for i, (name, v) in enumerate(pts):
        gap = v["_gap"]
        y = 26 + i * row
        colour = {"v-better": "#1b7837", "v-same": "#5aae61", "v-worse": "#b2182b"}.get(v["_class"], "#999")
        parts.append(f"<text x='{left - 6}' y='{y + 4}' text-anchor='end'>{_e(name)}</text>")
        ci = gap.get("difference_ci")
        if ci:
            parts.append(
                f"<line x1='{x(ci[0]):.1f}' y1='{y}' x2='{x(ci[1]):.1f}' y2='{y}'"
                f" stroke='{colour}' stroke-width='2'/>"
            )
        parts.append(f"<circle cx='{x(gap['difference']):.1f}' cy='{y}' r='3.5' fill='{colour}'/>")
    return _svg(left + width + 30, height, "".join(parts), title)


def _grid_plot(series: dict[str, list[tuple[float, float]]], title: str, x_label: str, y_label: str) -> str:
    """Lines of (x, y) in [0, x_max] x [0, 1]: the winning rate over epsilon."""
    if not series:
        return ""
    width, height, left, top = 300, 180, 34, 18
    xs = [p[0] for pts in series.values() for p in pts] or [0.0, 1.0]
    x_max = max(xs) or 1.0

    def px(v: float) -> float:
        return left + v / x_max * (width - left - 10)

    def py(v: float) -> float:
        return top + (1 - v) * (height - top - 28)

    parts = [f"<text x='4' y='12' font-weight='600'>{_e(title)}</text>"]
    parts.append(
        f"<line x1='{left}' y1='{py(0.5):.1f}' x2='{width - 10}' y2='{py(0.5):.1f}' stroke='#bbb'"
        " stroke-dasharray='3'/>"
    )
    parts.append(
        f"<rect x='{left}' y='{top}' width='{width - left - 10}' height='{height - top - 28}'"
        " fill='none' stroke='#999'/>"
    )
    for v in (0.0, 0.5, 1.0):
        parts.append(f"<text x='{left - 4}' y='{py(v) + 3:.1f}' text-anchor='end'>{v:g}</text>")
    for v in sorted(set(xs)):
        parts.append(f"<text x='{px(v):.1f}' y='{height - 16}' text-anchor='middle'>{v:g}</text>")
    parts.append(
        f"<text x='{(left + width) / 2:.0f}' y='{height - 3}' text-anchor='middle'>{_e(x_label)}</text>"
    )
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
    for i, (name, pts) in enumerate(sorted(series.items())):
        colour = palette[i % len(palette)]
        path = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in pts)
        parts.append(
            f"<polyline points='{path}' fill='none' stroke='{colour}' stroke-width='1.3'>"
            f"<title>{_e(name)}</title></polyline>"
        )
    return _svg(width, height, "".join(parts), f"{title}: {y_label}")


def _calibration(cal: dict[str, Any] | None, judge: str) -> str:
    if not cal or not cal.get("n"):
        return ""
    pts = [(m, s) for m, s, c in zip(cal["mean_score"], cal["share_correct"], cal["count"], strict=True) if c]
    series = {judge: [(float(m), float(s)) for m, s in pts]}
    svg = _grid_plot(
        series, f"{judge}: calibration (ECE {_f(cal['ece'])})", "mean step score", "share correct"
    )
    return svg


def _histogram(points: dict[str, list[float]] | None, judge: str) -> str:
    """Judge score against the human mean as a 2-D histogram (at most 10 x 10 cells)."""
    if not points or not points["human"]:
        return ""
    hx, jy = points["human"], points["judge"]
    x0, x1, y0, y1 = min(hx), max(hx), min(jy), max(jy)
    bins = 10
    counts: dict[tuple[int, int], int] = {}
    for a, b in zip(hx, jy, strict=True):
        i = min(bins - 1, int((a - x0) / ((x1 - x0) or 1) * bins))
        j = min(bins - 1, int((b - y0) / ((y1 - y0) or 1) * bins))
        counts[(i, j)] = counts.get((i, j), 0) + 1
    top = max(counts.values())
    size, left = 16, 36
    parts = [f"<text x='4' y='11' font-weight='600'>{_e(judge)}: judge vs human mean (n={len(hx)})</text>"]
    for (i, j), c in counts.items():
        shade = 0.15 + 0.85 * math.sqrt(c / top)
        parts.append(
            f"<rect x='{left + i * size}' y='{18 + (bins - 1 - j) * size}' width='{size}' height='{size}' "
            f"fill='#08519c' fill-opacity='{shade:.2f}'><title>{c}</title></rect>"
        )
    base = 18 + bins * size
    parts.append(
        f"<text x='{left}' y='{base + 11}'>{x0:g}</text>"
        f"<text x='{left + bins * size}' y='{base + 11}' text-anchor='end'>{x1:g} human</text>"
    )
    parts.append(
        f"<text x='{left - 3}' y='{base}' text-anchor='end'>{y0:g}</text>"
        f"<text x='{left - 3}' y='26' text-anchor='end'>{y1:g}</text>"
    )
    return _svg(left + bins * size + 90, base + 16, "".join(parts), f"{judge}: judge vs human mean")


# --- the overview ----------------------------------------------------------------------


def _reliability_table(groups: list[dict[str, Any]]) -> str:
    rows = []
    for g in groups:
        gate = g["human_reliability"]
        alpha = gate.get("alpha")
        if gate["reliable"]:
            status = "<span class='ok'>reliable</span>"
        elif alpha is None or alpha.get("value") is None:
            status = f"<span class='na'>{_e(gate['reason'])}</span>"
        else:
            status = "<span class='bad'>unreliable: no verdict</span>"
        rows.append(
            f"<tr><td>{_e(_column(g))}</td><td>α[{_e(g['alpha_level'])}] {_result(alpha)}</td>"
            f"<td>{len(g['humans'])}</td><td>{_f(gate['threshold'])}</td><td>{status}</td></tr>"
        )
    return (
        "<table><tr><th>criterion</th><th>human-human α [95% CI]</th><th>humans</th>"
        "<th>threshold</th><th>reference</th></tr>" + "".join(rows) + "</table>"
    )


def _matrix(groups: list[dict[str, Any]], verdicts: list[dict[str, Any]]) -> str:
    judged = [g for g in groups if g["judges"]]
    if not judged:
        return "<p class='na'>No judge rated this domain.</p>"
    judges = sorted({j for g in judged for j in g["judges"]})
    by_key = {(v["level"], v["criterion"], v["judge"]): v for v in verdicts}
    head = "<tr><th>judge</th>" + "".join(f"<th>{_e(_column(g))}</th>" for g in judged) + "</tr>"
    body = []
    for judge in judges:
        cells = []
        for g in judged:
            v = by_key.get((g["level"], g["criterion"], judge))
            if v is None:
                cells.append("<td class='v-none'>—</td>")
                continue
            cls = verdict_class(v)
            if v["agreement"] is not None:
                text = f"{_f(v['difference'], 2)}{_ci(v['difference_ci'])}"
                mark = {True: " ✓alt", False: " ✗alt"}.get(v["alt_test_passed"], "")
                text += f"<br><small>{_e(v['agreement'])}{mark}</small>"
            elif cls == "v-withheld":
                text = "withheld<br><small>unreliable reference</small>"
            else:
                text = "no verdict"
            title = _e(v["summary"] + ("; " + v["reason"] if v["reason"] else ""))
            cells.append(f"<td class='{cls}' title='{title}' data-verdict='{cls}'>{text}</td>")
        body.append(f"<tr><th>{_e(judge)}</th>{''.join(cells)}</tr>")
    return f"<table class='matrix'>{head}{''.join(body)}</table>"


_LEGEND = (
    "<p class='legend'><span class='v-better'>better than people</span>"
    "<span class='v-same'>as good as people</span>"
    "<span class='v-worse'>worse than people</span>"
    "<span class='v-withheld'>withheld: unreliable human reference</span>"
    "<span class='v-none'>not enough data</span> Each cell: judge-human minus human-human mean pairwise α, "
    "[95% paired CI]; ✓alt / ✗alt: passes / fails the alternative-annotator test.</p>"
)


def _overview(data: dict[str, Any]) -> str:
    parts = ["<section id='overview'><h2>Overview: can the judges replace people here?</h2>", _LEGEND]
    verdicts = data["verdicts"]
    if not data["groups"]:
        parts.append("<p class='na'>No ratings yet: no human reliability to state. No judge ratings.</p>")
    elif not verdicts:
        parts.append("<p class='na'>No judge ratings.</p>")
    for domain in data["domains"]:
        groups = [g for g in data["groups"] if g["domain"] == domain]
        dv = [v for v in verdicts if v["domain"] == domain]
        parts.append(f"<h3>{_e(domain)}</h3>")
        parts.append(_reliability_table(groups))
        parts.append(_matrix(groups, dv))
        rows = []
        for v in dv:
            detail = next(
                (
                    jd
                    for g in groups
                    if (g["level"], g["criterion"]) == (v["level"], v["criterion"])
                    for jd in g["judges_vs_humans"]
                    if jd["judge"] == v["judge"]
                ),
                None,
            )
            gap = (detail or {}).get("gap") or {}
            if gap.get("difference") is not None:
                label = f"{v['judge']} · {v['criterion'] or v['level']}"
                rows.append((label, {**v, "_gap": gap, "_class": verdict_class(v)}))
        forest = _forest(rows, f"{domain}: gap in α (judge-human minus human-human), 95% CI; grey = withheld")
        if forest:
            parts.append(f"<div class='figs'>{forest}</div>")
    if data.get("pairwise"):
        parts.append(_pairwise(data["pairwise"]))
    if data.get("alt_test_domains"):
        items = "".join(
            f"<li>{_e(a['judge'])} · {_e(a['level'])} {_e(a['criterion'])}: {_e(a['summary'])}"
            f"{' (premise does not hold: rater ids are slots)' if a.get('premise') else ''}</li>"
            for a in data["alt_test_domains"]
        )
        parts.append(
            "<details>"
            "<summary>Alternative-annotator test across domains (Benjamini-Yekutieli pooled)</summary>"
            f"<ul class='note'>{items}</ul></details>"
        )
    parts.append("</section>")
    return "".join(parts)


def _pct(v: Any, ci: Any = None) -> str:
    if v is None:
        return "–"
    interval = f" [{ci[0] * 100:.1f}, {ci[1] * 100:.1f}]" if ci and None not in ci else ""
    return f"{v * 100:.1f}%{interval}"


def _pairwise(sections: list[dict[str, Any]]) -> str:
    """Pairs: agreement with and without ties, kappa, position consistency and bias, accuracy
    by order against a single reference, Bradley-Terry strengths with CIs."""
    parts = ["<h3>Pairwise preferences (A / B / tie)</h3>"]
    for sec in sections:
        hh = sec.get("human_human") or {}
        parts.append(
            f"<p class='note'>{_e(sec['domain'])} · {_e(sec['criterion'])}: {sec['n_pairs']} pairs, "
            f"{sec['n_human_votes']} votes by {sec['human_raters']} people; human-human agreement "
            f"{_pct(hh.get('with_ties'))} with ties, {_pct(hh.get('without_ties'))} without.</p>"
        )
        hp = sec.get("human_position")
        if hp and hp.get("first_slot_share") is not None:
            parts.append(
                f"<p class='note'>People chose the response shown first in {_f(hp['first_slot_share'])}"
                f"{_ci(hp.get('first_slot_share_ci'))} of {hp['n_decided_verdicts']} non-tie verdicts "
                "(0.5 = no position bias; each person's order is seeded per pair).</p>"
            )
        rows = []
        for j in sec["judges"]:
            pos, acc = j.get("position") or {}, j.get("order_accuracy") or {}
            rows.append(
                f"<tr><td>{_e(j['judge'])}</td>"
                f"<td>{_pct(j['agreement']['with_ties'], j['agreement'].get('with_ties_ci'))}</td>"
                f"<td>{_pct(j['agreement']['without_ties'], j['agreement'].get('without_ties_ci'))}</td>"
                f"<td>{_f(j['kappa_vs_majority']['value'])}</td>"
                f"<td>{_pct(pos.get('consistency'), pos.get('consistency_ci'))}</td>"
                f"<td>{_f(pos.get('first_slot_share'))}{_ci(pos.get('first_slot_share_ci'))}</td>"
                f"<td>{_pct(acc.get('accuracy_ab'))} / {_pct(acc.get('accuracy_ba'))}</td>"
                f"<td>{_pct(acc.get('accuracy_both'))}</td></tr>"
            )
        parts.append(
            "<table><tr><th>judge</th><th>agreement (ties)</th><th>agreement (no ties)</th>"
            "<th>κ vs majority</th><th>position consistency</th><th>first-slot share</th>"
            "<th>accuracy A first / B first</th><th>both orders right</th></tr>" + "".join(rows) + "</table>"
        )
        bt = sec.get("bradley_terry")
        if bt:
            head = "".join(f"<th>{_e(name)}</th>" for name in ["people", *bt["judges"]])
            body = []
            for system in bt["systems"]:
                cells = [bt["people"]["systems"][system]] + [
                    b["systems"][system] for b in bt["judges"].values()
                ]
                body.append(
                    f"<tr><td>{_e(system)}</td>"
                    + "".join(f"<td>{_f(c['strength'])} {_ci(c['ci'])}</td>" for c in cells)
                    + "</tr>"
                )
            rho = "".join(f"<td>ρ = {_f(b['spearman_vs_people'])}</td>" for b in bt["judges"].values())
            parts.append(
                f"<table><tr><th>Bradley-Terry log-strength (CI)</th>{head}</tr>{''.join(body)}"
                f"<tr><td>rank correlation with the people</td><td></td>{rho}</tr></table>"
            )
    return "".join(parts)


# --- the folded detail -----------------------------------------------------------------


def _confusion(conf: dict[str, Any] | None) -> str:
    if not conf:
        return ""
    top = max(max(row) for row in conf["table"]) or 1
    head = (
        "<tr><th>judge \\ majority</th>" + "".join(f"<th>{_e(lab)}</th>" for lab in conf["labels"]) + "</tr>"
    )
    body = "".join(
        f"<tr><th>{_e(lab)}</th>"
        + "".join(f"<td style='background:rgba(8,81,156,{0.08 + 0.6 * c / top:.2f})'>{c}</td>" for c in row)
        + "</tr>"
        for lab, row in zip(conf["labels"], conf["table"], strict=True)
    )
    return f"<table>{head}{body}</table>"


def _competence(comp: dict[str, Any] | None) -> str:
    if not comp:
        return ""
    if comp.get("reason"):
        return f"<p class='note'>Annotator competence: {_e(comp['reason'])}</p>"
    rows = "".join(
        f"<tr><td>{_e(r['rater'])}</td><td>{r['n_ratings']}</td><td>{_f(r['accuracy'])}</td>"
        f"<td>{_f(r['competence'])}</td>"
        f"<td>{'<span class=bad>likely spammer</span>' if r['likely_spammer'] else ''}</td></tr>"
        for r in comp["raters"]
    )
    bins = f" Scale binned: {_e(comp['bins'])}." if comp.get("bins") else ""
    return (
        "<table><tr><th>human</th><th>ratings</th><th>Dawid-Skene accuracy</th>"
        "<th>MACE competence</th><th></th></tr>"
        f"{rows}</table><p class='note'>{_e(comp['model'])}; likely spammer: MACE competence below "
        f"{comp['spammer_threshold']}.{bins}</p>"
    )


def _judge_rows(group: dict[str, Any]) -> str:
    rows = []
    for jd in group["judges_vs_humans"]:
        stats = "".join(f"<div><b>{_e(k)}</b>: {_result(v)}</div>" for k, v in jd["statistics"].items())
        stats += "".join(
            f"<div><b>{_e(k)} vs latent consensus</b>: {_result(v)}</div>"
            for k, v in jd["vs_latent_consensus"].items()
        )
        gap = jd.get("gap") or {}
        aat = jd.get("alt_test") or {}
        oos = jd.get("out_of_scale") or {}
        notes = []
        if oos.get("count"):
            notes.append(f"{oos['count']} rating(s) outside {oos['scale']}: {oos['policy']}")
        if jd.get("comparison"):
            notes.append(jd["comparison"]["judge_values"])
        if aat.get("premise"):
            notes.append(aat["premise"])
        if jd.get("reason"):
            notes.append(jd["reason"])
        gap_text = (
            f"{_f(gap.get('judge_human'))} vs {_f(gap.get('human_human'))}: {_f(gap.get('difference'))}"
            f"{_ci(gap.get('difference_ci'))} on {gap.get('n_units')} units"
            if gap.get("difference") is not None
            else _e(gap.get("reason") or "—")
        )
        aat_text = (
            f"ω {_f(aat.get('winning_rate'), 2)}, ρ {_f(aat.get('advantage_probability'), 2)}, "
            f"ε {aat.get('epsilon')}; {_e(aat.get('fdr_family'))}"
            if aat.get("winning_rate") is not None
            else _e(aat.get("reason") or "—")
        )
        rows.append(
            f"<tr><td>{_e(jd['judge'])}<br>"
            f"<span class='note'>vs {_e(jd['reference'])}; n={jd['n_units']}</span></td>"
            f"<td>{stats or '—'}</td><td>{gap_text}</td><td>{aat_text}</td>"
            f"<td class='note'>{'<br>'.join(_e(n) for n in notes)}</td></tr>"
        )
    if not rows:
        return ""
    return (
        "<table><tr><th>judge</th><th>against the humans [95% CI]</th>"
        "<th>α gap (judge-human vs human-human)</th>"
        "<th>alternative-annotator test</th><th>notes</th></tr>" + "".join(rows) + "</table>"
    )


def _ppi_rows(group: dict[str, Any]) -> str:
    """Per judge: the prediction-powered estimate beside the human-only one, and the effective n."""
    rows = []
    for jd in group["judges_vs_humans"]:
        est = jd.get("ppi")
        if not est:
            continue
        ex = est.get("extra") or {}
        if est.get("value") is None:
            rows.append(
                f"<tr><td>{_e(jd['judge'])}</td><td colspan='4' class='na'>{_e(est.get('reason'))}</td></tr>"
            )
            continue
        n_eff = ex.get("n_effective")
        rows.append(
            f"<tr><td>{_e(jd['judge'])}</td><td>{_f(est['value'])}{_ci(est.get('ci'))}</td>"
            f"<td>{_f(ex.get('classical_value'))}{_ci(ex.get('classical_ci'))}</td>"
            f"<td>{est['n_units']} human + {ex.get('n_unlabeled')} judge-only; "
            f"λ {_f(ex.get('lambda'), 2)}</td>"
            f"<td>{'—' if n_eff is None else f'{n_eff:.0f}'}</td></tr>"
        )
    if not rows:
        return ""
    quantity = group["judges_vs_humans"][0]["ppi"]["quantity"]
    return (
        f"<p>Prediction-powered estimate (PPI++) of the {_e(quantity)}:</p>"
        "<table><tr><th>judge</th><th>PPI++ [CI]</th><th>human-only [CI]</th><th>items</th>"
        "<th>effective human labels</th></tr>" + "".join(rows) + "</table>"
    )


def _group_detail(group: dict[str, Any], report: Report) -> str:
    parts = [f"<h3>{_e(_column(group))}</h3>"]
    parts.append(
        f"<p class='note'>{group['n_units']} units in {group['n_items']} items; humans: "
        f"{_e(', '.join(group['humans']) or 'none')}; categories {_e(group['categories'])}</p>"
    )
    hh = group.get("human_human")
    if hh:
        parts.append(
            f"<p>Human-human: α[{_e(group['alpha_level'])}] {_result(hh['alpha'])}; Gwet's AC1 "
            f"{_result(hh['gwet_ac1'])}; % agreement {_result(hh['percent_agreement'])}</p>"
        )
    else:
        parts.append(f"<p class='na'>Human-human: {_e(group['human_human_reason'])}</p>")
    parts.append(_competence(group.get("competence")))
    parts.append(_judge_rows(group))
    parts.append(_ppi_rows(group))
    figs = []
    series = {
        jd["judge"]: [
            (e["epsilon"], e["winning_rate"])
            for e in jd["alt_test"]["epsilon_grid"]
            if e["winning_rate"] is not None
        ]
        for jd in group["judges_vs_humans"]
        if jd.get("alt_test") and jd["alt_test"].get("winning_rate") is not None
    }
    figs.append(_grid_plot(series, "winning rate ω over ε (pass: ω ≥ 0.5)", "ε", "winning rate"))
    for jd in group["judges_vs_humans"]:
        key = (group["domain"], group["level"], group["criterion"], jd["judge"])
        figs.append(_calibration(jd.get("calibration"), jd["judge"]))
        figs.append(_histogram(report.points.get(key), jd["judge"]))
        figs.append(_confusion(jd.get("confusion")))
    figs = [f for f in figs if f]
    if figs:
        parts.append("<div class='figs'>" + "".join(figs) + "</div>")
    return "".join(parts)


def render_html(report: Report) -> str:
    """Render ``report`` as a complete HTML document (a str): overview first, details folded."""
    data = report.data
    title = data.get("title") or "Concordance report"
    s = data["settings"]
    sections = []
    for domain in data["domains"]:
        groups = [g for g in data["groups"] if g["domain"] == domain]
        sections.append(
            f"<details class='domain'><summary>{_e(domain)}: every statistic, per criterion</summary>"
            + "".join(_group_detail(g, report) for g in groups)
            + "</details>"
        )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1>"
        + _overview(data)
        + "<h2>Details</h2>"
        + f"<p class='note'>{data['n_ratings']} ratings. Confidence intervals: {s['ci'] * 100:g}% percentile "
        f"bootstrap, {s['n_resamples']} resamples (one resample matrix per group, so gaps are paired), seed "
        f"{s['seed']}; steps resampled by item. Reliability gate: α ≥ {s['min_human_alpha']}. Judge ratings "
        f"outside the scale: {_e(s['out_of_scale'])}. Alternative-annotator test: ε={s['epsilon']}, "
        f"Benjamini-Yekutieli q={s['q']} pooled over domains. Ties count as agreement; a tied human majority "
        "leaves the unit out; units with one rating are dropped and counted.</p>"
        + "".join(sections)
        + "</body></html>"
    )
