"""A pairwise study from MT-Bench-format human judgments, end to end through load_study and the
report: several people per pair, an imported judge, Bradley-Terry strengths with CIs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command

from studyapp.models import Annotation, Item, Label
from studyapp.services.study_load import study_load
from tests.studyapp.importers.pairwise_files import mtbench

pytestmark = pytest.mark.django_db

SPEC = """
slug: mt
title: MT-Bench sample
status: closed
domains: [{name: chat}]
rubric:
  name: preference
  criteria: [{name: overall, scale: [-1, 1]}]
sources: [{path: judgments.jsonl, format: mtbench_human}]
"""
MODELS = ["alpaca", "gpt-4", "llama", "vicuna"]
STRENGTH = {"alpaca": 0, "gpt-4": 3, "llama": 1, "vicuna": 2}


def test_mtbench_study_report(tmp_path: Path) -> None:
    lines = []
    for question in range(81, 93):
        for i, a in enumerate(MODELS):
            for b in MODELS[i + 1 :]:
                better = "model_a" if STRENGTH[a] > STRENGTH[b] else "model_b"
                worse = "model_b" if better == "model_a" else "model_a"
                # three experts: two say the stronger model, one (on odd questions) a tie or the other
                votes = [better, better, "tie" if question % 2 else worse]
                for judge, winner in zip(("expert_0", "expert_1", "author_2"), votes, strict=True):
                    lines.append(mtbench(judge, winner, model_a=a, model_b=b, question=question))
                lines.append(mtbench("gpt4_pair", better, model_a=a, model_b=b, question=question))
    (tmp_path / "judgments.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    (tmp_path / "study.yaml").write_text(SPEC)
    report = study_load(path=tmp_path / "study.yaml")
    assert (report.items_created, report.annotations_created, report.judgments_created) == (72, 216, 72)
    item = Item.objects.get(external_id="mtbench/81/1/alpaca/gpt-4")
    assert (item.kind, item.response_a, item.response_b) == (
        "pairwise",
        "answer of alpaca 1",
        "answer of gpt-4 1",
    )
    # gpt-4 (B) is stronger: the experts' preference is stored as -1 whatever the record's order
    votes = Label.objects.filter(annotation__in=Annotation.objects.filter(item=item)).values_list(
        "value", flat=True
    )
    assert sorted(votes) == [-1.0, -1.0, 0.0]  # question 81 is odd: the third vote a tie
    out = tmp_path / "mt.json"
    call_command("report", "mt", "--format", "json", "--out", str(out), "--resamples", "100")
    data = json.loads(out.read_text())
    (section,) = data["pairwise"]
    assert section["n_pairs"] == 72 and section["human_raters"] == 3
    # per pair: (better, better) agrees, the third vote disagrees with both -> 1 of 3 vote pairs
    assert section["human_human"]["with_ties"] == pytest.approx(1 / 3, abs=1e-6)
    (judge,) = section["judges"]
    assert judge["judge"] == "gpt4_pair" and judge["kappa_vs_majority"]["value"] == 1.0
    assert judge["agreement"]["with_ties"] == pytest.approx(2 / 3, abs=1e-6)
    bt = section["bradley_terry"]
    people = bt["people"]["systems"]
    assert sorted(MODELS, key=lambda m: people[m]["strength"]) == sorted(MODELS, key=STRENGTH.get)
    assert all(people[m]["ci"][0] <= people[m]["strength"] <= people[m]["ci"][1] for m in MODELS)
    # the judge always picks the stronger model: no finite MLE for the best and the worst
    assert bt["judges"]["gpt4_pair"]["systems"]["gpt-4"]["strength"] is None
    (group,) = data["groups"]
    assert (
        group["level"] == "pairwise" and group["judges_vs_humans"][0]["alt_test"]["alignment"] == "accuracy"
    )


def test_summaries_and_pairs_in_one_study_are_refused_with_the_line(tmp_path: Path) -> None:
    from studyapp.importers import ImportFailure

    pair = {"id": "p1", "kind": "pairwise", "prompt": "Which?", "response_a": "One.", "response_b": "Two."}
    summary = {"id": "s1", "kind": "summary", "document": "A text.", "summary": "Short.", "persona": "public"}
    (tmp_path / "items.jsonl").write_text(json.dumps(pair) + "\n" + json.dumps(summary) + "\n")
    (tmp_path / "study.yaml").write_text(
        SPEC.replace("judgments.jsonl, format: mtbench_human", "items.jsonl, format: native")
        + "personas: [{name: public}]\n"
    )
    with pytest.raises(ImportFailure) as info:
        study_load(path=tmp_path / "study.yaml")
    assert info.value.line == 2 and info.value.field == "kind"
    assert "has pairwise items (the first at " in info.value.message and ":1)" in info.value.message
    assert not Item.objects.exists()


def test_the_demo_pairs_report_before_and_after_a_person_labels(tmp_path: Path, make_rater) -> None:
    """The demo's pairs: an imported judge and, at first, no person; then one person's label."""
    from studyapp.services.annotations import annotation_submit
    from studyapp.services.assignments import assignment_claim_next
    from studyapp.services.participants import participation_consent, participation_instructions_read

    study = study_load(path=Path(__file__).resolve().parents[2] / "fixtures" / "demo" / "pairs.yaml").study
    out = tmp_path / "report.json"
    call_command("report", study.slug, "--format", "json", "--out", str(out), "--resamples", "50")
    sections = json.loads(out.read_text())["pairwise"]
    assert sections and all(s["n_human_votes"] == 0 for s in sections)
    judge = sections[0]["judges"][0]
    assert judge["kappa_vs_majority"] == {"value": None, "n": 0, "reason": "no pair with both ratings"}
    assert judge["position"]["n_pairs"] == sections[0]["n_pairs"]
    call_command("report", study.slug, "--format", "html", "--out", str(tmp_path / "report.html"))

    rater = make_rater(study)
    participation_consent(rater=rater)
    participation_instructions_read(rater=rater)
    assignment = assignment_claim_next(rater=rater, study=study)
    criteria = [s["criterion"] for s in sections]
    annotation_submit(assignment=assignment, ratings={c: 1 for c in criteria})
    call_command("report", study.slug, "--format", "json", "--out", str(out), "--resamples", "50")
    after = json.loads(out.read_text())["pairwise"]
    assert all(s["n_human_votes"] == 1 and s["judges"][0]["kappa_vs_majority"]["n"] == 1 for s in after)
    # The person chose the left response (screen answer 1) whichever response was on the left.
    assert all(s["human_position"]["first_slot_share"] == 1.0 for s in after)
    assert all(s["human_position"]["n_decided_verdicts"] == 1 for s in after)
    assert sections[0]["human_position"] is None  # before: no person, no order
