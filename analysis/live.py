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
decided.

**Estimates at the target width.** Where the study's spec sets ``analysis.target_width``
(``target_width`` here), each prediction-powered estimate's interval width (high - low)
is compared with it: an estimate has *reached* the width when it has an interval at most
that wide (one without an interval has not). A group's estimates are decided when it has
a judge and every judge's estimate in it reached the width; a domain's when it has such
a group and every group with a judge is. This is a separate status from the verdicts':
the estimate can be precise enough while the verdict is open, and a verdict can be
decided while the interval is still wider than the target. Stopping at the first look
whose interval is at most the target width is the fixed-width rule of Chow & Robbins
(Ann. Math. Statist. 36, 1965), whose coverage tends to the nominal level as the target
shrinks; the width is compared as computed, with no tolerance.

**Budget.** A domain's human budget can move to other domains when every question the
study asks of it is answered: its verdicts are decided and, if the spec sets a target
width, its estimates are decided too. Both, not either: labels taken from a domain whose
verdict is decided but whose estimate is still wider than the researcher asked for leave
that estimate short of its target, and labels taken from a domain with a precise
estimate but an open verdict leave the replacement question unanswered. Without a target
width, the budget follows the verdicts alone (``budget_can_move == decided``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["DECISIONS", "live_summary", "verdict_decision"]

REPLACE = "replace"
KEEP_PEOPLE = "keep people"
DECISIONS = (REPLACE, KEEP_PEOPLE)
_WHY_SHOWN = 3  # undecided judges named in a domain's reason
_NO_JUDGE = "no judge has rated this domain's items yet"


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


def _estimate(ppi: Mapping[str, Any] | None, target_width: float | None) -> dict[str, Any] | None:
    if not ppi:
        return None
    extra = ppi.get("extra") or {}
    ci = ppi.get("ci")
    width = float(ci[1]) - float(ci[0]) if ci and None not in ci[:2] else None
    return {
        "quantity": ppi.get("quantity"),
        "value": ppi.get("value"),
        "ci": ci,
        "width": width,
        "width_reached": None if target_width is None else width is not None and width <= target_width,
        "n_labelled": ppi.get("n_units"),
        "n_unlabelled": extra.get("n_unlabeled"),
        "human_only_value": extra.get("classical_value"),
        "human_only_ci": extra.get("classical_ci"),
        "n_effective": extra.get("n_effective"),
        "reason": ppi.get("reason"),
    }


def _reached(judge: Mapping[str, Any]) -> bool:
    return bool(judge["estimate"] and judge["estimate"]["width_reached"])


def _label(group: Mapping[str, Any], judge: Mapping[str, Any]) -> str:
    return f"{group['level']}{'/' + group['criterion'] if group['criterion'] else ''}, {judge['judge']}"


def _first(reasons: list[str]) -> str:
    more = f" (and {len(reasons) - _WHY_SHOWN} more)" if len(reasons) > _WHY_SHOWN else ""
    return "; ".join(reasons[:_WHY_SHOWN]) + more


def _estimates_status(judged: list[dict[str, Any]], target_width: float | None) -> tuple[bool | None, str]:
    """``(estimates_decided, why)`` of a domain's groups with a judge (the module docstring)."""
    if target_width is None:
        return None, "no target width (the spec's analysis.target_width is not set)"
    if not judged:
        return False, _NO_JUDGE
    open_ = []
    for g in judged:
        for j in g["judges"]:
            if _reached(j):
                continue
            e = j["estimate"] or {}
            if e.get("width") is None:
                open_.append(f"{_label(g, j)}: no interval yet ({e.get('reason') or 'no estimate'})")
            else:
                open_.append(f"{_label(g, j)}: width {e['width']:.3g} > target {target_width:g}")
    if open_:
        return False, _first(open_)
    widest = max(j["estimate"]["width"] for g in judged for j in g["judges"])
    n = sum(len(g["judges"]) for g in judged)
    return True, (
        f"every estimate is precise enough: widest interval {widest:.3g} <= target {target_width:g} "
        f"({n} estimate(s) in {len(judged)} group(s))"
    )


def _budget(decided: bool, estimates_decided: bool | None) -> tuple[bool, str]:
    """``(budget_can_move, why)``: the verdicts decided and, with a target width, the estimates."""
    if estimates_decided is None:
        if decided:
            return True, "the verdicts are decided: this domain's human labels can go to other domains"
        return False, "the verdicts are not decided yet"
    if decided and estimates_decided:
        return True, (
            "the verdicts are decided and the estimates reached the target width: "
            "this domain's human labels can go to other domains"
        )
    if decided:
        return False, "the verdicts are decided, but the estimates have not reached the target width yet"
    if estimates_decided:
        return False, "the estimates reached the target width, but the verdicts are not decided yet"
    return False, "neither the verdicts nor the estimates at the target width are decided yet"


def live_summary(report: Mapping[str, Any], *, target_width: float | None = None) -> dict[str, Any]:
    """Per domain, the estimates, verdicts and decisions of a report's JSON.

    Parameters
    ----------
    report : mapping
        ``build_report(...).data`` (schema version 2): its ``settings``, ``domains``,
        ``groups`` (each judge's ``ppi``) and ``verdicts``.
    target_width : float, optional
        The target total width (high - low) of the estimates' intervals, > 0 (the
        spec's ``analysis.target_width``); None: no width rule.

    Returns
    -------
    dict
        ``{"settings": {epsilon, min_human_alpha, ci, n_resamples, target_width},
        "domains": [{"domain", "decided", "why", "estimates_decided", "estimates_why",
        "budget_can_move", "budget_why", "groups": [{"level", "criterion", "n_units",
        "n_items", "n_humans", "human_alpha": {value, ci, n_units}, "reliable",
        "gate_reason", "decided", "estimates_decided", "judges": [{"judge", "estimate":
        {quantity, value, ci, width, width_reached, n_labelled, n_unlabelled,
        human_only_value, human_only_ci, n_effective, reason} or None, "summary",
        "agreement", "alt_test_passed", "winning_rate", "decision", "why"}]}]}]}``.
        ``estimates_decided`` and ``width_reached`` are None without a target width.
    """
    for key in ("settings", "domains", "groups", "verdicts"):
        if key not in report:
            raise ValueError(f"not a concordance report: no {key!r}")
    if target_width is not None and not (isinstance(target_width, int | float) and target_width > 0):
        raise ValueError(f"target_width must be a positive number (got {target_width!r})")
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
                    "estimate": _estimate(detail.get("ppi"), target_width),
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
                "estimates_decided": None
                if target_width is None
                else bool(judges) and all(_reached(j) for j in judges),
                "judges": judges,
            }
        )
    domains = []
    for domain, groups in by_domain.items():
        judged = [g for g in groups if g["judges"]]
        open_ = [f"{_label(g, j)}: {j['why']}" for g in judged for j in g["judges"] if not j["decision"]]
        if not judged:
            decided, why = False, _NO_JUDGE
        elif open_:
            decided, why = False, _first(open_)
        else:
            n = sum(len(g["judges"]) for g in judged)
            decided, why = True, f"every verdict is decided ({n} judge verdict(s) in {len(judged)} group(s))"
        estimates_decided, estimates_why = _estimates_status(judged, target_width)
        budget, budget_why = _budget(decided, estimates_decided)
        domains.append(
            {
                "domain": domain,
                "decided": decided,
                "why": why,
                "estimates_decided": estimates_decided,
                "estimates_why": estimates_why,
                "budget_can_move": budget,
                "budget_why": budget_why,
                "groups": groups,
            }
        )
    return {
        "settings": {
            "epsilon": epsilon,
            "min_human_alpha": settings.get("min_human_alpha"),
            "ci": settings.get("ci"),
            "n_resamples": settings.get("n_resamples"),
            "target_width": target_width,
        },
        "domains": domains,
    }
