"""SPRM benchmark: scoring throughput beside the bare encoder, and training time
on the 5,276 GSM8K model solutions with the embedding cache cold and warm.

1. Scoring: the same GSM8K solutions are scored by a trained SPRM (featurize +
   head, no cache, so every step is encoded) and encoded by the bare MiniLM
   (the step texts only; the same `SentenceEncoder`, batched by word pieces,
   which the SPRM uses). Both are timed in the same run, alternating, best of
   `--repeats`; the SPRM's steps/s is printed as a fraction of the encoder's
   (target >= 85%). The SPRM also encodes each problem once, which the bare
   encoder does not: that is part of its cost.
2. Training: `fit` on all 5,276 solutions (`--epochs`, default 5) in a fresh
   subprocess with an empty cache (cold: encodes everything), then again in a
   fresh subprocess with that cache (warm: encodes nothing). Each subprocess
   prints its wall time and its peak resident memory (ru_maxrss).

Data are read from ../shared/data (CONCORDANCE_SHARED_DATA overrides), never copied.

    python bench/sprm_bench.py [--n-score 300] [--repeats 2] [--epochs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from judges.sprm.cache import EmbeddingCache  # noqa: E402
from judges.sprm.encoder import CachedSentenceEncoder, load_sentence_encoder  # noqa: E402
from judges.sprm.features import SentenceFeaturizer  # noqa: E402
from judges.sprm.train import TrainConfig, fit  # noqa: E402
from studyapp.importers.solutions import read_solutions  # noqa: E402

DATA_DIR = Path(os.environ.get("CONCORDANCE_SHARED_DATA", ROOT / ".." / "shared" / "data"))
GSM8K = DATA_DIR / "gsm8k" / "example_model_solutions.jsonl"


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def train_phase(cache_dir: str, epochs: int) -> None:
    """One training run in this process; prints a JSON line."""
    solutions = read_solutions([GSM8K], "gsm8k_solutions")
    start = time.perf_counter()
    encoder = load_sentence_encoder()
    load_s = time.perf_counter() - start
    calls = {"texts": 0}
    original = encoder.encode

    def encode(texts):  # count what really reaches the encoder
        calls["texts"] += len(texts)
        return original(texts)

    encoder.encode = encode  # type: ignore[method-assign]
    featurizer = SentenceFeaturizer(CachedSentenceEncoder(encoder, EmbeddingCache(cache_dir)))
    t0 = time.perf_counter()
    model = fit(solutions, featurizer, TrainConfig(variant="sprm", epochs=epochs, seed=0))
    total = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "solutions": len(solutions),
                "steps": model.card["n_steps"],
                "encoder_load_s": round(load_s, 1),
                "fit_s": round(total, 1),
                "texts_encoded": calls["texts"],
                "peak_rss_mib": round(peak_mib()),
            }
        )
    )


def scoring(n: int, repeats: int) -> None:
    solutions = read_solutions([GSM8K], "gsm8k_solutions")[:n]
    steps = [st.text for s in solutions for st in s.steps]
    encoder = load_sentence_encoder()
    # a quickly trained head (scoring speed does not depend on what it learnt)
    with tempfile.TemporaryDirectory() as tmp:
        warm = SentenceFeaturizer(CachedSentenceEncoder(encoder, EmbeddingCache(tmp)))
        model = fit(solutions, warm, TrainConfig(epochs=1))
    encoder.encode(steps[:64])  # warm up kernels
    problems = sorted({s.problem for s in solutions})
    best = dict.fromkeys(["st", "encoder", "sprm", "sprm_problems_cached"], float("inf"))
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            # a study encodes each problem once: a fresh cache holding the problems only
            problems_cache = EmbeddingCache(tmp)
            CachedSentenceEncoder(encoder, problems_cache).encode(problems)
            cached_problems = SentenceFeaturizer(CachedSentenceEncoder(encoder, problems_cache))
            t0 = time.perf_counter()
            encoder.model.encode(steps, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
            best["st"] = min(best["st"], time.perf_counter() - t0)
            t0 = time.perf_counter()
            encoder.encode(steps)
            best["encoder"] = min(best["encoder"], time.perf_counter() - t0)
            model.featurizer = SentenceFeaturizer(CachedSentenceEncoder(encoder, None))
            t0 = time.perf_counter()
            model.score(solutions)
            best["sprm"] = min(best["sprm"], time.perf_counter() - t0)
            model.featurizer = cached_problems
            t0 = time.perf_counter()
            model.score(solutions)
            best["sprm_problems_cached"] = min(best["sprm_problems_cached"], time.perf_counter() - t0)
    rate = {k: len(steps) / v for k, v in best.items()}
    print(
        f"scoring {len(solutions)} solutions, {len(steps)} steps (best of {repeats}), "
        f"{torch.get_num_threads()} torch thread(s)"
    )
    print(f"  (for reference: sentence-transformers' own encode, 64 texts a batch: {rate['st']:.1f} steps/s)")
    print(f"  bare encoder (MiniLM, the step texts)          {rate['encoder']:8.1f} steps/s")
    print(
        f"  SPRM score, cold (encodes problems and steps)  {rate['sprm']:8.1f} steps/s"
        f"  = {rate['sprm'] / rate['encoder']:.1%} of the encoder (target >= 85%)"
    )
    print(
        f"  SPRM score, problems already cached            {rate['sprm_problems_cached']:8.1f} steps/s"
        f"  = {rate['sprm_problems_cached'] / rate['encoder']:.1%} of the encoder"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--n-score", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--phase", choices=["all", "train"], default="all")
    parser.add_argument("--cache-dir")
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--keep-cache", help="write the cold run's cache here instead of a temp dir")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.phase == "train":
        train_phase(args.cache_dir, args.epochs)
        return
    scoring(args.n_score, args.repeats)
    if args.skip_training:
        return
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.keep_cache or tmp
        if Path(cache, "embeddings.sqlite").exists():
            sys.exit(f"{cache} already holds a cache: the cold run needs an empty one")
        for label in ("cold (empty cache)", "warm (cache from the cold run)"):
            out = subprocess.run(
                [sys.executable, __file__, "--phase", "train", "--cache-dir", cache,
                 "--epochs", str(args.epochs), "--threads", str(args.threads)],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"training {label}: {r['solutions']} solutions, {r['steps']} steps, "
                f"{args.epochs} epochs: fit {r['fit_s']} s (encoder load {r['encoder_load_s']} s "
                f"before it), texts encoded {r['texts_encoded']}, peak RSS {r['peak_rss_mib']} MiB"
            )


if __name__ == "__main__":
    main()
