"""The README opens with the two commands, and CI runs the second one."""

from conftest import REPO


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    block = text.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def test_the_readme_opens_with_exactly_two_commands() -> None:
    text = (REPO / "README.md").read_text()
    assert text.split("\n\n", 1)[1].startswith("```sh\n")  # right under the title
    demo, tests = readme_commands()
    assert "nmsquota demo" in demo
    assert "pytest" in tests


def test_ci_runs_the_readmes_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in ci
