"""Start-up loads no statistics: the URLconf and `manage.py check` import neither scipy nor pandas.

Every web worker imports the URL configuration and every management command
runs the system checks; the statistics stack (scipy, pandas, plotly, and the
SPRM's torch and sentence-transformers) loads only where a report is built
or a judge runs. Each check runs in a fresh interpreter, since this test
process has long imported all of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
HEAVY = (
    "scipy",
    "pandas",
    "plotly",
    "sklearn",
    "statsmodels",
    "torch",
    "sentence_transformers",
    "transformers",
)
REPORT = f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)), file=sys.stderr)"

URLCONF = f"""
import json, sys
import django
django.setup()
import config.urls
{REPORT}
"""

CHECK = f"""
import json, runpy, sys
sys.argv = ["manage.py", "check"]
try:
    runpy.run_path("manage.py", run_name="__main__")
finally:
    {REPORT}
"""


def _loaded(program: str) -> list[str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("program", [URLCONF, CHECK], ids=["urlconf", "manage.py check"])
def test_start_up_loads_no_statistics(program):
    assert _loaded(program) == []
