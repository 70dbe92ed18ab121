"""Markdown tables of a concordance report's JSON, for the replays in docs/results/.

    python manage.py report SLUG --format json --out report.json
    python docs/results/replay_tables.py report.json
    python docs/results/replay_tables.py --squality-reviewers   # each SQuALITY reviewer as the "judge"

The second form runs the alternative-annotator test on SQuALITY's real
reviews with each reviewer in turn as the candidate judge against the other
three (neg RMSE on 0-100, epsilon 0.15, and the winning rate over the epsilon
grid), read from ../shared/data (CONCORDANCE_SHARED_DATA overrides).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _ci(ci: Any) -> str:
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""


def report_tables(data: dict[str, Any]) -> str:
    out = [
        "### Human reliability (the gate)",
        "",
        "| domain | level / criterion | humans | α [95% CI] | units | reliable |",
    ]
    out.append("|---|---|---:|---|---:|---|")
    for g in data["groups"]:
        gate = g["human_reliability"]
        a = gate["alpha"] or {}
        value = "—" if a.get("value") is None else f"{a['value']:.3f} {_ci(a.get('ci'))}"
        crit = g["level"] + (f" / {g['criterion']}" if g["criterion"] else "")
        reliable = "yes" if gate["reliable"] else f"no ({gate['reason'].split(':')[0]})"
        out.append(
            f"| {g['domain']} | {crit} | {len(g['humans'])} | {value} | {a.get('n_units', 0)} | {reliable} |"
        )
    comps = [g for g in data["groups"] if g.get("competence") and g["competence"].get("raters")]
    if comps:
        out += [
            "",
            "### Annotator competence",
            "",
            "| domain | criterion | rater | Dawid-Skene accuracy | MACE competence | likely spammer |",
        ]
        out.append("|---|---|---|---:|---:|---|")
        for g in comps:
            for r in g["competence"]["raters"]:
                spam = "yes" if r["likely_spammer"] else ""
                cells = [
                    g["domain"],
                    g["criterion"],
                    r["rater"],
                    f"{r['accuracy']:.3f}",
                    f"{r['competence']:.3f}",
                    spam,
                ]
                out.append("| " + " | ".join(cells) + " |")
    oos: Counter[str] = Counter()
    n_judged: Counter[str] = Counter()
    for g in data["groups"]:
        for jd in g["judges_vs_humans"]:
            info = jd.get("out_of_scale") or {}
            oos[jd["judge"]] += info.get("count", 0)
            n_judged[jd["judge"]] += jd["n_units"] + info.get("count", 0) * (info.get("policy") == "exclude")
    if oos:
        out += [
            "",
            "### Judge ratings outside the declared scale",
            "",
            "| judge | outside the scale | of | policy |",
        ]
        out.append("|---|---:|---:|---|")
        policy = data["settings"]["out_of_scale"]
        for judge in sorted(oos):
            out.append(f"| {judge} | {oos[judge]} | {n_judged[judge]} | {policy} |")
        out.append(f"| **all** | **{sum(oos.values())}** | {sum(n_judged.values())} | |")
    verdicts = Counter(
        (v["agreement"] or ("withheld" if not v["reliable_reference"] else "none")) for v in data["verdicts"]
    )
    if data["verdicts"]:
        out += ["", "### Verdicts", "", "| verdict | count |", "|---|---:|"]
        out += [f"| {k} | {n} |" for k, n in sorted(verdicts.items())]
    remains = [
        (g, jd)
        for g in data["groups"]
        for jd in g["judges_vs_humans"]
        if (jd.get("gap") or {}).get("difference") is not None
    ]
    if remains:
        out += [
            "",
            "### What remains (shown, not a verdict where the reference is unreliable)",
            "",
            "| criterion | judge | Kendall τ-b vs human mean [CI] | α gap [paired CI] "
            "| alt-test ω (premise) |",
            "|---|---|---|---|---|",
        ]
        for g, jd in remains:
            k = jd["statistics"].get("kendall") or {}
            gap = jd["gap"]
            aat = jd.get("alt_test") or {}
            kv = "—" if k.get("value") is None else f"{k['value']:.3f} {_ci(k.get('ci'))}"
            premise = " (premise fails)" if aat.get("premise") else ""
            omega = "—" if aat.get("winning_rate") is None else f"{aat['winning_rate']:.2f}{premise}"
            gap_text = f"{gap['difference']:.3f} {_ci(gap['difference_ci'])}"
            out.append(f"| {g['criterion']} | {jd['judge']} | {kv} | {gap_text} | {omega} |")
    return "\n".join(out)


def squality_reviewers() -> str:
    import numpy as np

    from analysis.replacement import alt_test
    from analysis.shared_data import shared_data_dir
    from studyapp.importers import read_items

    items = read_items(shared_data_dir() / "squality" / "all-responses.jsonl", "squality").items
    raters = sorted({lb.rater for i in items for lb in i.labels})
    out = [
        "| criterion | reviewer as judge | ω at ε 0.15 | ρ | passed | ω at ε 0, 0.05, ..., 0.3 "
        "| p-values vs the others |",
        "|---|---|---:|---:|---|---|---|",
    ]
    for criterion in ("correctness", "coverage", "overall"):
        x = np.full((len(raters), len(items)), np.nan)
        for u, item in enumerate(items):
            for lb in item.labels:
                x[raters.index(lb.rater), u] = lb.ratings[criterion]
        for i, candidate in enumerate(raters):
            others = [r for r in raters if r != candidate]
            res = alt_test(
                np.delete(x, i, axis=0), x[i], epsilon=0.15, alignment="neg_rmse", annotator_names=others
            )
            grid = ", ".join(f"{w:.2f}" for w in res.winning_rate_grid)
            ps = ", ".join(f"{a.annotator}: {a.p_value:.3g}" for a in res.annotators)
            out.append(
                f"| {criterion} | {candidate} | {res.winning_rate:.2f} | {res.advantage_probability:.3f} | "
                f"{'yes' if res.passed else 'no'} | {grid} | {ps} |"
            )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", nargs="?", type=Path)
    parser.add_argument("--squality-reviewers", action="store_true")
    args = parser.parse_args()
    if args.report:
        print(report_tables(json.loads(args.report.read_text())))
    if args.squality_reviewers:
        print(squality_reviewers())


if __name__ == "__main__":
    main()
