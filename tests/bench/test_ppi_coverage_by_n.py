"""bench/ppi_coverage_by_n.py: the sizes it runs, its summary counts, and bad --labels refused."""

from __future__ import annotations

import argparse
import re

import pytest

from tests.bench import load_script

byn = load_script("ppi_coverage_by_n")
TASKS = ("multistep_arithmetic", "tracking_shuffled_objects", "word_sorting")


def test_labels_range_and_bad_ranges():
    assert byn._labels("40:60:10") == [40, 50, 60]
    for bad in ("40:60", "a:b:c", "60:40:5", "1:10:1", "40:60:0"):
        with pytest.raises(argparse.ArgumentTypeError):
            byn._labels(bad)


def test_run_prints_one_row_per_size_and_task_and_counts_them():
    out = byn.run(reps=20, seed=0, design="split-finite", labels=[50, 60, 400])
    tables = out.split("#### ")[1:]
    assert [t.split(" ")[0] for t in tables] == list(TASKS)
    for t in tables:  # 400 labels is more than a task's 300 traces: left out
        assert re.findall(r"^\| (\d+) \|", t, flags=re.M) == ["50", "60"]
    summary = out.split("against 93-97%:")[1]
    for task in TASKS:
        line = next(s for s in summary.splitlines() if s.startswith(f"- {task}:"))
        counts = [int(x.split(":")[1].split(",")[0]) for x in line.split("; ")[1].split(", ")]
        assert sum(counts) == 2 and "over 2 sizes" in line


def test_main_refuses_bad_arguments(capsys):
    with pytest.raises(SystemExit):
        byn.main(["--labels", "60:40:5"])
    with pytest.raises(SystemExit):
        byn.main(["--reps", "0"])
    byn.main(["--reps", "5", "--labels", "50:50:1", "--design", "iid"])
    assert "design=iid, 5 repetitions per n" in capsys.readouterr().out
