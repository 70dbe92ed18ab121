"""analysis.replacement.alt_test against the authors' reference implementation on real data.

The expected figures were computed by the authors' own ``alt_test`` (Calderon,
Reichart & Dror, ACL 2025; github nitaytech/AltTest, ``alt_test_example.ipynb``,
commit 18428b1) on the shared SQuALITY and HANNA files, with
``python docs/results/alt_test_reference.py --notebook alt_test_example.ipynb``:
winning rate, advantage probability and each left-out annotator's p-value.
The arrays below are built from the files independently of that script.
"""

from __future__ import annotations

import ast
import csv
import json
from pathlib import Path

import numpy as np
import pytest

from analysis.replacement import alt_test

# (winning rate, advantage probability, {left-out annotator: p-value})
REFERENCE: dict[str, tuple[float, float, dict[str, float]]] = {
    "squality/correctness/squality-2": (
        1.0,
        0.7311111111111112,
        {
            "squality-3": 1.113282142954168e-05,
            "squality-6": 1.5466084987955942e-26,
            "squality-8": 4.1499423685682204e-06,
        },
    ),
    "squality/correctness/squality-3": (
        0.3333333333333333,
        0.6466666666666666,
        {
            "squality-6": 3.141608130834564e-25,
            "squality-2": 0.590997113584073,
            "squality-8": 0.07737822492185858,
        },
    ),
    "squality/correctness/squality-6": (
        0.0,
        0.2088888888888889,
        {"squality-3": 0.999999999998266, "squality-2": 0.9999999999999027, "squality-8": 0.9999999997393493},
    ),
    "squality/correctness/squality-8": (
        0.6666666666666666,
        0.6422222222222222,
        {
            "squality-3": 0.003631628961707097,
            "squality-6": 7.400934958278883e-22,
            "squality-2": 0.692139495796648,
        },
    ),
    "squality/coverage/squality-2": (
        0.0,
        0.48444444444444446,
        {
            "squality-3": 0.16730299687504538,
            "squality-6": 0.3437545974729683,
            "squality-8": 0.7701669939845346,
        },
    ),
    "squality/coverage/squality-3": (
        0.3333333333333333,
        0.56,
        {
            "squality-6": 0.2744643693280787,
            "squality-2": 0.0027292698353613737,
            "squality-8": 0.044530656899430955,
        },
    ),
    "squality/coverage/squality-6": (
        1.0,
        0.6311111111111112,
        {
            "squality-3": 0.0002506088693142965,
            "squality-2": 0.00019642561708536085,
            "squality-8": 0.009940946275093893,
        },
    ),
    "squality/coverage/squality-8": (
        0.6666666666666666,
        0.5977777777777776,
        {
            "squality-3": 0.013346225537347694,
            "squality-6": 0.05121432156351873,
            "squality-2": 3.392281008768892e-06,
        },
    ),
    "squality/overall/squality-2": (
        0.0,
        0.46222222222222226,
        {
            "squality-3": 0.48315715284657385,
            "squality-6": 0.31893113035793996,
            "squality-8": 0.6175802415243137,
        },
    ),
    "squality/overall/squality-3": (
        0.6666666666666666,
        0.5777777777777778,
        {
            "squality-6": 0.07231978878370321,
            "squality-2": 0.00011958542834158387,
            "squality-8": 0.013929297325544262,
        },
    ),
    "squality/overall/squality-6": (
        0.6666666666666666,
        0.5777777777777778,
        {
            "squality-3": 0.006173242340236974,
            "squality-2": 0.00045140675512091,
            "squality-8": 0.029998185875473173,
        },
    ),
    "squality/overall/squality-8": (
        0.3333333333333333,
        0.5688888888888889,
        {
            "squality-3": 0.04575756925696645,
            "squality-6": 0.029998185875473173,
            "squality-2": 2.755529114106147e-05,
        },
    ),
    "hanna/coherence/Beluga-13B/p1": (
        1.0,
        0.6221590909090908,
        {
            "hanna-human-1": 1.163497003457838e-13,
            "hanna-human-2": 3.7939883264616305e-12,
            "hanna-human-3": 7.707659530122304e-14,
        },
    ),
    "hanna/coherence/Mistral-7B/p1": (
        1.0,
        0.6556186868686869,
        {
            "hanna-human-1": 2.284201771825723e-28,
            "hanna-human-2": 2.4026412690185825e-23,
            "hanna-human-3": 1.8879389999808102e-23,
        },
    ),
    "hanna/coherence/Llama-13B/p1": (
        1.0,
        0.69760101010101,
        {
            "hanna-human-1": 4.632928416586967e-36,
            "hanna-human-2": 2.289099730740038e-36,
            "hanna-human-3": 1.7119201270330425e-33,
        },
    ),
    "hanna/coherence/ChatGPT/p1": (
        0.0,
        0.5044191919191919,
        {
            "hanna-human-1": 0.9999999879427336,
            "hanna-human-2": 0.9999999999995979,
            "hanna-human-3": 0.9999982981507469,
        },
    ),
}


def _squality(shared: Path, criterion: str) -> tuple[list[str], np.ndarray]:
    """Reviewers (sorted) x responses matrix of one criterion, NaN where not reviewed."""
    field = {"correctness": "correctness-rating", "coverage": "selection-rating", "overall": "overall-rating"}
    cells: dict[tuple[str, str], float] = {}
    for text in (shared / "squality" / "all-responses.jsonl").read_text().splitlines():
        line = json.loads(text)
        for q, systems in line["questions"].items():
            for system, entry in systems.items():
                for rv in entry["reviews"]:
                    cells[(f"squality-{rv['worker_id']}", f"{line['passage-id']}/{q}/{system}")] = rv[
                        field[criterion]
                    ]
    raters = sorted({r for r, _ in cells})
    units = sorted({u for _, u in cells})
    x = np.full((len(raters), len(units)), np.nan)
    for (r, u), v in cells.items():
        x[raters.index(r), units.index(u)] = v
    return raters, x


@pytest.mark.parametrize("criterion", ["correctness", "coverage", "overall"])
def test_each_squality_reviewer_as_the_judge_matches_the_reference(shared_data: Path, criterion: str) -> None:
    raters, x = _squality(shared_data, criterion)
    for i, candidate in enumerate(raters):
        others = [r for r in raters if r != candidate]
        res = alt_test(
            np.delete(x, i, axis=0), x[i], epsilon=0.15, alignment="neg_rmse", annotator_names=others
        )
        wr, ap, p_values = REFERENCE[f"squality/{criterion}/{candidate}"]
        assert res.winning_rate == pytest.approx(wr, abs=1e-12)
        assert res.advantage_probability == pytest.approx(ap, abs=1e-12)
        assert {a.annotator: a.p_value for a in res.annotators} == pytest.approx(
            p_values, rel=1e-9, abs=1e-300
        )
        assert all(a.n_instances >= 30 and a.test == "one-sided t-test" for a in res.annotators)


def test_hanna_llms_against_the_three_human_slots_match_the_reference(shared_data: Path) -> None:
    humans: list[list[float]] = [[], [], []]
    llms: dict[str, list[float]] = {}
    with (shared_data / "hanna" / "hanna_metric_scores_llm.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            for n in range(3):
                humans[n] += ast.literal_eval(row[f"Human {n + 1} CH"])
            for llm in ("Beluga-13B", "Mistral-7B", "Llama-13B", "ChatGPT"):
                llms.setdefault(llm, []).extend(ast.literal_eval(row[f"{llm} CH 1"]))
    names = [f"hanna-human-{n}" for n in (1, 2, 3)]
    for llm, scores in llms.items():
        res = alt_test(
            np.array(humans), np.array(scores), epsilon=0.1, alignment="neg_rmse", annotator_names=names
        )
        wr, ap, p_values = REFERENCE[f"hanna/coherence/{llm}/p1"]
        assert res.winning_rate == pytest.approx(wr, abs=1e-12)
        assert res.advantage_probability == pytest.approx(ap, abs=1e-12)
        assert {a.annotator: a.p_value for a in res.annotators} == pytest.approx(
            p_values, rel=1e-9, abs=1e-300
        )
