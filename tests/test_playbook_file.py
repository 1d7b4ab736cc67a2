"""The playbook file: the shipped files load, and every mistake is one line naming the file, the step, the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.config import ConfigError, load_config
from bot.core.playbook_file import BUILT_IN, PlaybookError, load_playbook
from tests.test_config import clean_env, run_app

SHIPPED = sorted(BUILT_IN.parent.glob("*.toml"))
GOOD_STEP = 'title = "Step {n}"\nwhy = "Because {n}."\nsay = ["Line {n}."]\n'


def playbook_text(steps: int = 3, header: str = 'name = "Ours"\nlanguage = "en"\n', extra: str = "") -> str:
    body = "".join(f"[[steps]]\n{GOOD_STEP.format(n=n)}" for n in range(1, steps + 1))
    return header + body + extra


def problems_in(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "playbook.toml"
    path.write_text(text)
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    for problem in info.value.problems:
        assert problem.startswith(f"PLAYBOOK_FILE {path}") and "\n" not in problem
    return info.value.problems


def test_built_in_playbook_is_the_six_steps_defuse_always_had() -> None:
    playbook = load_playbook()
    assert playbook.name == "Six steps" and playbook.language == "en"
    assert playbook.titles == (
        "Thank them for the feedback",
        "Admit you don't have the details yet and ask them to explain",
        "Empathise",
        "Apologise sincerely and ask them to accept it",
        "Take action, then ask what else you can do",
        "Follow up later",
    )
    assert playbook.steps[0].why.startswith("Opening with thanks tells the customer you are on their side")
    assert playbook.steps[3].say == ("I'm sorry we let you down. Will you accept my apology while I get this sorted?",)
    assert all(s.why and s.say for s in playbook.steps)
    assert [s.asks for s in playbook.steps] == [None, None, None, "apology", "action", "plan"]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_playbook_loads(path: Path) -> None:
    playbook = load_playbook(path)
    assert 3 <= len(playbook.steps) <= 10
    assert [s.number for s in playbook.steps] == list(range(1, len(playbook.steps) + 1))


def test_a_second_playbook_ships() -> None:
    names = {load_playbook(path).name for path in SHIPPED}
    assert len(names) >= 2


def test_a_valid_file_keeps_its_words(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(playbook_text(extra='[[steps]]\ntitle = "Plan"\nwhy = "W."\nsay = ["a", "b"]\nasks = "plan"\n'))
    playbook = load_playbook(path)
    assert playbook.titles == ("Step 1", "Step 2", "Step 3", "Plan")
    assert playbook.steps[3].say == ("a", "b") and playbook.steps[3].asks == "plan"


@pytest.mark.parametrize(
    "text, expected",
    [
        (playbook_text(header='language = "en"\n'), ["name is missing or empty"]),
        (playbook_text(header='name = "x"\nlanguage = "English"\n'), ['language must be a language code such as language = "en"']),
        (playbook_text(steps=2), ["has 2 steps; a playbook has 3 to 10"]),
        (playbook_text(steps=11), ["has 11 steps; a playbook has 3 to 10"]),
        ('name = "x"\nlanguage = "en"\n', ["no steps; add 3 to 10 [[steps]]"]),
        (playbook_text(extra='colour = "red"\n'), ["step 3: unknown key 'colour'"]),
        (playbook_text(header='name = "x"\nlanguage = "en"\nauthor = "me"\n'), ["unknown key 'author'"]),
        (playbook_text(extra='[[steps]]\nwhy = "w"\nsay = ["s"]\n'), ["step 4: title is missing or empty"]),
        (playbook_text(extra='[[steps]]\ntitle = "t"\nsay = ["s"]\n'), ["step 4: why is missing or empty"]),
        (playbook_text(extra='[[steps]]\ntitle = "t"\nwhy = "w"\nsay = []\n'), ["step 4: say needs one or more lines"]),
        (playbook_text(extra='[[steps]]\ntitle = "t"\nwhy = "w"\nsay = ["s"]\nasks = "refund"\n'),
         ["step 4: asks = 'refund' is not known; use one of apology, action, plan"]),
        (playbook_text(extra=f'[[steps]]\ntitle = "{"t" * 76}"\nwhy = "w"\nsay = ["s"]\n'), ["step 4: title is 76 characters; keep it to 75"]),
        (playbook_text(extra='[[steps]]\ntitle = "Step 1"\nwhy = "w"\nsay = ["s"]\n'), ["two steps are titled 'step 1'"]),
        (playbook_text(extra='[[steps]]\ntitle = "a"\nwhy = "w"\nsay = ["s"]\nasks = "plan"\n'
                            '[[steps]]\ntitle = "b"\nwhy = "w"\nsay = ["s"]\nasks = "plan"\n'), ["steps 4, 5 all ask 'plan'"]),
        ('name = "x\nlanguage = "en"\n', ["not valid TOML"]),
    ],
)
def test_each_mistake_is_one_line_naming_the_step_and_the_fix(tmp_path: Path, text: str, expected: list[str]) -> None:
    found = problems_in(tmp_path, text)
    assert len(found) == len(expected), found
    for fragment, problem in zip(expected, found, strict=True):
        assert fragment in problem, (fragment, problem)


def test_several_mistakes_are_all_reported(tmp_path: Path) -> None:
    found = problems_in(tmp_path, playbook_text(steps=2, header='language = "x y"\n'))
    assert len(found) == 3  # name, language, step count


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError) as info:
        load_playbook(tmp_path / "nope.toml")
    assert info.value.problems == [f"PLAYBOOK_FILE {tmp_path / 'nope.toml'}: no such file; check the path, or unset "
                                   "PLAYBOOK_FILE for the built-in playbook."]
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00name")
    with pytest.raises(PlaybookError) as info:
        load_playbook(binary)
    assert "cannot be read (it is not UTF-8 text)" in info.value.problems[0]


def test_config_reports_playbook_problems_beside_the_others(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(playbook_text(steps=2))
    with pytest.raises(ConfigError) as info:
        load_config({"SLACK_BOT_TOKEN": "xoxb-1-2-3", "SLACK_SIGNING_SECRET": "abc123", "PLAYBOOK_FILE": str(path), "PORT": "x"})
    assert [p.split()[0] for p in info.value.problems] == ["PORT", "PLAYBOOK_FILE"]


def test_config_defaults_to_the_built_in_playbook() -> None:
    assert load_config({"SLACK_BOT_TOKEN": "xoxb-1-2-3", "SLACK_SIGNING_SECRET": "abc123"}).playbook == load_playbook()


def test_app_start_stops_on_a_broken_playbook_in_one_line_per_problem(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(playbook_text(steps=2, extra='[[steps]]\ntitle = "t"\nwhy = "w"\nsay = ["s"]\nasks = "x"\n'))
    code, output, elapsed = run_app(tmp_path, clean_env(SLACK_BOT_TOKEN="xoxb-1-2-3", SLACK_SIGNING_SECRET="abc123",
                                                        PLAYBOOK_FILE=str(path)))
    assert code == 2 and elapsed < 5 and "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and "step 3: asks = 'x'" in lines[0], output
