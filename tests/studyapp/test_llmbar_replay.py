"""The LLMBar replay: GPT-4's published figures (statistics.json beside each result.json),
reproduced through a study loaded from the files and `python manage.py report SLUG --format json`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from studyapp.models import Item, Judgment
from studyapp.services.study_load import study_load

pytestmark = pytest.mark.django_db

SPEC = Path(__file__).resolve().parents[2] / "docs" / "results" / "studies" / "llmbar.yaml"
SUBSETS = {"natural": "Natural", "neighbor": "Adversarial/Neighbor", "gptinst": "Adversarial/GPTInst"}
COUNT = re.compile(r"^(\d+) / (\d+) = ([\d.]+)%$")


def test_every_published_figure_is_reproduced(shared_data: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CONCORDANCE_SHARED_DATA", str(shared_data))
    report = study_load(path=SPEC)
    assert (report.items_created, report.annotations_created, report.judgments_created) == (326, 326, 326)
    assert Item.objects.filter(study__slug="llmbar", kind="pairwise").count() == 326
    raw = Judgment.objects.filter(item__external_id="llmbar/Natural/0").get().raw
    assert raw["orders"] == {"overall": {"ab": "A", "ba": "A"}}
    out = tmp_path / "llmbar.json"
    call_command("report", "llmbar", "--format", "json", "--out", str(out), "--resamples", "50")
    sections = {s["domain"]: s for s in json.loads(out.read_text())["pairwise"]}
    assert set(sections) == set(SUBSETS)
    for domain, subset in SUBSETS.items():
        folder = shared_data / "llmbar" / "LLMBar" / subset / "evaluators" / "GPT-4" / "Vanilla"
        published = json.loads((folder / "statistics.json").read_text())
        (judge,) = sections[domain]["judges"]
        assert judge["judge"] == "GPT-4/Vanilla"
        ours = judge["order_accuracy"]
        assert ours["reference"] == "llmbar-gold"
        for key, (count, share) in {
            "correct_False": ("correct_ab", "accuracy_ab"),
            "correct_True": ("correct_ba", "accuracy_ba"),
            "correct_both": ("correct_both", "accuracy_both"),
            "equal": ("equal", "equal_share"),
        }.items():
            k, n, percent = COUNT.match(published[key]).groups()  # type: ignore[union-attr]
            assert (ours[count], ours["n"]) == (int(k), int(n)), (domain, key)
            assert ours[share] == round(float(percent) / 100, 6), (domain, key)
        assert ours["accuracy_average"] == round(float(published["correct_average"].rstrip("%")) / 100, 6)
        for key in ("kappa_False", "kappa_True", "kappa_average", "kappa_agreement"):
            assert ours["llmbar_kappa"][key] == published[key], (domain, key)  # to the bit
        # positional agreement is the same figure by the report's own definition
        assert judge["position"]["n_consistent"] == ours["equal"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            "rubric:\n  name: r\n  criteria:\n    - name: overall\n      scale: [1, 5]",
            "need a rubric criterion with scale [-1, 1]",
        ),
    ],
)
def test_what_pairs_cannot_have_yet_is_refused_with_the_line(
    shared_data: Path, tmp_path: Path, monkeypatch, change: str, message: str
) -> None:
    from studyapp.importers import ImportFailure

    monkeypatch.setenv("CONCORDANCE_SHARED_DATA", str(shared_data))
    text = SPEC.read_text().replace("../../../../shared/data", str(shared_data))
    start, end = text.index("rubric:"), text.index("annotation:")
    text = text[:start] + change + "\n" + text[end:]
    spec = tmp_path / "llmbar.yaml"
    spec.write_text(text)
    with pytest.raises(ImportFailure) as info:
        study_load(path=spec)
    assert info.value.line == 2 and message in info.value.message  # the first entry of Natural
    assert not Item.objects.exists()
