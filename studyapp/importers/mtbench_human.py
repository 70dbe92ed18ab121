"""MT-Bench human judgments (Zheng et al., NeurIPS 2023; FastChat llm_judge,
``lmsys/mt_bench_human_judgments``), one judgment a line (JSONL) or a JSON list.

Each record has ``question_id``, ``model_a``, ``model_b``, ``winner``
(``model_a``, ``model_b``, ``tie`` or ``tie (bothbad)``), ``judge``, ``turn``
(1 or 2) and ``conversation_a`` / ``conversation_b`` (lists of
``{"role", "content"}`` messages). The records of one question, turn and pair
of models are one pairwise item ``mtbench/<question>/<turn>/<model>/<model>``,
the models in sorted order as responses A and B (a record with them the other
way round has its winner flipped). The prompt is the user turns up to
``turn``, each response that model's answers up to it. Each judge (``expert_3``,
``author_0``) is an external rater ``mtbench-<judge>``; judges whose id starts
with one of the ``judge_prefixes`` option (default ``gpt4``: FastChat's
``gpt4_pair`` split) become an imported judge instead. A judge who judged the
same item twice keeps the first verdict (the repeats are counted in the
warnings). Option ``criterion`` (default ``overall``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studyapp.importers.limits import ImportLimits, read_json_list, read_jsonl
from studyapp.importers.records import (
    PREFERENCE_VALUES,
    Fields,
    ImportFailure,
    ImportResult,
    ItemRecord,
    LabelRecord,
)

WINNERS = {"model_a": "A", "model_b": "B", "tie": "tie", "tie (bothbad)": "tie"}
FLIP = {"A": "B", "B": "A", "tie": "tie"}
RATER_PREFIX = "mtbench-"


def _records(path: Path, limits: ImportLimits) -> list[tuple[int, Any]]:
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip()
    if head.startswith(b"["):
        return read_json_list(path, limits)
    return list(read_jsonl(path, limits))


def _turns(f: Fields, name: str, turn: int) -> tuple[list[str], list[str]]:
    """The user and assistant messages of the conversation up to `turn`."""
    messages = f.get(name, list)
    users, answers = [], []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise f.fail(f"{name}[{i}]", "expected an object with role and content")
        m = Fields(f.path, f.line, message, f"{name}[{i}].")
        role, content = m.get("role", str), m.get("content", str)
        if role == "user":
            users.append(content)
        elif role == "assistant":
            answers.append(content)
        else:
            raise m.fail("role", f"must be 'user' or 'assistant', not {role!r}")
    if len(users) < turn or len(answers) < turn:
        raise f.fail(name, f"fewer than {turn} user and assistant turns")
    return users[:turn], answers[:turn]


def _markdown(texts: list[str]) -> str:
    if len(texts) == 1:
        return texts[0]
    return "\n\n".join(f"**Turn {i}.**\n\n{text}" for i, text in enumerate(texts, 1))


def parse(path: Path, *, limits: ImportLimits, **options: Any) -> ImportResult:
    criterion = str(options.get("criterion") or "overall")
    prefixes = tuple(options.get("judge_prefixes") or ("gpt4",))
    items: dict[str, ItemRecord] = {}
    raters: dict[str, set[str]] = {}
    repeats = 0
    for line, obj in _records(path, limits):
        if not isinstance(obj, dict):
            raise ImportFailure(path, line, None, "expected a JSON object")
        f = Fields(path, line, obj)
        question = f.get("question_id", (int, str))
        model_a, model_b = f.text("model_a"), f.text("model_b")
        if model_a == model_b:
            raise f.fail("model_b", "the same model as model_a")
        winner = f.get("winner", str)
        if winner not in WINNERS:
            raise f.fail("winner", f"must be one of {', '.join(WINNERS)}, not {winner!r}")
        judge = f.text("judge")
        turn = f.get("turn", int)
        if turn not in (1, 2):
            raise f.fail("turn", f"must be 1 or 2, not {turn}")
        users_a, answers_a = _turns(f, "conversation_a", turn)
        users_b, answers_b = _turns(f, "conversation_b", turn)
        if users_a != users_b:
            raise f.fail("conversation_b", "its user turns are not those of conversation_a")
        preference = WINNERS[winner]
        if model_b < model_a:  # the item's A is the first model in sorted order
            model_a, model_b, answers_a, answers_b = model_b, model_a, answers_b, answers_a
            preference = FLIP[preference]
        key = f"mtbench/{question}/{turn}/{model_a}/{model_b}"
        item = items.get(key)
        if item is None:
            item = items[key] = ItemRecord(
                external_id=key,
                kind="pairwise",
                line=line,
                problem=_markdown(users_a),
                response_a=_markdown(answers_a),
                response_b=_markdown(answers_b),
                metadata={"question_id": question, "turn": turn, "model_a": model_a, "model_b": model_b},
            )
        elif item.response_a != _markdown(answers_a) or item.response_b != _markdown(answers_b):
            raise f.fail("conversation_a", f"the answers differ from those of line {item.line} for this pair")
        seen = raters.setdefault(key, set())
        if judge in seen:
            repeats += 1
            continue
        seen.add(judge)
        is_judge = judge.startswith(prefixes)
        item.labels.append(
            LabelRecord(
                rater=judge if is_judge else f"{RATER_PREFIX}{judge}",
                rater_kind="judge" if is_judge else "external",
                ratings={criterion: PREFERENCE_VALUES[preference]},
            )
        )
    if not items:
        raise ImportFailure(path, None, None, "no judgments")
    warnings = (
        [f"{path}: {repeats} repeated judgments of a pair by the same judge ignored"] if repeats else []
    )
    return ImportResult(list(items.values()), warnings)
