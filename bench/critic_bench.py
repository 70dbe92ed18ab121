"""Critic throughput against the fake OpenAI server with a fixed latency.

Prints judgments per second at several concurrencies beside the ideal
(concurrency / latency: every slot always busy, zero overhead), with the
client's CPU time per judgment, the rate that CPU alone allows on one core
("cpu cap"), the fake server's CPU time per request, when the first verdict
arrived ("first ms", ideally the latency) and the rate over the middle 80% of
verdicts as a fraction of the ideal ("steady": without the start-up burst and
the tail of the run), then runs the
same judge run again with a fresh judge object sharing the Redis cache and
counts the calls it makes (expected: zero).

The server runs in its own process (`python -m tests.support.openai_server`)
so that it does not compete with the client for the GIL. Tasks are BIG-Bench
Mistake traces read from ../shared/data (never copied into the repository).

    python bench/critic_bench.py [--latency 0.2] [--concurrency 8 32 128] [--rounds 10]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from judges.critic.judge import CriticJudge, run_sync  # noqa: E402
from judges.types import ReasoningTask, Step  # noqa: E402

# ../shared/data from the project root; CONCORDANCE_SHARED_DATA overrides (e.g. from a worktree)
DATA_DIR = Path(os.environ.get("CONCORDANCE_SHARED_DATA", ROOT / ".." / "shared" / "data"))
TRACES = DATA_DIR / "bigbench_mistake" / "multistep_arithmetic.jsonl"


def load_tasks(n: int, tag: str) -> list[ReasoningTask]:
    rows = [json.loads(line) for line in TRACES.read_text().splitlines() if line.strip()]
    tasks = []
    for i in range(n):
        row = rows[i % len(rows)]
        steps = tuple(Step(k, s, "response") for k, s in enumerate(row["steps"]))
        # the tag makes every task (and so every prompt) distinct within and across runs
        tasks.append(ReasoningTask(f"{tag}-{i}", f"{row['input']} [{tag}-{i}]", steps))
    return tasks


def server_stats(base_url: str) -> tuple[int, float]:
    """Chat calls the server has answered, and its process CPU time (s)."""
    with urllib.request.urlopen(base_url.removesuffix("/v1") + "/_fake/calls") as resp:
        stats = json.load(resp)
    return int(stats["chat"]), float(stats["cpu"])


def _arrived(times: list[float], index: int, verdict: object) -> None:
    times.append(time.perf_counter())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32, 128])
    parser.add_argument("--rounds", type=int, default=20, help="tasks = rounds x concurrency")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("CONCORDANCE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/5"),
    )
    args = parser.parse_args()

    server = subprocess.Popen(
        [sys.executable, "-m", "tests.support.openai_server", "--latency", str(args.latency)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    prefix = f"concordance:bench:{uuid.uuid4().hex}:"
    try:
        base_url = server.stdout.readline().strip()  # type: ignore[union-attr]
        config = {
            "model": "fake-model",
            "base_url": base_url,
            "api_key_env": None,
            "timeout": 30,
            "redis_url": args.redis_url,
            "cache_prefix": prefix,
        }
        print(f"fake server {base_url}, latency {args.latency * 1000:.0f} ms, cpus {os.cpu_count()}")
        # warm-up: the process's first run pays for lazy imports, not the endpoint
        CriticJudge.from_config({**config, "cache": False}).judge(load_tasks(8, "warm"))
        head: tuple[str, ...] = ("concurrency", "tasks", "seconds", "judg/s", "ideal", "of ideal")
        head += ("cpu ms/j", "cpu cap", "server ms", "first ms", "steady")
        print("{:>11} {:>6} {:>8} {:>8} {:>8} {:>9} {:>9} {:>8} {:>9} {:>9} {:>9}".format(*head))
        last_tasks: list[ReasoningTask] = []
        for c in args.concurrency:
            tasks = load_tasks(c * args.rounds, f"c{c}")
            judge = CriticJudge.from_config({**config, "concurrency": c})
            _, server_cpu = server_stats(base_url)
            done_at: list[float] = []  # when each verdict arrived
            arrived = functools.partial(_arrived, done_at)
            start, cpu = time.perf_counter(), time.process_time()
            verdicts = run_sync(judge.ajudge(tasks, on_verdict=arrived))
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
            server_cpu = server_stats(base_url)[1] - server_cpu
            assert all(v.ok for v in verdicts), [v.error for v in verdicts if not v.ok][:3]
            rate, ideal = len(tasks) / elapsed, c / args.latency
            # cpu cap: the rate at which this process's CPU per judgment alone would saturate a core
            per = cpu / len(tasks)
            row = f"{c:>11} {len(tasks):>6} {elapsed:>8.2f} {rate:>8.1f} {ideal:>8.1f}"
            row += f" {rate / ideal:>9.1%} {per * 1000:>9.2f} {1 / per:>8.0f}"
            # steady state: the middle 80% of verdicts, without the start-up burst and the tail
            lo, hi = done_at[len(done_at) // 10], done_at[len(done_at) * 9 // 10]
            steady = (len(done_at) * 9 // 10 - len(done_at) // 10) / (hi - lo)
            row += f" {server_cpu / len(tasks) * 1000:>9.2f} {(done_at[0] - start) * 1000:>9.0f}"
            print(f"{row} {steady / ideal:>9.1%}")
            last_tasks = tasks

        before, _ = server_stats(base_url)
        again = CriticJudge.from_config({**config, "concurrency": args.concurrency[-1]})
        start = time.perf_counter()
        verdicts = again.judge(last_tasks)
        elapsed = time.perf_counter() - start
        calls = server_stats(base_url)[0] - before
        print(
            f"second run of the last judge run ({len(last_tasks)} tasks, fresh judge, shared "
            f"Redis cache): {calls} calls, {again.stats['cache_hits']} cache hits, "
            f"{elapsed:.2f} s, all ok: {all(v.ok for v in verdicts)}"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
        import redis

        client = redis.Redis.from_url(args.redis_url)
        for key in client.scan_iter(prefix + "*"):
            client.delete(key)
        client.close()


if __name__ == "__main__":
    main()
