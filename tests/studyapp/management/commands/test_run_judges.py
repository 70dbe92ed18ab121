"""`manage.py run_judges` for judges that cannot run: the exact message, naming the
judge and what fixes it, and exit status 1, without a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import execute_from_command_line

from studyapp.models import JudgeRun
from studyapp.services.study_load import study_load

pytestmark = pytest.mark.django_db

DEMO = Path(__file__).resolve().parents[4] / "fixtures" / "demo" / "study.yaml"


@pytest.fixture
def run_manage(monkeypatch):
    """`python manage.py ARGV` in this process: its exit status. The command closes the
    database connections when it ends, which would end the test's transaction too."""
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)

    def run(*argv: str) -> int:
        try:
            execute_from_command_line(["manage.py", *argv])
        except SystemExit as exc:
            return int(exc.code or 0)
        return 0

    return run


@pytest.fixture
def demo_loaded_with_load_study(monkeypatch, tmp_path):
    """The demo spec loaded with load_study instead of demo: its SPRM was never trained,
    and OPENAI_API_KEY is not set."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("CONCORDANCE_VAR_DIR", str(tmp_path))
    study_load(path=DEMO)
    return tmp_path / "models" / "demo-sprm"


SPRM_MESSAGE = (
    "judge sprm: model_dir: no model directory at {model_dir}. To fix: train one with "
    "`python manage.py train_sprm --data FILE --format FORMAT --out {model_dir}` "
    "(the demo study's: `python manage.py demo` trains it)."
)
CRITIC_MESSAGE = (
    "judge critic: api_key_env: environment variable OPENAI_API_KEY is not set. To fix: set it where "
    "runs are started (web server, run_judges) and for the Celery workers."
)


def test_an_untrained_sprm_is_named_with_the_command_that_trains_it(
    demo_loaded_with_load_study, run_manage, capsys
):
    status = run_manage("run_judges", "demo", "--judge", "sprm")
    err = capsys.readouterr().err
    assert status == 1
    assert err == "CommandError: " + SPRM_MESSAGE.format(model_dir=demo_loaded_with_load_study) + "\n"
    assert "Traceback" not in err and not JudgeRun.objects.exists()


def test_every_judge_that_cannot_start_is_named(demo_loaded_with_load_study, run_manage, capsys):
    status = run_manage("run_judges", "demo")
    out, err = capsys.readouterr()
    assert status == 1 and out == ""
    assert err == (
        f"CommandError: {CRITIC_MESSAGE}\n{SPRM_MESSAGE.format(model_dir=demo_loaded_with_load_study)}\n"
    )
    assert not JudgeRun.objects.exists()


def test_the_judges_that_can_start_do(demo_loaded_with_load_study, run_manage, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    status = run_manage("run_judges", "demo")  # the critic starts, the SPRM cannot
    out, err = capsys.readouterr()
    run = JudgeRun.objects.get()
    assert status == 1 and run.rater.name == "critic"
    assert out == f"critic: run {run.pk}, 14 item(s) to judge (sync)\n"
    assert err == "CommandError: " + SPRM_MESSAGE.format(model_dir=demo_loaded_with_load_study) + "\n"
