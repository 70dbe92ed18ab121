"""Every way a critic's configuration can be wrong is a problem on its key, with a
message that says what is wrong: the mapping alone (what a spec can get wrong), then
what it names outside itself (environment variables, Redis, prompt files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from judges.base import build_judge, judge_config_problems
from judges.config import ENV_UNSET, FILES_MISSING, INVALID, NEEDS_REDIS, UNKNOWN_KIND, JudgeConfigError

OK: dict[str, Any] = {"model": "m", "api_key_env": None}


URL = "must be an http:// or https:// URL"
GE1 = "Input should be greater than or equal to 1"
ENV_NAME = "String should match pattern '^[A-Za-z_][A-Za-z0-9_]*$'"


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({}, ["model: required, not given"]),
        ({"model": ""}, ["model: String should have at least 1 character (got '')"]),
        ({**OK, "base_url": ""}, [f"base_url: {URL} (got '')"]),
        ({**OK, "base_url": "localhost:8000/v1"}, [f"base_url: {URL} (got 'localhost:8000/v1')"]),
        ({**OK, "base_url": "http://x/v1", "base_url_env": "U"}, ["give base_url or base_url_env, not both"]),
        ({**OK, "concurrency": 0}, [f"concurrency: {GE1} (got 0)"]),
        ({**OK, "temperature": 2.5}, ["temperature: Input should be less than or equal to 2 (got 2.5)"]),
        ({**OK, "temperature": -1}, ["temperature: Input should be greater than or equal to 0 (got -1)"]),
        ({**OK, "max_attempts": 0}, [f"max_attempts: {GE1} (got 0)"]),
        ({**OK, "timeout": 0}, ["timeout: Input should be greater than 0 (got 0)"]),
        ({**OK, "samples": "three"}, ["samples: Input should be a valid integer, unable to parse string"]),
        ({**OK, "structured_output": "yes"}, ["structured_output: Input should be 'auto', 'json_schema' or"]),
        ({**OK, "api_key_env": "OPENAI API KEY"}, [f"api_key_env: {ENV_NAME} (got 'OPENAI API KEY')"]),
        ({**OK, "concurency": 4}, ["concurency: unknown key (did you mean 'concurrency'?)"]),
        (
            {**OK, "price": {"input_per_1m": 1, "output": 2}},
            [
                "price.output_per_1m: required, not given",
                "price.output: unknown key (did you mean 'output_per_1m'?)",
            ],
        ),
    ],
)
def test_what_the_spec_can_get_wrong(config, expected):
    problems = judge_config_problems("critic", config, ready=False)
    assert len(problems) == len(expected)
    for problem, text in zip(problems, expected, strict=True):
        assert str(problem).startswith(text), str(problem)
        assert problem.code == INVALID
    with pytest.raises(JudgeConfigError):
        build_judge("critic", config)


def test_an_unknown_kind_is_a_problem_too():
    [problem] = judge_config_problems("oracle", {})
    assert (str(problem), problem.code) == ("unknown judge kind 'oracle' (known: critic, sprm)", UNKNOWN_KIND)
    with pytest.raises(JudgeConfigError, match="unknown judge kind 'oracle'"):
        build_judge("oracle", {})


def test_variables_it_names_must_be_set(monkeypatch):
    for name in ("CONC_TEST_KEY", "CONC_TEST_URL", "CONC_TEST_REDIS"):
        monkeypatch.delenv(name, raising=False)
    config = {
        "model": "m",
        "api_key_env": "CONC_TEST_KEY",
        "base_url_env": "CONC_TEST_URL",
        "redis_url_env": "CONC_TEST_REDIS",
    }
    assert judge_config_problems("critic", config, ready=False) == []
    problems = judge_config_problems("critic", config)
    assert [(str(p), p.code) for p in problems] == [
        ("api_key_env: environment variable CONC_TEST_KEY is not set", ENV_UNSET),
        ("base_url_env: environment variable CONC_TEST_URL is not set", ENV_UNSET),
        ("redis_url_env: environment variable CONC_TEST_REDIS is not set", ENV_UNSET),
    ]
    with pytest.raises(
        JudgeConfigError, match=r"^api_key_env: environment variable CONC_TEST_KEY is not set; "
    ):
        build_judge("critic", config)
    monkeypatch.setenv("CONC_TEST_KEY", "sk-1")
    monkeypatch.setenv("CONC_TEST_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("CONC_TEST_REDIS", "redis://127.0.0.1:6379/3")
    assert judge_config_problems("critic", config) == []
    # the default, OPENAI_API_KEY, is checked the same way
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert [str(p) for p in judge_config_problems("critic", {"model": "m"})] == [
        "api_key_env: environment variable OPENAI_API_KEY is not set"
    ]


def test_a_shared_rate_limit_needs_redis():
    [problem] = judge_config_problems("critic", {**OK, "tpm": 1000})
    assert (str(problem), problem.code) == (
        "tpm: a shared rate limit needs Redis: set redis_url or redis_url_env",
        NEEDS_REDIS,
    )
    assert judge_config_problems("critic", {**OK, "tpm": 1000, "redis_url": "redis://127.0.0.1:6379/3"}) == []


def test_a_prompt_dir_needs_all_six_templates(tmp_path: Path):
    (tmp_path / "step_critique.system.txt").write_text("s")
    (tmp_path / "step_critique.user.txt").write_text("u")
    [problem] = judge_config_problems("critic", {**OK, "prompt_dir": str(tmp_path)})
    assert (str(problem), problem.code) == (
        f"prompt_dir: {tmp_path} lacks rubric_rating.system.txt, rubric_rating.user.txt, "
        "pairwise_preference.system.txt, pairwise_preference.user.txt",
        FILES_MISSING,
    )
    with pytest.raises(JudgeConfigError):  # not a FileNotFoundError from deep inside
        build_judge("critic", {**OK, "prompt_dir": str(tmp_path / "nowhere")})
