"""The README opens with the two commands, and CI runs the second one."""

import argparse

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


def readme_rows() -> dict[str, str]:
    """The README's command table: each row's command names -> the whole row."""
    text = (REPO / "README.md").read_text()
    table = text.split("| command | what it does", 1)[1].split("\n\n", 1)[0]
    rows: dict[str, str] = {}
    for line in table.splitlines()[2:]:
        invocation = line.split("`", 2)[1]  # `nmsquota limit\|exempt ...`
        for name in invocation.split()[1].replace("\\|", "|").split("|"):
            rows[name] = line
    return rows


def long_options(parser: argparse.ArgumentParser) -> set[str]:
    """A command's long options, with those of its actions (`subscribers add --plan`)."""
    found: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= long_options(sub)
        found |= {o for o in action.option_strings if o.startswith("--")}
    # Every command that touches the ledger takes --ledger; the README says so once.
    return found - {"--help", "--ledger"}


def test_the_readme_command_table_names_every_command_and_option_its_help_has() -> None:
    from nmsquota.cli import build_parser

    (commands,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    rows = readme_rows()
    assert set(rows) == set(commands.choices)
    missing = {
        name: sorted(o for o in long_options(sub) if o not in rows[name])
        for name, sub in commands.choices.items()
    }
    assert {name: options for name, options in missing.items() if options} == {}
