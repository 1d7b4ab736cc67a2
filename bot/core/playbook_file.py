"""Reading a team's playbook file (TOML): its name, language and 3 to 10 steps.

Every mistake becomes one line naming PLAYBOOK_FILE, the step and the fix, so a lead can correct the
whole file in one go; nothing here raises past `load_playbook` except PlaybookError.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BUILT_IN = Path(__file__).resolve().parent.parent / "playbooks" / "six-steps.toml"
ASKS = ("apology", "action", "plan")
MIN_STEPS, MAX_STEPS = 3, 10
# Slack's limits for where these strings are shown: a button or option label (75), a section (3000).
MAX_NAME, MAX_TITLE, MAX_WHY, MAX_SAY, MAX_SAY_LINES = 60, 75, 600, 600, 5
_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_TOP_KEYS = {"name", "language", "steps"}
_STEP_KEYS = {"title", "why", "say", "asks"}


class PlaybookError(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class PlaybookStep:
    number: int
    title: str
    why: str
    say: tuple[str, ...]
    asks: str | None = None


@dataclass(frozen=True)
class Playbook:
    name: str
    language: str
    steps: tuple[PlaybookStep, ...]

    @property
    def titles(self) -> tuple[str, ...]:
        return tuple(step.title for step in self.steps)


def load_playbook(path: Path | None = None) -> Playbook:
    """The playbook in `path`, or the built-in six steps; PlaybookError lists every problem."""
    source = path or BUILT_IN
    where = f"PLAYBOOK_FILE {source}"
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlaybookError([f"{where}: no such file; check the path, or unset PLAYBOOK_FILE for the built-in playbook."]) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "it is not UTF-8 text"
        raise PlaybookError([f"{where}: cannot be read ({reason}); make it a readable UTF-8 file."]) from None
    except tomllib.TOMLDecodeError as exc:
        raise PlaybookError([f"{where}: not valid TOML ({exc}); fix the syntax there (strings need quotes)."]) from None
    return parse_playbook(raw, where)


def parse_playbook(raw: dict[str, Any], where: str) -> Playbook:
    problems: list[str] = []
    for key in sorted(set(raw) - _TOP_KEYS):
        problems.append(f"{where}: unknown key {key!r}; the file has name, language and [[steps]] only.")
    name = _text(raw, "name", MAX_NAME, f"{where}: name", problems, example='name = "Six steps"')
    language = raw.get("language")
    if not isinstance(language, str) or not _LANGUAGE_RE.match(language):
        problems.append(f'{where}: language must be a language code such as language = "en" or "pt-BR".')
    steps = _steps(raw.get("steps"), where, problems)
    if problems:
        raise PlaybookError(problems)
    return Playbook(name=str(name), language=str(language), steps=tuple(steps))


def _steps(raw: Any, where: str, problems: list[str]) -> list[PlaybookStep]:
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        problems.append(f"{where}: no steps; add {MIN_STEPS} to {MAX_STEPS} [[steps]] tables, each with title, why and say.")
        return []
    if not MIN_STEPS <= len(raw) <= MAX_STEPS:
        problems.append(f"{where}: has {len(raw)} steps; a playbook has {MIN_STEPS} to {MAX_STEPS} [[steps]].")
    steps = [_step(number, item, where, problems) for number, item in enumerate(raw, start=1)]
    _unique_asks(steps, where, problems)
    titles = [step.title.casefold() for step in steps if step.title]
    for title in sorted({t for t in titles if titles.count(t) > 1}):
        problems.append(f"{where}: two steps are titled {title!r}; give each step its own title.")
    return steps


def _step(number: int, raw: dict[str, Any], where: str, problems: list[str]) -> PlaybookStep:
    label = f"{where}: step {number}"
    for key in sorted(set(raw) - _STEP_KEYS):
        problems.append(f"{label}: unknown key {key!r}; a step has title, why, say and optionally asks.")
    title = _text(raw, "title", MAX_TITLE, f"{label}: title", problems, example='title = "Empathise"')
    why = _text(raw, "why", MAX_WHY, f"{label}: why", problems, example='why = "People calm down once they feel understood."')
    say = _say(raw.get("say"), f"{label}: say", problems)
    asks = raw.get("asks")
    if asks is not None and asks not in ASKS:
        problems.append(f"{label}: asks = {asks!r} is not known; use one of {', '.join(ASKS)}, or leave it out for a plain tick.")
        asks = None
    return PlaybookStep(number=number, title=title or "", why=why or "", say=say, asks=asks)


def _text(raw: dict[str, Any], key: str, limit: int, label: str, problems: list[str], *, example: str) -> str | None:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{label} is missing or empty; write it as {example}.")
        return None
    value = " ".join(value.split())
    if len(value) > limit:
        problems.append(f"{label} is {len(value)} characters; keep it to {limit} so it fits on a phone.")
    return value


def _say(raw: Any, label: str, problems: list[str]) -> tuple[str, ...]:
    lines = [raw] if isinstance(raw, str) else raw
    if not isinstance(lines, list) or not lines or not all(isinstance(line, str) and line.strip() for line in lines):
        problems.append(f'{label} needs one or more lines the agent may say, e.g. say = ["I understand why you are upset."].')
        return ()
    if len(lines) > MAX_SAY_LINES:
        problems.append(f"{label} has {len(lines)} lines; keep it to {MAX_SAY_LINES}.")
    for line in lines:
        if len(line) > MAX_SAY:
            problems.append(f"{label} has a line of {len(line)} characters; keep each to {MAX_SAY}.")
    return tuple(" ".join(line.split()) for line in lines)


def _unique_asks(steps: list[PlaybookStep], where: str, problems: list[str]) -> None:
    for asks in ASKS:
        numbers = [str(step.number) for step in steps if step.asks == asks]
        if len(numbers) > 1:
            problems.append(f"{where}: steps {', '.join(numbers)} all ask {asks!r}; keep it on one step.")
