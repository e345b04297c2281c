"""Every command and option of `quotalink` says what it does in --help."""

import argparse

import pytest

from orchestration.cli import _evaluation_tables, build_parser


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_command_and_option_has_help():
    parser = build_parser()
    commands = _subparsers(parser)
    assert {"generate", "run", "evaluate", "db", "review", "report", "ui"} <= set(commands)
    for name, sub in commands.items():
        assert sub.description, f"{name} has no description"
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"quotalink {name} {action.option_strings or action.dest}"


@pytest.mark.parametrize("command", ["run", "evaluate", "db", "generate"])
def test_help_prints_the_descriptions(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: quotalink {command}" in out
    for action in _subparsers(build_parser())[command]._actions:
        if action.help and not isinstance(action, argparse._HelpAction):
            assert action.help.split()[0] in out


def test_evaluate_prints_readable_tables(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")
    scores = {"precision": 1.0, "recall": 0.988562, "f1": 0.994248, "mentions": 249,
              "predicted_clusters": 48, "true_clusters": 47,
              "errors": {"clusters_with_false_merge": 0, "entities_split": 1},
              "hard_cases": {"namesake": {"cases": 2, "merged": 0}}}
    report = {"entity_resolution": {"person": dict(scores), "employer": dict(scores)},
              "flags": {"per_rule": {"MULTI_EMPLOYER": {"planted": 6, "flagged": 7,
                                                        "true_positives": 6,
                                                        "precision": 0.857, "recall": 1.0}},
                        "overall": {"planted": 6, "flagged": 7, "true_positives": 6,
                                    "precision": 0.857, "recall": 1.0},
                        "decoys": 24, "decoys_flagged": []}}
    _evaluation_tables(report)
    out = capsys.readouterr().out
    assert "0.9886" in out and "48 (47)" in out and "namesake" in out
    assert "MULTI_EMPLOYER" in out and "0.857" in out and "overall" in out
    assert "{" not in out  # tables, not JSON
