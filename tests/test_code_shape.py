"""The shape the code must keep (issue "One room per playbook move"): lint, strict types on the domain
and storage, the import contracts between the layers, and small modules.

Each tool runs from the venv that runs the tests, on the repository as it is checked out.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PRODUCT = ("app.py", "bot", "handlers", "storage")
MAX_MODULE_LINES = 300

MAX_CLASS_LINES = 200


def run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    exe = BIN / tool
    if not exe.exists():
        pytest.fail(f"{tool} is not installed in this venv: pip install -r requirements-dev.txt")
    return subprocess.run([str(exe), *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def product_modules() -> list[Path]:
    found: list[Path] = []
    for place in PRODUCT:
        path = ROOT / place
        found.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return [p for p in found if "migrations" not in p.parts]


def test_ruff_finds_nothing() -> None:
    result = run("ruff", "check", "--output-format", "concise", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_passes_on_the_domain_and_storage() -> None:
    result = run("mypy")  # files and strictness from pyproject.toml
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_contracts_hold() -> None:
    result = run("lint-imports")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_no_product_module_grows_past_the_limit() -> None:
    over = {}
    for path in product_modules():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            over[path.relative_to(ROOT).as_posix()] = lines
    assert not over, f"modules over {MAX_MODULE_LINES} lines; split them by move: {over}"


def test_no_product_class_grows_past_the_limit() -> None:
    over = {}
    for path in product_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_CLASS_LINES:
                    over[f"{path.relative_to(ROOT).as_posix()}:{node.name}"] = lines
    assert not over, f"classes over {MAX_CLASS_LINES} lines: {over}"
