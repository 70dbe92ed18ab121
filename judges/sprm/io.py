"""Saving and loading a trained SPRM: safetensors weights and a JSON card.

A model directory holds ``weights.safetensors`` (``head.*`` and, when trained,
``trajectory_head.*``) and ``card.json`` (encoder, featurizer spec, data hash,
variant, hyper-parameters, training metrics).
"""

from __future__ import annotations

import json
from pathlib import Path

from safetensors.torch import load_file, save_file

from judges.sprm.cache import EmbeddingCache
from judges.sprm.config import CARD_FILE, WEIGHTS_FILE
from judges.sprm.encoder import (
    BoundaryEncoder,
    CachedBoundaryEncoder,
    CachedSentenceEncoder,
    load_sentence_encoder,
)
from judges.sprm.features import BoundaryFeaturizer, Featurizer, SentenceFeaturizer
from judges.sprm.finetune import FinetunedFeaturizer, FinetuneSpec
from judges.sprm.head import SPRMHead
from judges.sprm.model import SPRMModel
from judges.sprm.trajectory import ALIGNMENT_WEIGHT

__all__ = [
    "CARD_FILE",
    "WEIGHTS_FILE",
    "featurizer_from_spec",
    "load_model",
    "new_featurizer",
    "save_checkpoint",
    "save_model",
]


def save_model(model: SPRMModel, out_dir: str | Path) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {f"head.{k}": v.contiguous() for k, v in model.head.state_dict().items()}
    if isinstance(model.featurizer, FinetunedFeaturizer):
        tensors.update({f"encoder.{k}": v for k, v in model.featurizer.state_dict().items()})
    if model.trajectory_head is not None:
        tensors.update(
            {f"trajectory_head.{k}": v.contiguous() for k, v in model.trajectory_head.state_dict().items()}
        )
    save_file(tensors, str(out / WEIGHTS_FILE))
    card = dict(model.card, alignment_weight=model.alignment_weight)
    (out / CARD_FILE).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    return out


def save_checkpoint(featurizer: FinetunedFeaturizer, head: SPRMHead, out_dir: str | Path) -> Path:
    """The encoder and head weights after an epoch (``encoder.*``, ``head.*``), as in a
    model directory's weights file; the card is written only by `save_model`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {f"head.{k}": v.detach().contiguous() for k, v in head.state_dict().items()}
    tensors.update({f"encoder.{k}": v for k, v in featurizer.state_dict().items()})
    save_file(tensors, str(out / WEIGHTS_FILE))
    return out


def featurizer_from_spec(spec: dict, cache_dir: str | Path | None = None) -> Featurizer:
    """Rebuild the featurizer a card names (loading its encoder)."""
    cache = EmbeddingCache(cache_dir) if cache_dir is not None else None
    if spec["kind"] == "sentence":
        encoder = load_sentence_encoder(spec.get("model_path"))
        if encoder.encoder_id != spec["encoder_id"]:
            raise ValueError(f"encoder {encoder.encoder_id!r} is not the card's {spec['encoder_id']!r}")
        return SentenceFeaturizer(CachedSentenceEncoder(encoder, cache), spec.get("model_path"))
    if spec["kind"] == "boundary":
        bencoder = BoundaryEncoder(spec["model_dir"])
        if bencoder.encoder_id != spec["encoder_id"]:
            raise ValueError(f"encoder {bencoder.encoder_id!r} is not the card's {spec['encoder_id']!r}")
        return BoundaryFeaturizer(CachedBoundaryEncoder(bencoder, cache), spec["model_dir"])
    if spec["kind"] == "finetune":  # the base encoder; load_model puts the tuned weights in
        keys = ("max_length", "max_problem_tokens", "max_step_tokens", "train_layers")
        # a card from before `precision` was trained and scored in fp32
        fspec = FinetuneSpec(
            **{k: int(spec[k]) for k in keys if k in spec}, precision=str(spec.get("precision", "fp32"))
        )
        return FinetunedFeaturizer(fspec, spec.get("model_path"))
    raise ValueError(f"unknown featurizer kind {spec['kind']!r}")


def load_model(
    model_dir: str | Path,
    *,
    cache_dir: str | Path | None = None,
    featurizer: Featurizer | None = None,
) -> SPRMModel:
    """Load a saved model; pass `featurizer` to reuse an already loaded encoder."""
    model_dir = Path(model_dir)
    card = json.loads((model_dir / CARD_FILE).read_text())
    if featurizer is None:
        featurizer = featurizer_from_spec(card["featurizer"], cache_dir)
    elif featurizer.encoder_id != card["encoder_id"]:
        raise ValueError(f"featurizer {featurizer.encoder_id!r} is not the card's {card['encoder_id']!r}")
    tensors = load_file(str(model_dir / WEIGHTS_FILE))
    if isinstance(featurizer, FinetunedFeaturizer):
        state = {k[8:]: v for k, v in tensors.items() if k.startswith("encoder.")}
        if not state:
            raise ValueError(f"{model_dir / WEIGHTS_FILE} holds no fine-tuned encoder weights")
        featurizer.load_state_dict(state)
        if featurizer.encoder_id != card["encoder_id"]:
            raise ValueError(
                f"the encoder weights are {featurizer.encoder_id!r}, not the card's {card['encoder_id']!r}"
            )
    head = SPRMHead(card["feature_dim"], dropout=card["hyperparameters"]["dropout"])
    head.load_state_dict({k[5:]: v for k, v in tensors.items() if k.startswith("head.")})
    head.eval()
    traj = None
    traj_state = {k[16:]: v for k, v in tensors.items() if k.startswith("trajectory_head.")}
    if traj_state:
        traj = SPRMHead(traj_state["net.0.weight"].shape[1])
        traj.load_state_dict(traj_state)
        traj.eval()
    return SPRMModel(
        featurizer=featurizer,
        head=head,
        card=card,
        trajectory_head=traj,
        alignment_weight=float(card.get("alignment_weight", ALIGNMENT_WEIGHT)),
        calibration=card.get("calibration"),
    )


def new_featurizer(
    *,
    cache_dir: str | Path | None,
    backbone_dir: str | Path | None = None,
    finetune: FinetuneSpec | None = None,
) -> Featurizer:
    """The featurizer of a new model: frozen MiniLM sentences by default, the
    boundary states of a local Hugging Face model directory (`backbone_dir`), or,
    with `finetune`, MiniLM to be trained end to end (no cache: its weights change)."""
    if finetune is not None:
        return FinetunedFeaturizer(finetune, None if backbone_dir is None else str(backbone_dir))
    cache = EmbeddingCache(cache_dir) if cache_dir is not None else None
    if backbone_dir is None:
        return SentenceFeaturizer(CachedSentenceEncoder(load_sentence_encoder(), cache))
    encoder = BoundaryEncoder(backbone_dir)
    return BoundaryFeaturizer(CachedBoundaryEncoder(encoder, cache), str(backbone_dir))
