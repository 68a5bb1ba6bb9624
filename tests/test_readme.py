"""The README as a newcomer follows it (issue 10 item 8).

Code blocks preceded by ``<!-- readme: run -->`` are run verbatim, in order, in a copy
of the repository (so nothing lands in the working tree), with the package under test
first on the path and the venv's ``bin`` on PATH, as after ``source .venv/bin/activate``.
A ``python`` block is run as one script. A
shell block's lines starting with ``$ `` are commands and the lines after one are what it
prints (``...`` stands for any lines); lines of a block without ``$`` are all commands.
The commands use short ``--time-limit`` values, so the whole run takes a minute or two.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARK = "<!-- readme: run -->"
BLOCK = re.compile(re.escape(MARK) + r"\s*\n```([a-z]*)\n(.*?)\n```", re.DOTALL)


def runnable_blocks(text: str) -> list[list[tuple[str, list[str] | None]]]:
    """Each marked block as (command, expected output lines or None)."""
    blocks = []
    for language, body in BLOCK.findall(text):
        lines = body.splitlines()
        if language == "python":  # run as a script by the venv's python
            blocks.append([(f"python - <<'PYTHON'\n{body}\nPYTHON", None)])
            continue
        steps: list[tuple[str, list[str] | None]] = []
        if any(line.startswith("$ ") for line in lines):
            for line in lines:
                if line.startswith("$ "):
                    steps.append((line[2:], []))
                elif steps:
                    expected = steps[-1][1]
                    assert expected is not None
                    expected.append(line)
        else:
            command = "\n".join(lines)
            steps.append((command, None))
        blocks.append(steps)
    return blocks


def matches(expected: list[str], actual: list[str]) -> bool:
    """``expected`` lines equal ``actual`` ones, ``...`` matching any run of lines."""
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head.strip() == "...":
        return any(matches(rest, actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and actual[0].rstrip() == head.rstrip() and matches(rest, actual[1:])


def test_readme_marks_the_blocks_to_run() -> None:
    blocks = runnable_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    commands = [c for b in blocks for c, _ in b]
    assert len(blocks) >= 4
    assert any("data/tiny" in c and "--out maps/tiny" in c for c in commands)
    assert any(c.startswith("fieldroute slots") and "--address" in c for c in commands)


def test_make_demo_says_how_to_run_fieldroute() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    demo = makefile[makefile.index("\ndemo:") :].split("\n\n")[0]
    assert "source $(VENV)/bin/activate" in demo
    assert "$(VENV)/bin/fieldroute instead of fieldroute" in demo
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = readme.index("fieldroute plan")
    assert "source .venv/bin/activate" in readme[:first]


def test_readme_commands_run_verbatim_and_print_what_it_shows(tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    shutil.copytree(
        ROOT / "data", copy / "data", ignore=shutil.ignore_patterns("roads", "*.sqlite")
    )
    shutil.copy(ROOT / "README.md", copy / "README.md")
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    blocks = runnable_blocks((copy / "README.md").read_text(encoding="utf-8"))
    for steps in blocks:
        for command, expected in steps:
            done = subprocess.run(
                ["bash", "-c", f"set -e\n{command}"],
                cwd=copy,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=300,
                check=False,
            )
            assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}"
            if expected:
                actual = done.stdout.splitlines()
                assert matches(expected, actual), (
                    f"{command}\nREADME shows:\n"
                    + "\n".join(expected)
                    + "\nthe program prints:\n"
                    + done.stdout
                )
