"""Train an SPRM head from outcome labels: `manage.py train_sprm --data PATH --format F --out DIR`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from judges.sprm.data import Solution, split_by_group
from judges.sprm.finetune import PRECISIONS, FinetunedFeaturizer, FinetuneSpec
from judges.sprm.head import SPRMHead
from judges.sprm.io import new_featurizer, save_checkpoint, save_model
from judges.sprm.train import (
    BALANCES,
    ENCODERS,
    FILTER_CENTRES,
    VARIANTS,
    EpochLog,
    TrainConfig,
    calibration_split,
    fit,
)
from studyapp.importers import ImportFailure
from studyapp.importers.solutions import SPRM_FORMATS, read_solutions


def add_data_arguments(parser: CommandParser) -> None:
    """--data/--format/--split options, shared with evaluate_sprm."""
    parser.add_argument("--data", action="append", required=True, help="a data file; repeatable")
    parser.add_argument("--format", required=True, choices=SPRM_FORMATS)
    parser.add_argument(
        "--split",
        choices=["all", "train", "test"],
        default="all",
        help="use all solutions, or one side of a seeded split by problem",
    )
    parser.add_argument("--test-fraction", type=float, default=0.2)
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--cache-dir", default="runs/sprm-cache", help="embedding cache")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (1 is fastest on a busy machine)"
    )


def load_data(options: dict[str, Any]) -> list:
    torch.set_num_threads(options["threads"])
    try:
        solutions = read_solutions(options["data"], options["format"])
    except ImportFailure as exc:
        raise CommandError(str(exc)) from None
    if options["split"] != "all":
        train, test = split_by_group(
            solutions, test_fraction=options["test_fraction"], seed=options["split_seed"]
        )
        solutions = train if options["split"] == "train" else test
    if not solutions:
        raise CommandError("no reasoning items with steps in the data")
    return solutions


def train_settings(options: dict[str, Any]) -> tuple[TrainConfig, FinetuneSpec | None]:
    """The training configuration (and, with `--encoder finetune`, the encoder's spec) that
    the command's options ask for, with the defaults that depend on the encoder filled in;
    a ValueError for a setting out of range. (docs/results/sprm_domains_table.py trains on
    several formats at once with the command's own defaults through this.)"""
    finetune = options["encoder"] == "finetune"
    epochs = options["epochs"] if options["epochs"] is not None else (2 if finetune else 10)
    config = TrainConfig(
        variant=options["variant"],
        epochs=epochs,
        warmup_epochs=options["warmup_epochs"],
        lr=options["lr"],
        batch_size=options["batch_size"],
        seed=options["seed"],
        balance=options["balance"],
        filter_centre=options["filter_centre"],
        calibrate=not options["no_calibrate"],
        encoder=options["encoder"],
        encoder_lr=options["encoder_lr"],
        trace_batch=options["trace_batch"],
        calibration_holdout=(
            options["calibration_holdout"]
            if options["calibration_holdout"] is not None
            else (0.2 if finetune else 0.0)
        ),
    )
    spec = (
        FinetuneSpec(
            options["max_length"],
            options["max_problem_tokens"],
            options["max_step_tokens"],
            options["train_layers"],
            options["precision"],
        )
        if finetune
        else None
    )
    return config, spec


def finetune_trace_passes(solutions: Sequence[Solution], config: TrainConfig) -> int:
    """How many traces a fine-tuned training passes over in all (its progress bar's total):
    each epoch, every trace with steps but those of the calibration hold-out. A ValueError
    for a hold-out that leaves one side empty."""
    trained = calibration_split(solutions, config)[0]
    return config.epochs * sum(bool(s.steps) for s in trained)


class Command(BaseCommand):
    help = "Train an SPRM (or its ORM / last-step baseline) from outcome labels alone."

    def add_arguments(self, parser: CommandParser) -> None:
        add_data_arguments(parser)
        parser.add_argument("--out", required=True, help="model directory to write")
        parser.add_argument("--variant", choices=VARIANTS, default="sprm")
        parser.add_argument(
            "--encoder",
            choices=ENCODERS,
            default="frozen",
            help="frozen: a head on cached MiniLM features; finetune: MiniLM trained end to end",
        )
        parser.add_argument("--epochs", type=int, default=None, help="default 10 (frozen), 2 (finetune)")
        parser.add_argument("--warmup-epochs", type=int, default=1)
        parser.add_argument("--lr", type=float, default=1e-3, help="the head's learning rate")
        parser.add_argument("--encoder-lr", type=float, default=3e-5, help="finetune: the encoder's")
        parser.add_argument("--batch-size", type=int, default=256, help="frozen: steps per update")
        parser.add_argument("--trace-batch", type=int, default=8, help="finetune: traces per update")
        parser.add_argument("--balance", choices=BALANCES, default="global")
        parser.add_argument(
            "--filter-centre",
            choices=FILTER_CENTRES,
            default="balanced",
            help="sprm: the SPR filter compares a step's logit with the point of equal kept shares of "
            f"positive and negative steps over the last {TrainConfig.filter_window} training steps "
            "(balanced) or with 0 (zero, MetaStone-S1)",
        )
        parser.add_argument(
            "--no-calibrate", action="store_true", help="skip the calibration on training outcomes"
        )
        parser.add_argument("--max-length", type=int, default=256, help="finetune: word pieces a pass")
        parser.add_argument("--max-problem-tokens", type=int, default=96)
        parser.add_argument("--max-step-tokens", type=int, default=64)
        parser.add_argument(
            "--train-layers", type=int, default=2, help="finetune: top MiniLM layers trained (of 6)"
        )
        parser.add_argument(
            "--precision",
            choices=PRECISIONS,
            default="bf16",
            help="finetune: the encoder's arithmetic; bf16 (CPU autocast) costs ~40%% less CPU on a "
            "CPU with AMX/AVX512-BF16 and moved BBM step AUROC by 0.0002; fp32 elsewhere",
        )
        parser.add_argument(
            "--calibration-holdout",
            type=float,
            default=None,
            help="share of training problems kept out of training to fit the calibration on "
            "(default 0.2 with --encoder finetune, 0 with frozen)",
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--backbone-dir", default=None, help="local HF model: boundary states instead of MiniLM"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        solutions = load_data(options)
        missing = sum(s.outcome is None for s in solutions)
        if missing:
            raise CommandError(f"{missing} solutions have no outcome label")
        try:
            config, spec = train_settings(options)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        finetune = spec is not None
        n_pos = sum(bool(s.outcome) for s in solutions)
        self.stdout.write(
            f"{len(solutions)} solutions ({n_pos} correct), "
            f"{sum(len(s.steps) for s in solutions)} steps; variant {config.variant}"
        )
        featurizer = new_featurizer(
            cache_dir=options["cache_dir"], backbone_dir=options["backbone_dir"], finetune=spec
        )
        if finetune:  # a bar over the traces trained on (not the calibration's): an epoch takes minutes
            try:
                total, unit = finetune_trace_passes(solutions, config), "trace"
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        else:
            total, unit = config.epochs, "epoch"
        bar = tqdm(total=total, desc=f"train {config.variant} ({config.encoder})", unit=unit)

        def on_epoch(log: EpochLog) -> None:
            bar.set_postfix(
                loss=f"{log.loss:.4f}", kept_pos=f"{log.kept_pos:.3f}", kept_neg=f"{log.kept_neg:.3f}"
            )
            if not finetune:
                bar.update(1)

        def on_checkpoint(epoch: int, head: SPRMHead) -> None:
            assert isinstance(featurizer, FinetunedFeaturizer)
            save_checkpoint(featurizer, head, Path(options["out"]) / "checkpoints" / f"epoch-{epoch}")

        try:
            model = fit(
                solutions,
                featurizer,
                config,
                on_epoch=on_epoch,
                on_batch=bar.update if finetune else None,
                on_checkpoint=on_checkpoint if finetune else None,
            )
        except ValueError as exc:  # e.g. a calibration hold-out that leaves one side empty
            bar.close()
            raise CommandError(str(exc)) from None
        bar.close()
        save_model(model, options["out"])
        for h in model.card["training"]["history"]:
            flag = "  COLLAPSED" if h["collapsed"] else ""
            centre = "" if h.get("centre") is None else f" (filter centre {h['centre']:+.3f})"
            self.stdout.write(
                f"epoch {h['epoch']} {h['phase']}: loss {h['loss']:.4f} "
                f"kept positives {h['kept_pos']:.3f} kept negatives {h['kept_neg']:.3f}{centre}{flag}"
            )
        if model.card["training"]["collapsed"]:
            self.stdout.write(
                self.style.WARNING(
                    "training COLLAPSED: the SPR filter kept no step of one class in epochs "
                    f"{model.card['training']['collapsed_epochs']}; treat this model as a failed run"
                )
            )
        self.stdout.write(self.style.SUCCESS(f"saved {options['out']}"))
