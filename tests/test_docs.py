"""The README documents every command and every option (settings are checked in test_settings.py)."""

from __future__ import annotations

from pathlib import Path

import typer.main

from lurewatch.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_command_and_option_is_documented() -> None:
    group = typer.main.get_command(app)
    missing = []
    commands = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        # a command group (``lurewatch export``) is documented through each of its commands
        subcommands = getattr(command, "commands", None)
        if subcommands:
            commands.extend((f"{name} {sub}", subcommand) for sub, subcommand in subcommands.items())
        else:
            commands.append((name, command))
    for name, command in commands:
        if f"lurewatch {name}" not in README:
            missing.append(f"command {name}")
        for param in command.params:
            for flag in param.opts:
                if flag.startswith("--") and flag != "--help" and f"`{flag}" not in README:
                    missing.append(f"{name} {flag}")
    assert not missing, f"undocumented in README: {missing}"
