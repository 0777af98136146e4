"""End-to-end tests of the command line: the real entry point in a subprocess, real exit codes and streams."""

from __future__ import annotations

import csv
import json
import os
import re
import select
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lurewatch import __version__
from lurewatch.display import CATEGORY_WORDS, CSV_HEADER
from lurewatch.model import Category
from lurewatch.synth.linkedin_export import (
    ExportConversation,
    ExportInvitation,
    ExportMessage,
    Person,
    write_export,
)

OWNER = Person("Ada", "Fictional", "ada-fictional-2b9a1c", headline="Quantum physicist")
# A hostile display name: a colour escape, an OSC title-setting sequence ended by BEL, and Rich markup.
HOSTILE = Person("[bold red]x[/]", "\x1b[31mZhao\x1b]0;title\x07", "mei-zhao-7b21")
BOB = Person("Bob", "Example", "bob-example")
NADIA = Person("Nadia", "Notes", "nadia-notes")
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
HYPERLINK = '=HYPERLINK("http://evil.example/x","click")'
STATE_TEXT = (
    f"{HYPERLINK} Dear Dr Fictional, I am a headhunter for a think tank in Singapore. We pay 2,000 USD "
    "per confidential report on your research. There is also a trip to Shanghai, all expenses paid. "
    "Shall we continue on WeChat?"
)
BOB_TEXT = "@SUM(1) see you at the conference next week"
PASTED_STATE_APPROACH = (
    "Hello Dr Smith, I am a headhunter with a consulting firm working for a think tank client. We would "
    "pay you 3,000 USD for a short report on your research. There is also a trip to Beijing, all "
    "expenses paid. Let's continue on WeChat."
)
EXPORT_IDS = {"li:c-state", "li:c-bob"}
COMMANDS = ("scan", "check", "import", "report", "demo", "indicators", "version")


def run(
    *args: str | Path,
    cwd: Path,
    stdin: bytes = b"",
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m lurewatch ARGS`` as a user would, with no LUREWATCH_* or colour settings leaking in."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("LUREWATCH_") and k not in {"FORCE_COLOR", "NO_COLOR", "COLUMNS", "LINES", "TERM"}
    }
    clean["PYTHONIOENCODING"] = "utf-8"
    clean.update(env or {})
    result = subprocess.run(
        [sys.executable, "-m", "lurewatch", *map(str, args)],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        env=clean,
        timeout=60,
        check=False,
    )
    return subprocess.CompletedProcess(
        result.args,
        result.returncode,
        result.stdout.decode("utf-8"),
        result.stderr.decode("utf-8"),
    )


def assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit code 2 and exactly one short stderr line that names each needle; no traceback, no locals."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("lurewatch: error: "), line
    assert "\x1b" not in line
    # a Rich pretty traceback draws boxes and dumps locals as "name = value"
    assert "╭" not in result.stderr and "locals" not in result.stderr
    for needle in needles:
        assert needle in line, (needle, line)
    return line


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def conversations() -> list[ExportConversation]:
    return [
        ExportConversation(
            "c-state",
            (HOSTILE,),
            (
                ExportMessage(HOSTILE, T0, STATE_TEXT),
                ExportMessage(OWNER, T0.replace(hour=10), "Who is the client?"),
            ),
        ),
        ExportConversation("c-bob", (BOB,), (ExportMessage(BOB, T0.replace(day=2), BOB_TEXT),)),
    ]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A work folder holding the same export as ``export.zip`` and as folder ``export/``."""
    root = tmp_path_factory.mktemp("inputs")
    invitation = ExportInvitation(NADIA, T0, "Hi Nadia, glad to connect.", incoming=False)
    write_export(root / "export.zip", "2025", OWNER, conversations(), [invitation], as_zip=True)
    write_export(root / "export", "2025", OWNER, conversations(), [invitation])
    return root


# --- scan ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "columns"), [("export.zip", "80"), ("export", "200")])
def test_scan_prints_a_ranked_table(inputs: Path, name: str, columns: str) -> None:
    result = run("scan", name, cwd=inputs, env={"COLUMNS": columns})
    assert_ok(result)
    table = result.stdout
    assert "Approaches, highest risk first" in table
    rows = [line for line in table.splitlines() if re.match(r"^│ +\d\.\d\d ", line)]
    assert len(rows) == 2
    risks = [float(line.split("│")[1]) for line in rows]
    assert risks == sorted(risks, reverse=True)
    assert "state_approach" in rows[0] and "benign" in rows[1]
    # the summary goes to stderr, keeping stdout for the table
    assert f"{name} (linkedin_export): 2 approaches" in result.stderr
    assert "By category:" in result.stderr and "By category" not in table
    # terminal safety: the hostile sender name is shown as text, its escapes never reach the terminal
    for control in ("\x1b", "\x07", "\x9b", "\x9d"):
        assert control not in result.stdout
        assert control not in result.stderr
    # Rich markup in a name is printed literally, not interpreted (it would otherwise vanish)
    assert "[bold red]" in rows[0]


def test_scan_json_has_one_object_per_approach(inputs: Path) -> None:
    result = run("scan", "--json", "export.zip", "export", cwd=inputs)
    assert_ok(result)
    both = json_lines(result.stdout)
    records, from_folder = both[: len(both) // 2], both[len(both) // 2 :]
    # the zip and the folder form of one export read the same
    assert [(r["id"], r["category"], r["risk"]) for r in records] == [
        (r["id"], r["category"], r["risk"]) for r in from_folder
    ]
    assert {r["id"] for r in records} == EXPORT_IDS
    assert len(records) == len(EXPORT_IDS)
    categories = {c.value for c in Category}
    for record in records:
        assert record["category"] in categories
        assert isinstance(record["risk"], float) and 0.0 <= record["risk"] <= 1.0
        assert isinstance(record["signals"], list)
        for signal in record["signals"]:
            assert isinstance(signal, dict)
            assert re.fullmatch(r"[A-Z]\d+", signal["id"])
            assert isinstance(signal["evidence"], str)
    state = next(r for r in records if r["id"] == "li:c-state")
    assert state["category"] == Category.STATE_APPROACH.value
    assert state["signals"], state
    # JSON carries the raw name; the escapes are JSON-escaped, never raw bytes on stdout
    assert state["sender"]["name"] == HOSTILE.name  # type: ignore[index]
    assert "\x1b" not in result.stdout


def test_scan_csv_is_written_with_formulas_neutralised(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = run("scan", "--csv", out, "export.zip", cwd=inputs)
    assert_ok(result)
    assert "Approaches, highest risk first" in result.stdout  # --csv is in addition to the table
    rows = read_csv(out)
    assert tuple(rows[0]) == CSV_HEADER
    by_id = {row[0]: dict(zip(CSV_HEADER, row, strict=True)) for row in rows[1:]}
    assert set(by_id) == EXPORT_IDS
    state, bob = by_id["li:c-state"], by_id["li:c-bob"]
    assert state["first_message"].startswith("'" + HYPERLINK)
    assert bob["first_message"] == "'" + BOB_TEXT
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows[1:] for cell in row)
    assert "\x1b" not in out.read_text(encoding="utf-8-sig")
    assert "[bold red]x[/]" in state["sender_name"]
    assert float(state["risk"]) > float(bob["risk"])


def test_scan_summary_counts_what_was_cut_or_dropped(inputs: Path, tmp_path: Path) -> None:
    mail = tmp_path / "mail"
    mail.mkdir()
    (mail / "small.eml").write_text(
        "From: a@ext.example\nTo: me@lab.example\nSubject: hi\nMessage-ID: <s@x>\n\nshort note\n",
        encoding="utf-8",
    )
    (mail / "huge.eml").write_text(
        "From: b@ext.example\nTo: me@lab.example\nSubject: big\n\n" + "word " * 200, encoding="utf-8"
    )
    env = {
        "LUREWATCH_MAX_FIELD_CHARS": "20",
        "LUREWATCH_MAX_MESSAGES_PER_CONVERSATION": "1",
        "LUREWATCH_MAX_EMAIL_BYTES": "500",
    }
    result = run("scan", "--json", inputs / "export.zip", mail, cwd=tmp_path, env=env)
    assert_ok(result)
    assert {r["id"] for r in json_lines(result.stdout)} == {*EXPORT_IDS, "s@x"}
    summary = {line.split(" (", 1)[0]: line for line in result.stderr.splitlines() if " approaches" in line}
    # the owner's reply in c-state is dropped; the two openers and the owner's invitation note are cut
    assert summary[str(inputs / "export.zip")].endswith(
        ": 2 approaches; set aside: 1 started by the owner, 1 dropped messages, 3 truncated fields"
    )
    assert summary[str(mail)].endswith(": 1 approaches; set aside: 1 too-large e-mails")


def test_scan_failing_half_way_leaves_no_csv(inputs: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    # More records than the screener's template window, so rows reach the CSV before the bad line.
    with big.open("w", encoding="utf-8") as fh:
        for i in range(2100):
            record = {
                "id": f"r{i}",
                "channel": "linkedin_message",
                "sender": {"name": f"Person {i}"},
                "messages": [{"from": "sender", "text": f"Hello, message number {i}"}],
            }
            fh.write(json.dumps(record) + "\n")
        fh.write("{not json\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    # In-process scoring, so results are written before the reader reaches the bad line (worker
    # processes would still be scoring the first window when it does).
    result = run(
        "scan", "--json", "--csv", "out.csv", "big.jsonl", cwd=tmp_path, env={"LUREWATCH_WORKERS": "0"}
    )
    assert_one_line_error(result, "big.jsonl:2101", "bad JSON")
    assert len(json_lines(result.stdout)) >= 1  # the scan really was half-way through
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    with_workers = run("scan", "--csv", "out.csv", "big.jsonl", cwd=tmp_path, env={"LUREWATCH_WORKERS": "2"})
    assert_one_line_error(with_workers, "big.jsonl:2101", "bad JSON")
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_scan_with_a_bad_second_input_writes_nothing(inputs: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "messages.csv").write_text("name,colour\nx,red\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = run("scan", "--csv", out, inputs / "export.zip", bad, cwd=tmp_path)
    assert_one_line_error(result, str(bad), "missing column")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad"]
    missing = run("scan", "--csv", out, inputs / "export.zip", "absent.zip", cwd=tmp_path)
    assert_one_line_error(missing, "absent.zip", "no such file")
    assert not out.exists()


def test_scan_shared_eval_corpus_gives_one_record_per_line(shared_eval: list[Path], tmp_path: Path) -> None:
    ids: list[str] = []
    for path in shared_eval:
        with path.open(encoding="utf-8") as fh:
            ids.extend(json.loads(line)["id"] for line in fh if line.strip())
    result = run("scan", "--json", *shared_eval, cwd=tmp_path)
    assert_ok(result)
    records = json_lines(result.stdout)
    assert len(records) == len(ids)
    assert sorted(str(r["id"]) for r in records) == sorted(ids)
    assert all(r["category"] in {c.value for c in Category} for r in records)


def test_check_does_not_replay_escapes_from_the_message(tmp_path: Path) -> None:
    text = f"\x1b]0;pwned\x07\x1b[2J[blink]{PASTED_STATE_APPROACH}[/blink]\x9b31m"
    result = run("check", cwd=tmp_path, stdin=text.encode())
    assert_ok(result)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", result.stdout)


# --- check --------------------------------------------------------------------------------------------------


def test_check_explains_an_obvious_state_approach(tmp_path: Path) -> None:
    result = run("check", cwd=tmp_path, stdin=PASTED_STATE_APPROACH.encode())
    assert_ok(result)
    text = result.stdout
    assert "Verdict:" in text
    assert " ".join(CATEGORY_WORDS[Category.STATE_APPROACH].split()) in " ".join(text.split())
    why = text.split("Why:", 1)[1]
    assert re.search(r"• [PMC]\d+ ", why), why
    assert "What to do:" in text


def test_check_json(tmp_path: Path) -> None:
    result = run("check", "--json", cwd=tmp_path, stdin=PASTED_STATE_APPROACH.encode())
    assert_ok(result)
    (record,) = json_lines(result.stdout)
    assert record["category"] == Category.STATE_APPROACH.value
    assert record["channel"] == "pasted"
    ids = {s["id"] for s in record["signals"]}  # type: ignore[union-attr]
    assert ids & {"M3", "M4", "M6"}, ids


@pytest.mark.parametrize("stdin", [b"", b"  \n\t\n"])
def test_check_with_nothing_on_stdin(tmp_path: Path, stdin: bytes) -> None:
    result = run("check", cwd=tmp_path, stdin=stdin)
    assert_one_line_error(result, "<stdin>")
    assert result.stdout == ""


# --- import and report --------------------------------------------------------------------------------------


def report_ids(workspace: Path, cwd: Path, *extra: str) -> list[str]:
    result = run("report", "--workspace", workspace, "--json", *extra, cwd=cwd)
    assert_ok(result)
    return [str(r["id"]) for r in json_lines(result.stdout)]


def test_import_then_report(inputs: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws.sqlite"
    first = run("import", "--workspace", ws, inputs / "export.zip", cwd=tmp_path)
    assert_ok(first)
    assert "2 approaches added" in first.stderr
    assert sorted(report_ids(ws, tmp_path)) == sorted(EXPORT_IDS)

    again = run("import", "--workspace", ws, inputs / "export.zip", cwd=tmp_path)
    assert_ok(again)
    assert "already imported" in again.stderr
    ids = report_ids(ws, tmp_path)
    assert sorted(ids) == sorted(EXPORT_IDS)
    assert ids[0] == "li:c-state"  # highest risk first

    # the same approaches from the folder form: a different input, but nothing new to add
    folder = run("import", "--workspace", ws, inputs / "export", cwd=tmp_path)
    assert_ok(folder)
    assert "0 approaches added, 2 already in the workspace" in folder.stderr

    assert report_ids(ws, tmp_path, "--category", "state_approach") == ["li:c-state"]

    table = run("report", "--workspace", ws, cwd=tmp_path)
    assert_ok(table)
    assert "(2 in all)" in table.stdout
    assert "\x1b" not in table.stdout

    out = tmp_path / "report.csv"
    csv_run = run("report", "--workspace", ws, "--csv", out, cwd=tmp_path)
    assert_ok(csv_run)
    rows = read_csv(out)
    assert tuple(rows[0]) == CSV_HEADER
    assert sorted(row[0] for row in rows[1:]) == sorted(EXPORT_IDS)
    first_messages = {row[0]: row[CSV_HEADER.index("first_message")] for row in rows[1:]}
    assert first_messages["li:c-state"].startswith("'=HYPERLINK(")
    assert first_messages["li:c-bob"].startswith("'@SUM(1)")


def test_import_of_every_input_kind(tmp_path: Path) -> None:
    """Each kind the readers detect can be imported (an .eml file once crashed the import)."""
    fixtures = Path(__file__).parent / "fixtures" / "email"
    eml = sorted(fixtures.glob("*.eml"))[0]
    ws = tmp_path / "ws.sqlite"
    result = run("import", "--workspace", ws, eml, cwd=tmp_path)
    assert_ok(result)
    assert "1 approaches added" in result.stderr or "approach added" in result.stderr, result.stderr
    assert len(report_ids(ws, tmp_path)) == 1


def test_import_keeps_going_past_a_bad_input(inputs: Path, tmp_path: Path) -> None:
    bad = tmp_path / "wrong"
    bad.mkdir()
    (bad / "messages.csv").write_text("name,colour\nx,red\n", encoding="utf-8")
    ws = tmp_path / "ws.sqlite"
    result = run("import", "--workspace", ws, bad, inputs / "export.zip", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("lurewatch: error:")]
    assert len(errors) == 1 and str(bad) in errors[0] and "nothing imported" in errors[0]
    assert sorted(report_ids(ws, tmp_path)) == sorted(EXPORT_IDS)


def run_with_terminal_stderr(*args: str | Path, cwd: Path) -> tuple[int, str]:
    """Run with stderr on a pseudo-terminal, where the progress display is live; returns (code, stderr)."""
    import pty

    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUREWATCH_")}
    with subprocess.Popen(
        [sys.executable, "-m", "lurewatch", *map(str, args)],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=slave,
        env=env,
    ) as proc:
        os.close(slave)
        chunks: list[bytes] = []
        while True:  # drain as it runs, so a chatty progress display cannot fill the pty and block
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed its end
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=60)
    os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_progress_shows_a_path_with_brackets_literally(inputs: Path, tmp_path: Path) -> None:
    # "[/]" in a path once reached the progress bar as Rich markup and crashed the import.
    weird = tmp_path / "a[" / "]b[" / "]c.zip"
    weird.parent.mkdir(parents=True)
    weird.write_bytes((inputs / "export.zip").read_bytes())
    code, stderr = run_with_terminal_stderr(
        "import", "--workspace", "ws.sqlite", "a[/]b[/]c.zip", cwd=tmp_path
    )
    assert "Traceback" not in stderr
    assert code == 0, stderr
    assert "a[/]b[/]c.zip: 2 approaches added" in stderr
    assert "Importing a[/]b[/]c.zip" in stderr


def test_report_on_a_missing_workspace(tmp_path: Path) -> None:
    result = run("report", "--workspace", "nowhere/ws.sqlite", cwd=tmp_path)
    assert_one_line_error(result, "nowhere/ws.sqlite", "no workspace")
    assert not (tmp_path / "nowhere").exists()


def test_report_on_a_file_that_is_not_a_workspace(tmp_path: Path) -> None:
    (tmp_path / "junk.sqlite").write_text("not a database\n", encoding="utf-8")
    assert_one_line_error(run("report", "--workspace", "junk.sqlite", cwd=tmp_path), "junk.sqlite")


# --- bad input ----------------------------------------------------------------------------------------------


def _not_a_zip(root: Path) -> str:
    (root / "export.zip").write_text("this is text, not a zip archive\n", encoding="utf-8")
    return "export.zip"


def _wrong_columns(root: Path) -> str:
    (root / "odd").mkdir()
    (root / "odd" / "messages.csv").write_text("Name,Colour,Size\nx,red,3\n", encoding="utf-8")
    return "odd"


def _not_utf8(root: Path) -> str:
    write_export(root / "cp", "2025", OWNER, conversations())
    path = root / "cp" / "messages.csv"
    # what Excel's plain "CSV" re-save does on a Western-European Windows machine
    text = path.read_text(encoding="utf-8").replace("Dear Dr", "Caf\u00e9 cr\u00e8me \u201cDear\u201d Dr")
    path.write_bytes(text.encode("cp1252"))
    return "cp"


def _zip_traversal(root: Path) -> str:
    write_export(root / "src", "2025", OWNER, conversations())
    with zipfile.ZipFile(root / "evil.zip", "w") as zf:
        zf.writestr("messages.csv", (root / "src" / "messages.csv").read_bytes())
        zf.writestr("../../outside/\x1b[31mmessages.csv", b"CONVERSATION ID,FROM,DATE,CONTENT\n")
    return "evil.zip"


def _empty(root: Path) -> str:
    (root / "empty.jsonl").write_bytes(b"")
    return "empty.jsonl"


def _unrecognised(root: Path) -> str:
    (root / "notes.xyz").write_text("just some words\n", encoding="utf-8")
    return "notes.xyz"


def _export_zip(root: Path) -> str:
    write_export(root / "export.zip", "2025", OWNER, conversations(), as_zip=True)
    return "export.zip"


BAD_INPUTS = {
    "not a zip": (_not_a_zip, {}, "not a zip archive"),
    "wrong columns": (_wrong_columns, {}, "missing column"),
    "not UTF-8": (_not_utf8, {}, "not UTF-8"),
    "too large": (_export_zip, {"LUREWATCH_MAX_FILE_BYTES": "100"}, "over the 100-byte limit"),
    "zip traversal": (_zip_traversal, {}, "climbs out of the archive"),
    "nonexistent": (lambda root: "no-such-export.zip", {}, "no such file or directory"),
    "empty": (_empty, {}, "file is empty"),
    "unrecognised": (_unrecognised, {}, "unrecognised input"),
}

# recognisably bad from the path alone, before any record is read
CAUGHT_BEFORE_READING = {"not a zip", "too large", "nonexistent", "empty", "unrecognised"}


@pytest.mark.parametrize(
    ("command", "case"),
    # import shares scan's readers: two cases show it reports them the same way, before and after reading
    [*(("scan", case) for case in BAD_INPUTS), ("import", "zip traversal"), ("import", "empty")],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, case: str, command: str) -> None:
    build, env, problem = BAD_INPUTS[case]
    name = build(tmp_path)
    args = ("scan", name) if command == "scan" else ("import", "--workspace", "ws.sqlite", name)
    result = run(*args, cwd=tmp_path, env=env)
    line = assert_one_line_error(result, name, problem)
    assert result.stdout == ""
    assert len(line) < 300
    if command == "import" and case in CAUGHT_BEFORE_READING:
        # every path is checked before the workspace is opened: nothing is created
        assert not (tmp_path / "ws.sqlite").exists()
        assert "nothing imported" not in line
    elif command == "import":
        assert "nothing imported" in line
    if case == "zip traversal":
        assert not (tmp_path.parent / "outside").exists()


def test_bad_setting_is_one_line_naming_the_variable(inputs: Path) -> None:
    result = run("scan", "export.zip", cwd=inputs, env={"LUREWATCH_MAX_ZIP_ENTRIES": "lots"})
    assert_one_line_error(result, "LUREWATCH_MAX_ZIP_ENTRIES", "'lots'")
    negative = run("scan", "export.zip", cwd=inputs, env={"LUREWATCH_MAX_FIELD_CHARS": "-5"})
    assert_one_line_error(negative, "LUREWATCH_MAX_FIELD_CHARS", "positive")


# --- indicators, version, help ------------------------------------------------------------------------------


def test_indicators_lists_the_catalogue(tmp_path: Path) -> None:
    as_json = run("indicators", "--json", cwd=tmp_path)
    assert_ok(as_json)
    records = json_lines(as_json.stdout)
    expected = [str(r["id"]) for r in records]
    for family, count in (("P", 8), ("M", 10), ("C", 6)):
        assert {f"{family}{n}" for n in range(1, count + 1)} <= set(expected)
    assert len(set(expected)) == len(expected)
    assert all(r["title"] and r["sources"] and 0 < float(r["weight"]) <= 1 for r in records)
    table = run("indicators", cwd=tmp_path)
    assert_ok(table)
    assert re.findall(r"^│ ([A-Z]\d+) +│", table.stdout, flags=re.M) == expected


def test_version(tmp_path: Path) -> None:
    result = run("version", cwd=tmp_path)
    assert_ok(result)
    assert result.stdout == f"lurewatch {__version__}\n"


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help(tmp_path: Path, command: str | None) -> None:
    result = run(*([command] if command else []), "--help", cwd=tmp_path)
    assert_ok(result)
    assert result.stdout.startswith("Usage: ")
    if command is None:
        for name in COMMANDS:
            assert re.search(rf"^  {name} ", result.stdout, flags=re.M), name
    else:
        assert f" {command} [OPTIONS]" in result.stdout
    assert list(tmp_path.iterdir()) == []  # --help never creates a workspace or demo folder


def test_no_arguments_shows_usage(tmp_path: Path) -> None:
    result = run(cwd=tmp_path)
    assert result.returncode == 2
    assert "Usage: " in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


# --- language and persona -----------------------------------------------------------------------------------

GERMAN_APPROACH = (
    "Sehr geehrte Frau Dr. Fictional, ich bin Personalberaterin bei einer internationalen Beratung. Für einen "
    "wichtigen Kunden suchen wir Experten für kurze, gut bezahlte Berichte. Können wir auf WeChat weitersprechen?"
)


def test_check_reports_language_and_persona(tmp_path: Path) -> None:
    text = run("check", cwd=tmp_path, stdin=GERMAN_APPROACH.encode())
    assert_ok(text)
    assert "Language: German" in text.stdout
    assert "Sender presents as: a headhunter" in text.stdout
    as_json = run("check", "--json", cwd=tmp_path, stdin=GERMAN_APPROACH.encode())
    assert_ok(as_json)
    (record,) = json_lines(as_json.stdout)
    assert (record["language"], record["persona"]) == ("de", "headhunter")


def test_scan_import_and_report_carry_language_and_persona(inputs: Path, tmp_path: Path) -> None:
    scanned = {r["id"]: r for r in json_lines(run("scan", "--json", "export.zip", cwd=inputs).stdout)}
    assert scanned["li:c-state"]["language"] == "en"
    assert scanned["li:c-state"]["persona"] == "headhunter"  # "I am a headhunter for a think tank"
    ws = tmp_path / "ws.sqlite"
    assert_ok(run("import", "--workspace", ws, inputs / "export.zip", cwd=tmp_path))
    report = run("report", "--workspace", ws, "--json", cwd=tmp_path)
    assert_ok(report)
    stored = {r["id"]: r for r in json_lines(report.stdout)}
    for key in EXPORT_IDS:
        assert (stored[key]["language"], stored[key]["persona"]) == (
            scanned[key]["language"],
            scanned[key]["persona"],
        )
