"""The README documents every command and every option (settings are checked in test_settings.py)."""

from __future__ import annotations

from pathlib import Path

import typer.main

from lurewatch.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_command_and_option_is_documented() -> None:
    group = typer.main.get_command(app)
    missing = []
    commands = list(group.commands.items())  # type: ignore[attr-defined]
    while commands:
        name, command = commands.pop()
        if f"lurewatch {name}" not in README:
            missing.append(f"command {name}")
        # sub-apps (lurewatch owners screen, lurewatch lists update): their commands too
        commands.extend((f"{name} {sub}", c) for sub, c in getattr(command, "commands", {}).items())
        for param in command.params:
            for flag in param.opts:
                if flag.startswith("--") and flag != "--help" and f"`{flag}" not in README:
                    missing.append(f"{name} {flag}")
    assert not missing, f"undocumented in README: {missing}"
