from pathlib import Path

from judges.critic.judge import CriticJudge
from judges.critic.prompts import PromptTemplate, step_critique_values
from tests.judges.critic.conftest import reasoning_task

CONFIG = {"model": "m", "api_key_env": None}


def test_steps_are_numbered_and_sections_kept_apart():
    task = reasoning_task(n_traj=2, n_resp=1)
    values = step_critique_values(task)
    assert "<step_0>" in values["trajectory"] and "<step_1>" in values["trajectory"]
    assert "<step_2>" not in values["trajectory"]
    assert values["response"] == "<step_2>\nanswer step 0\n</step_2>"
    assert values["last_index"] == "2"
    text = PromptTemplate.load("step_critique").messages(**values)[1]["content"]
    assert text.index("[Thinking trajectory]") < text.index("<step_0>")
    assert text.index("<step_1>") < text.index("[Final response]") < text.index("<step_2>")


def test_a_trace_without_trajectory_says_so():
    values = step_critique_values(reasoning_task(n_traj=0, n_resp=2))
    assert values["trajectory"] == "(none)"


def test_version_is_the_content_hash_of_the_template_files(tmp_path: Path):
    builtin = Path(__file__).parents[3] / "judges" / "critic" / "prompts"
    for f in builtin.iterdir():
        (tmp_path / f.name).write_text(f.read_text())
    same = CriticJudge.from_config({**CONFIG, "prompt_dir": str(tmp_path)})
    assert same.version() == CriticJudge.from_config(CONFIG).version()

    (tmp_path / "rubric_rating.user.txt").write_text(
        (tmp_path / "rubric_rating.user.txt").read_text() + "\nBe strict.\n"
    )
    edited = CriticJudge.from_config({**CONFIG, "prompt_dir": str(tmp_path)})
    assert edited.prompts["rubric_rating"].version != same.prompts["rubric_rating"].version
    assert edited.prompts["step_critique"].version == same.prompts["step_critique"].version
    assert edited.version() != same.version()


def test_version_follows_output_parameters_not_transport_ones():
    base = CriticJudge.from_config(CONFIG).version()
    assert CriticJudge.from_config({**CONFIG, "temperature": 0.7}).version() != base
    assert CriticJudge.from_config({**CONFIG, "samples": 5}).version() != base
    assert CriticJudge.from_config({**CONFIG, "model": "other"}).version() != base
    assert CriticJudge.from_config({**CONFIG, "timeout": 3, "concurrency": 2}).version() == base


def test_the_prompts_name_the_items_own_answer_keys():
    from judges.critic.prompts import rubric_values
    from tests.judges.critic.conftest import summary_task

    text = PromptTemplate.load("rubric_rating").messages(**rubric_values(summary_task()))[1]["content"]
    assert text.endswith(
        '{"Relevance": {"rationale": "<short reason>", "score": <integer from 1 to 5>}, '
        '"Fluency": {"rationale": "<short reason>", "score": <integer from 1 to 5>}}'
    )
    values = step_critique_values(reasoning_task(n_traj=1, n_resp=2))
    text = PromptTemplate.load("step_critique").messages(**values)[1]["content"]
    assert 'one key in "steps" for every step, from step_0 to step_2' in text
