"""The SPRM judge's configuration, and the checks of its model directory that need
neither torch nor the encoder (so a study spec is checked in milliseconds)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from judges.config import MODEL_INVALID, MODEL_MISSING, ConfigProblem, JudgeConfigError, JudgeConfigModel

__all__ = ["CARD_FILE", "CARD_FORMATS", "WEIGHTS_FILE", "SPRMConfig", "read_card"]

WEIGHTS_FILE = "weights.safetensors"
CARD_FILE = "card.json"
CARD_FORMATS = ("concordance-sprm/1",)  # the card formats load_model reads
# what load_model reads from a card: key path -> type
_CARD_KEYS: dict[tuple[str, ...], type | tuple[type, ...]] = {
    ("encoder_id",): str,
    ("featurizer",): dict,
    ("featurizer", "kind"): str,
    ("feature_dim",): int,
    ("variant",): str,
    ("hyperparameters",): dict,
    ("hyperparameters", "dropout"): (int, float),
}


class SPRMConfig(JudgeConfigModel):
    model_dir: str = Field(min_length=1)
    threshold: float | str = 0.5  # "outcome": the card's outcome_threshold
    batch_size: int = Field(default=64, ge=1)
    cache_dir: str | None = None  # the embedding cache

    @field_validator("threshold")
    @classmethod
    def _inside_unit_interval(cls, value: float | str) -> float | str:
        if value != "outcome" and (isinstance(value, str) or not 0.0 < value < 1.0):
            raise ValueError('must be a number between 0 and 1 (exclusive), or "outcome"')
        return value

    def readiness(self, env: Mapping[str, str] | None = None) -> list[ConfigProblem]:
        """What is wrong with the model directory, read without loading the model."""
        try:
            card = read_card(self.model_dir)
        except JudgeConfigError as exc:
            return exc.problems
        if self.threshold == "outcome" and not isinstance(
            (card.get("outcome_threshold") or {}).get("value"), (int, float)
        ):
            return [
                ConfigProblem(
                    f"the model in {_shown(self.model_dir)} has no outcome_threshold: give a number",
                    ("threshold",),
                    MODEL_INVALID,
                )
            ]
        return []


def _shown(path: str | Path) -> str:
    path = Path(path)
    return str(path) if path.is_absolute() else f"{path} ({path.resolve()})"


def read_card(model_dir: str | Path) -> dict[str, Any]:
    """The card of the model in `model_dir`, checked for what loading it needs; a
    `JudgeConfigError` on `model_dir` saying what is missing or wrong."""
    where = _shown(model_dir)
    directory = Path(model_dir)

    def problem(message: str, code: str = MODEL_INVALID) -> JudgeConfigError:
        return JudgeConfigError([ConfigProblem(message, ("model_dir",), code)])

    if not directory.exists():
        raise problem(f"no model directory at {where}", MODEL_MISSING)
    if not directory.is_dir():
        raise problem(f"{where} is not a directory")
    card_path = directory / CARD_FILE
    if not card_path.is_file():
        raise problem(f"no trained model in {where}: {CARD_FILE} is missing", MODEL_MISSING)
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise problem(f"cannot read {card_path}: {exc}") from None
    except ValueError as exc:
        raise problem(f"{card_path} is not JSON ({exc})") from None
    if not isinstance(card, dict):
        raise problem(f"{card_path} is not a JSON object")
    if card.get("format") not in CARD_FORMATS:
        raise problem(
            f"{card_path} is format {card.get('format')!r}, not {' or '.join(CARD_FORMATS)}: "
            "not a model this version can load"
        )
    for keys, kind in _CARD_KEYS.items():
        value: Any = card
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if not isinstance(value, kind) or isinstance(value, bool):
            raise problem(f"{card_path} has no valid {'.'.join(keys)}")
    if not (directory / WEIGHTS_FILE).is_file():
        raise problem(f"{where} has no {WEIGHTS_FILE}")
    return card
