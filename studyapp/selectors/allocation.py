"""An active-allocation study's draw, per domain, for the dashboard and `study_status`."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, Min, Q, Sum

from studyapp.models import Item, Study
from studyapp.selectors.queues import allocation_settings


def allocation_summary(*, study: Study) -> dict[str, Any] | None:
    """None for a uniform study; else the setting and, per domain, the real items, those
    allocated, drawn (sent to people), the expected number (sum of pi) and the pi range (1 query)."""
    mode, budget, floor = allocation_settings(study=study)
    if mode != "active":
        return None
    rows = (
        Item.objects.filter(study=study, is_gold=False)
        .values("domain__name")
        .annotate(
            items=Count("id"),
            allocated=Count("id", filter=Q(allocation_pi__isnull=False)),
            drawn=Count("id", filter=Q(allocation_drawn=True)),
            expected=Sum("allocation_pi"),
            pi_min=Min("allocation_pi"),
            pi_max=Max("allocation_pi"),
        )
        .order_by("domain__name")
    )
    domains = [
        {
            "domain": r["domain__name"],
            "items": r["items"],
            "allocated": r["allocated"],
            "drawn": r["drawn"],
            "expected": float(r["expected"] or 0.0),
            "pi_min": r["pi_min"],
            "pi_max": r["pi_max"],
            "waiting": r["items"] - r["allocated"],
        }
        for r in rows
    ]
    waiting = sum(d["waiting"] for d in domains)
    return {"mode": mode, "budget": budget, "floor": floor, "domains": domains, "waiting": waiting}


__all__ = ["allocation_summary"]
