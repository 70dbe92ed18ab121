"""SQuALITY human evaluation (Wang, Pang, Chen, Phang & Bowman 2022; nyu-mll/SQuALITY).

`all-responses.jsonl` holds one story passage a line: ``passage-id`` and
``questions``, a mapping from the question's 0-based position (``"0"`` ...)
to the responses of three systems (``bart``, ``bart-dpr``, ``human``), each
``{"response": str, "reviews": [...]}``. A review has the reviewer's
``worker_id``, ratings 0-100 of ``correctness-rating``, ``selection-rating``
(the paper's *coverage*) and ``overall-rating``, ranks 1-3, and
``annotations`` (highlighted ``selection`` spans with free-text critiques).

Each response becomes a summary item ``squality/<passage>/<question>/<system>``:
the question and the story as the document (the story from
``stories_test.jsonl``, joined on ``metadata.passage_id``; question ``i`` of a
passage is its ``questions[i]``), the response as the summary. Each review
becomes an annotation by the external rater ``squality-<worker_id>`` (the ids
are stable across items: the same four people reviewed every passage) with the
ratings ``correctness``, ``coverage`` and ``overall`` on the published 0-100
scale, and the critiques as its comment. The ranks, the span count and the
system are kept in the item's metadata.

Options: ``stories`` (path of ``stories_test.jsonl``, relative to the
responses file; default: ``stories_test.jsonl`` beside it).
Anything that does not fit fails with the file, the line and the field, and
nothing is imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studyapp.importers.limits import ImportLimits, read_jsonl
from studyapp.importers.records import Fields, ImportFailure, ImportResult, ItemRecord, LabelRecord

SYSTEMS = ("bart", "bart-dpr", "human")
# The file's rating keys -> the study's criterion names (SQuALITY's "selection" is coverage).
CRITERIA = {"correctness-rating": "correctness", "selection-rating": "coverage", "overall-rating": "overall"}
SCALE = (0, 100)
RATER_PREFIX = "squality-"


def _stories(path: Path, limits: ImportLimits) -> dict[str, tuple[str, list[str]]]:
    """passage id -> (story text, question texts in order)."""
    out: dict[str, tuple[str, list[str]]] = {}
    for line, obj in read_jsonl(path, limits):
        f = Fields(path, line, obj)
        meta = Fields(path, line, f.get("metadata", dict), "metadata.")
        passage = meta.get("passage_id", str)
        document = f.text("document")
        questions = f.get("questions", list)
        texts = []
        for i, q in enumerate(questions):
            if not isinstance(q, dict):
                raise f.fail(f"questions[{i}]", "expected an object")
            texts.append(Fields(path, line, q, f"questions[{i}].").text("question_text"))
        if passage in out:
            raise meta.fail("passage_id", f"passage {passage!r} appears twice")
        out[passage] = (document, texts)
    return out


def _review(f: Fields, where: str, review: Any) -> LabelRecord:
    if not isinstance(review, dict):
        raise f.fail(where, "expected an object")
    r = Fields(f.path, f.line, review, f"{where}.")
    worker = r.get("worker_id", (str, int))
    ratings: dict[str, float] = {}
    for key, criterion in CRITERIA.items():
        value = r.get(key, (int, float))
        if not SCALE[0] <= value <= SCALE[1]:
            raise r.fail(key, f"{value} is outside the scale {SCALE[0]}-{SCALE[1]}")
        ratings[criterion] = float(value)
    critiques = []
    for j, span in enumerate(r.get("annotations", list, required=False, default=[])):
        if not isinstance(span, dict):
            raise r.fail(f"annotations[{j}]", "expected an object")
        s = Fields(f.path, f.line, span, f"{where}.annotations[{j}].")
        selection = s.get("selection", str, required=False, default="")
        notes = s.get("annotation", (list, str), required=False, default=[])
        notes = [notes] if isinstance(notes, str) else notes
        if not all(isinstance(n, str) for n in notes):
            raise s.fail("annotation", "expected strings")
        critiques.append(f"“{selection.strip()}”: {' / '.join(n.strip() for n in notes)}")
    return LabelRecord(rater=f"{RATER_PREFIX}{worker}", ratings=ratings, comment="\n".join(critiques))


def parse(path: Path, *, limits: ImportLimits, **options: Any) -> ImportResult:
    persona = options.get("persona")
    stories_path = path.parent / Path(options.get("stories") or "stories_test.jsonl")
    if not stories_path.is_file():
        raise ImportFailure(stories_path, None, None, "no such file (the `stories` option names it)")
    stories = _stories(stories_path, limits)
    items: list[ItemRecord] = []
    for line, obj in read_jsonl(path, limits):
        f = Fields(path, line, obj)
        passage = f.get("passage-id", str)
        if passage not in stories:
            raise f.fail("passage-id", f"passage {passage!r} is not in {stories_path.name}")
        story, question_texts = stories[passage]
        questions = f.get("questions", dict)
        if not questions:
            raise f.fail("questions", "empty")
        for key, systems in questions.items():
            if not key.isdigit() or int(key) >= len(question_texts):
                raise f.fail(
                    f"questions.{key}", f"no question {key} for passage {passage} in {stories_path.name}"
                )
            if not isinstance(systems, dict):
                raise f.fail(f"questions.{key}", "expected an object")
            question = question_texts[int(key)]
            for system, entry in systems.items():
                where = f"questions.{key}.{system}"
                if system not in SYSTEMS:
                    raise f.fail(where, f"unknown system (known: {', '.join(SYSTEMS)})")
                if not isinstance(entry, dict):
                    raise f.fail(where, "expected an object")
                e = Fields(path, line, entry, f"{where}.")
                response = e.text("response")
                reviews = e.get("reviews", list)
                labels = [_review(f, f"{where}.reviews[{j}]", rv) for j, rv in enumerate(reviews)]
                raters = [label.rater for label in labels]
                if len(set(raters)) != len(raters):
                    raise e.fail("reviews", "a reviewer reviewed this response twice")
                items.append(
                    ItemRecord(
                        external_id=f"squality/{passage}/{key}/{system}",
                        kind="summary",
                        line=line,
                        persona=persona,
                        document=f"**Question:** {question}\n\n{story}",
                        summary=response,
                        metadata={
                            "passage_id": passage,
                            "question": int(key),
                            "system": system,
                            "ranks": {
                                label.rater: {
                                    c: rv.get(f"{c}-rank") for c in ("correctness", "selection", "overall")
                                }
                                for label, rv in zip(labels, reviews, strict=True)
                            },
                            "n_critiques": sum(len(rv.get("annotations") or []) for rv in reviews),
                        },
                        labels=labels,
                    )
                )
    if not items:
        raise ImportFailure(path, None, None, "no responses")
    return ImportResult(items)
