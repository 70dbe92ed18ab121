"""A study with `allocation: active`, end to end through the API: load, two critics judge
(Celery, eager, against the fake OpenAI server), the finished runs draw the items, people are
served only drawn items and label them, the report gives the active-inference estimate."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from analysis.active import active_mean_ci
from studyapp.models import Annotation, Item, Study
from studyapp.selectors.reports import study_report
from studyapp.services.participants import annotator_create
from studyapp.services.study_load import study_load
from tests.support.openai_server import FakeOpenAI, Reply

pytestmark = pytest.mark.django_db(transaction=True)  # tasks run when the runs commit

N = 16
WRONG = {i for i in range(N) if i % 4 == 0}  # step 0 is wrong on these; critic-b and people see it
_PROBLEM = re.compile(r"What is (\d+) \+")
_STEP = re.compile(r"<step_(\d+)>")


def _spec(tmp_path: Path, base_url: str) -> Path:
    items = [
        {
            "id": f"r{i}",
            "problem": f"What is {i} + {i}?",
            "response": [f"{i} + {i} = {2 * i + (1 if i in WRONG else 0)}.", "So the answer is that."],
            "outcome": i not in WRONG,
        }
        for i in range(N)
    ]
    (tmp_path / "items.jsonl").write_text("".join(json.dumps(x) + "\n" for x in items))
    config = {"base_url": base_url, "api_key_env": None, "cache": False, "max_attempts": 2}
    spec = {
        "slug": "active",
        "title": "Active",
        "overlap": 3,
        "annotation": {"allocation": "active", "allocation_budget": 0.5},
        "domains": [{"name": "math"}],
        "sources": [{"path": "items.jsonl", "format": "native", "domain": "math"}],
        "judges": [
            {"name": "critic-a", "kind": "critic", "config": {**config, "model": "gpt-4o-mini"}},
            {"name": "critic-b", "kind": "critic", "config": {**config, "model": "gpt-4o"}},
        ],
    }
    path = tmp_path / "study.yaml"
    path.write_text(json.dumps(spec))
    return path


def _critics(request) -> Reply:
    """critic-a calls every step correct; critic-b finds the wrong first step."""
    i = int(_PROBLEM.search(request.prompt).group(1))
    steps = sorted({int(s) for s in _STEP.findall(request.prompt)})
    wrong = request.body.get("model") == "gpt-4o" and i in WRONG
    labels = {f"step_{s}": (-1 if wrong and s == steps[0] else 1) for s in steps}
    return Reply.json({"steps": labels, "first_error": steps[0] if wrong else -1})


@pytest.fixture
def study(tmp_path: Path, openai_server: FakeOpenAI) -> Study:
    openai_server.responder = _critics
    return study_load(path=_spec(tmp_path, openai_server.base_url)).study


def _annotators(study: Study, n: int) -> list[APIClient]:
    clients = []
    for cred in annotator_create(study=study, count=n, prefix="act"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {cred.token}")
        assert (
            client.post(f"/api/studies/{study.slug}/join/", {"consent": True}, format="json").status_code
            == 200
        )
        clients.append(client)
    return clients


def test_an_active_study_end_to_end_over_the_api(study, eager, capsys):
    people = _annotators(study, 3)
    url = f"/api/studies/{study.slug}"
    # Before the judges have run nothing is drawn: wait, not finished.
    body = people[0].post(f"{url}/next/").json()
    assert body["assignment"] is None and body["finished"] is False and body["retry_after"] >= 1

    call_command("run_judges", "active", "--wait", "--poll", "0.05")
    items = {item.external_id: item for item in Item.objects.filter(study=study)}
    assert all(item.allocation_pi is not None for item in items.values())  # drawn by the runs' end
    disagree = {f"r{i}" for i in WRONG}
    assert {k for k, it in items.items() if it.allocation_pi == pytest.approx(1.0)} == disagree
    assert sum(it.allocation_pi for it in items.values()) == pytest.approx(0.5 * N)
    drawn = {k for k, it in items.items() if it.allocation_drawn}
    assert disagree <= drawn

    for client in people:
        served: list[str] = []
        while (body := client.post(f"{url}/next/").json())["assignment"] is not None:
            aid, task = body["assignment"]["id"], body["task"]
            assert "allocation" not in json.dumps(body)  # people are not told an item's value
            problem = int(_PROBLEM.search(task["problem"]).group(1))
            served.append(f"r{problem}")
            steps = {
                str(s["index"]): (-1 if problem in WRONG and s["index"] == 0 else 1) for s in task["steps"]
            }
            ok = client.post(f"/api/assignments/{aid}/submit/", {"steps": steps}, format="json")
            assert ok.status_code == 201, ok.content
            again = client.post(f"/api/assignments/{aid}/submit/", {"steps": steps}, format="json")
            assert again.status_code == 200  # a double submit stores once
        assert body["finished"] is True
        assert set(served) == drawn and len(served) == len(drawn)
        assert served[: len(disagree)] and set(served[: len(disagree)]) == disagree  # pi = 1 first
    per_item = {}
    for external_id in Annotation.objects.values_list("item__external_id", flat=True):
        per_item[external_id] = per_item.get(external_id, 0) + 1
    assert set(per_item) == drawn and set(per_item.values()) == {3}

    call_command("allocate", "active")  # nothing left to draw
    assert "0 item(s) drawn now" in capsys.readouterr().out

    report = study_report(study=study).data
    [group] = [g for g in report["groups"] if g["level"] == "first_error"]
    by_judge = {d["judge"]: d["ppi"] for d in group["judges_vs_humans"]}
    ppi = next(v for k, v in by_judge.items() if k.startswith("critic-b"))
    assert ppi["method"] == "active" and ppi["extra"]["complete"] is True
    assert ppi["n_units"] == len(drawn) and ppi["extra"]["n_population"] == N
    # critic-b agrees with people on every drawn item: its interval holds the true share, 4 / 16
    assert ppi["ci"][0] <= len(WRONG) / N <= ppi["ci"][1]
    # the same estimator called directly on the study's rows (the wiring, not the estimator)
    order = sorted(items)
    truth = np.array([float(int(k[1:]) in WRONG) for k in order])
    y = np.where([k in drawn for k in order], truth, np.nan)
    pi = np.array([items[k].allocation_pi for k in order])
    xi = np.array([k in drawn for k in order])
    for name, yhat in (("critic-a", np.zeros(N)), ("critic-b", truth)):
        est = active_mean_ci(y, yhat, xi, pi)
        got = next(v for k, v in by_judge.items() if k.startswith(name))
        assert got["value"] == pytest.approx(est.estimate, abs=1e-6)
        assert got["ci"] == pytest.approx([est.low, est.high], abs=1e-6)
        assert got["extra"]["classical_value"] == pytest.approx(est.human_only_estimate, abs=1e-6)
