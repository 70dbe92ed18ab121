"""Live estimates and verdicts: what the dashboard shows per domain while a study runs.

`live_summary` condenses a concordance report (the JSON of
:func:`analysis.report.build_report`, usually built with few resamples) into, per
domain and per (level, criterion) group: the human reference's reliability (the
report's gate), and per judge the prediction-powered estimate of the human quantity
with its interval beside the human-only one, the judge's verdict, and whether that
verdict is *decided*.

Decided, per (domain, level, criterion, judge), means more human labels of this kind
are not needed to answer "can this judge replace people here?":

- **replace**: the human reference passes the gate (human-human alpha at least the
  study's ``min_human_alpha``), the judge passes the alternative-annotator test at the
  study's epsilon (winning rate at least 0.5, Calderon et al. 2025), and the agreement
  gap does not say "worse than people";
- **keep people**: the reference passes the gate and the judge agrees with people less
  than people agree with each other (the CI of judge-human minus human-human alpha lies
  below 0).

Anything else is undecided, with the reason: the gate fails (people disagree: more
labels of the same kind will not make the reference reliable, the guidelines must
change), not enough data, or the evidence is not conclusive yet (the gap's CI covers
0 and the test does not pass). A group is decided when it has a judge and every judge
in it is decided; a domain when it has such a group and every group with a judge is
decided: its human budget can move to the domains that are not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["DECISIONS", "live_summary", "verdict_decision"]

REPLACE = "replace"
KEEP_PEOPLE = "keep people"
DECISIONS = (REPLACE, KEEP_PEOPLE)
_WHY_SHOWN = 3  # undecided judges named in a domain's reason


def verdict_decision(verdict: Mapping[str, Any], *, epsilon: float) -> tuple[str | None, str]:
    """``(decision, why)`` of one report verdict (the module docstring's rules).

    ``decision`` is ``"replace"``, ``"keep people"`` or None (undecided); ``why`` says
    what the decision rests on, or what is missing.
    """
    for key in ("reliable_reference", "agreement", "alt_test_passed", "summary"):
        if key not in verdict:
            raise ValueError(f"a verdict needs {key!r}")
    if not verdict["reliable_reference"]:  # the gate's full reason is in the verdict's summary
        alpha = verdict.get("human_alpha")
        below = "" if alpha is None else f" (human-human alpha {alpha:.2f})"
        return (
            None,
            f"no verdict while people disagree: the human reference is below the reliability gate{below}",
        )
    agreement = verdict["agreement"]
    passed = verdict["alt_test_passed"]
    omega = verdict.get("winning_rate")
    rate = "n/a" if omega is None else f"{omega:.2f}"
    at = f"at epsilon {epsilon:g}"
    if agreement == "worse than people":
        return KEEP_PEOPLE, "agrees with people less than they agree with each other (CI of the gap below 0)"
    if passed is True:
        return REPLACE, f"passes the alternative-annotator test {at} (winning rate {rate} >= 0.5)"
    if agreement is None:
        return None, verdict["summary"]
    if passed is False:
        return None, (
            f"{agreement}, but the alternative-annotator test does not pass {at} "
            f"(winning rate {rate} < 0.5): not conclusive yet"
        )
    reason = verdict.get("reason") or "no result"
    return None, f"{agreement}; the alternative-annotator test has not run: {reason}"


def _result(result: Mapping[str, Any] | None) -> dict[str, Any]:
    result = result or {}
    return {"value": result.get("value"), "ci": result.get("ci"), "n_units": result.get("n_units")}


def _estimate(ppi: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not ppi:
        return None
    extra = ppi.get("extra") or {}
    return {
        "quantity": ppi.get("quantity"),
        "value": ppi.get("value"),
        "ci": ppi.get("ci"),
        "n_labelled": ppi.get("n_units"),
        "n_unlabelled": extra.get("n_unlabeled"),
        "human_only_value": extra.get("classical_value"),
        "human_only_ci": extra.get("classical_ci"),
        "n_effective": extra.get("n_effective"),
        "reason": ppi.get("reason"),
    }


def live_summary(report: Mapping[str, Any]) -> dict[str, Any]:
    """Per domain, the estimates, verdicts and decisions of a report's JSON.

    Parameters
    ----------
    report : mapping
        ``build_report(...).data`` (schema version 2): its ``settings``, ``domains``,
        ``groups`` (each judge's ``ppi``) and ``verdicts``.

    Returns
    -------
    dict
        ``{"settings": {epsilon, min_human_alpha, ci, n_resamples}, "domains": [{"domain",
        "decided", "why", "groups": [{"level", "criterion", "n_units", "n_items",
        "n_humans", "human_alpha": {value, ci, n_units}, "reliable", "gate_reason",
        "decided", "judges": [{"judge", "estimate", "summary", "agreement",
        "alt_test_passed", "winning_rate", "decision", "why"}]}]}]}``.
    """
    for key in ("settings", "domains", "groups", "verdicts"):
        if key not in report:
            raise ValueError(f"not a concordance report: no {key!r}")
    settings = report["settings"]
    epsilon = float(settings["epsilon"])
    verdicts = {(v["domain"], v["level"], v["criterion"], v["judge"]): v for v in report["verdicts"]}
    by_domain: dict[str, list[dict[str, Any]]] = {d: [] for d in report["domains"]}
    for group in report["groups"]:
        gate = group["human_reliability"]
        judges = []
        for detail in group["judges_vs_humans"]:
            which = (group["domain"], group["level"], group["criterion"], detail["judge"])
            verdict = verdicts.get(which)
            if verdict is None:
                decision, why = None, detail.get("reason") or "no verdict in the report"
                verdict = {}
            else:
                decision, why = verdict_decision(verdict, epsilon=epsilon)
            judges.append(
                {
                    "judge": detail["judge"],
                    "estimate": _estimate(detail.get("ppi")),
                    "summary": verdict.get("summary") or why,
                    "agreement": verdict.get("agreement"),
                    "alt_test_passed": verdict.get("alt_test_passed"),
                    "winning_rate": verdict.get("winning_rate"),
                    "decision": decision,
                    "why": why,
                }
            )
        by_domain.setdefault(group["domain"], []).append(
            {
                "level": group["level"],
                "criterion": group["criterion"],
                "n_units": group["n_units"],
                "n_items": group["n_items"],
                "n_humans": len(group["humans"]),
                "human_alpha": _result(gate.get("alpha")),
                "reliable": bool(gate["reliable"]),
                "gate_reason": gate.get("reason"),
                "decided": bool(judges) and all(j["decision"] for j in judges),
                "judges": judges,
            }
        )
    domains = []
    for domain, groups in by_domain.items():
        judged = [g for g in groups if g["judges"]]
        open_ = [
            f"{g['level']}{'/' + g['criterion'] if g['criterion'] else ''}, {j['judge']}: {j['why']}"
            for g in judged
            for j in g["judges"]
            if not j["decision"]
        ]
        if not judged:
            decided, why = False, "no judge has rated this domain's items yet"
        elif open_:
            more = f" (and {len(open_) - _WHY_SHOWN} more)" if len(open_) > _WHY_SHOWN else ""
            decided, why = False, "; ".join(open_[:_WHY_SHOWN]) + more
        else:
            n = sum(len(g["judges"]) for g in judged)
            decided, why = True, f"every verdict is decided ({n} judge verdict(s) in {len(judged)} group(s))"
        domains.append({"domain": domain, "decided": decided, "why": why, "groups": groups})
    return {
        "settings": {
            "epsilon": epsilon,
            "min_human_alpha": settings.get("min_human_alpha"),
            "ci": settings.get("ci"),
            "n_resamples": settings.get("n_resamples"),
        },
        "domains": domains,
    }
