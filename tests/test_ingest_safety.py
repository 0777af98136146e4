"""Zip safety: every rule of :func:`lurewatch.ingest.safety.open_zip` against an archive built to break it."""

from __future__ import annotations

import io
import stat
import struct
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lurewatch.errors import InputError
from lurewatch.ingest import safety
from lurewatch.ingest.linkedin_export import iter_linkedin_export
from lurewatch.model import IngestStats
from lurewatch.settings import MiB, Settings

CSV = b"CONVERSATION ID,FROM,DATE,CONTENT\nc1,Mei Lin Zhao,2025-01-01 10:00:00 UTC,hello\n"


def make_zip(path: Path, entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return path


def central_entries(data: bytes) -> list[int]:
    """Offsets of the central-directory headers of a zip held in ``data``."""
    offsets, at = [], data.find(b"PK\x01\x02")
    while at >= 0:
        offsets.append(at)
        at = data.find(b"PK\x01\x02", at + 4)
    return offsets


def patch_central(path: Path, field_offset: int, fmt: str, value: int, entry: int = 0) -> None:
    data = bytearray(path.read_bytes())
    at = central_entries(bytes(data))[entry]
    struct.pack_into(fmt, data, at + field_offset, value)
    path.write_bytes(bytes(data))


def problem_of(exc: pytest.ExceptionInfo[InputError]) -> str:
    return exc.value.problem


# --- archives that are fine ----------------------------------------------------------------------------


def test_valid_zip_opens_and_members_read_back(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "ok.zip", {"Basic/messages.csv": CSV, "Basic/notes.txt": b"x" * 10})
    with (
        safety.open_zip(path, Settings()) as zf,
        safety.read_member(zf, "Basic/messages.csv", str(path), Settings()) as fh,
    ):
        assert fh.read() == CSV


def test_small_entries_are_exempt_from_the_ratio_limit(tmp_path: Path) -> None:
    # 512 KiB of zeros compresses about 1000:1 but is far below the 1 MiB exemption.
    path = make_zip(tmp_path / "small.zip", {"zeros.csv": b"0" * (512 * 1024)})
    with safety.open_zip(path, Settings(max_zip_ratio=10)) as zf:
        info = zf.getinfo("zeros.csv")
        assert info.file_size / info.compress_size > 10
        with safety.read_member(zf, "zeros.csv", str(path), Settings()) as fh:
            assert len(fh.read()) == 512 * 1024


# --- archives that are refused before anything is decompressed -----------------------------------------


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    path.write_text("this is a CSV, not a zip\n")
    with pytest.raises(InputError) as exc:
        safety.open_zip(path, Settings())
    assert problem_of(exc) == "not a zip archive"
    assert exc.value.source == str(path)


def test_truncated_zip_is_not_a_zip(tmp_path: Path) -> None:
    good = make_zip(tmp_path / "good.zip", {"messages.csv": CSV * 50})
    cut = tmp_path / "cut.zip"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(InputError, match="not a zip archive"):
        safety.open_zip(cut, Settings())


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot open"):
        safety.open_zip(tmp_path / "absent.zip", Settings())


def test_too_many_entries(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "many.zip", {f"f{i}.csv": b"x" for i in range(6)})
    with pytest.raises(InputError) as exc:
        safety.open_zip(path, Settings(max_zip_entries=5))
    assert "6 entries" in problem_of(exc)
    assert "LUREWATCH_MAX_ZIP_ENTRIES" in problem_of(exc)


def test_end_record_announcing_too_many_entries_is_refused_before_parsing(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "announce.zip", {"messages.csv": CSV})
    data = bytearray(path.read_bytes())
    eocd = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, eocd + 8, 60_000, 60_000)
    path.write_bytes(bytes(data))
    with pytest.raises(InputError) as exc:
        safety.open_zip(path, Settings(max_zip_entries=100))
    assert "announces 60,000 entries" in problem_of(exc)


def test_entry_declaring_too_many_bytes(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "big.zip", {"messages.csv": b"a,b\n" * 1000})
    with pytest.raises(InputError) as exc:
        safety.open_zip(path, Settings(max_zip_entry_bytes=1000))
    assert "'messages.csv'" in problem_of(exc)
    assert "4,000 bytes" in problem_of(exc)


def test_total_declared_size_over_the_limit(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "total.zip", {f"part{i}.csv": b"y" * 600 for i in range(4)})
    with pytest.raises(InputError) as exc:
        safety.open_zip(path, Settings(max_zip_total_bytes=2000))
    assert "in total" in problem_of(exc)
    assert "'part3.csv'" in problem_of(exc)


def test_zip_bomb_with_a_high_compression_ratio(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "bomb.zip", {"messages.csv": b"\x00" * (8 * MiB)})
    with pytest.raises(InputError) as exc:
        safety.open_zip(path, Settings())
    problem = problem_of(exc)
    assert "'messages.csv'" in problem
    assert "zip bomb" in problem
    assert "LUREWATCH_MAX_ZIP_RATIO" in problem


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("../evil.csv", "climbs out"),
        ("Basic/../../evil.csv", "climbs out"),
        ("/etc/passwd", "absolute path"),
        ("\\windows\\evil.csv", "absolute path"),
        ("C:\\Users\\evil.csv", "drive letter"),
        ("c:evil.csv", "drive letter"),
        ("Basic\\..\\..\\evil.csv", "backslash"),
    ],
)
def test_entry_names_that_escape_the_folder(tmp_path: Path, name: str, words: str) -> None:
    path = make_zip(tmp_path / "names.zip", {"messages.csv": CSV, name: b"owned"})
    with pytest.raises(InputError) as exc:
        safety.open_zip(path, Settings())
    assert repr(name) in problem_of(exc)
    assert words in problem_of(exc)


def test_symlink_entry(tmp_path: Path) -> None:
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("messages.csv", CSV)
        info = zipfile.ZipInfo("Connections.csv")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(InputError) as exc:
        safety.open_zip(path, Settings())
    assert "'Connections.csv' is a symbolic link" in problem_of(exc)


def test_encrypted_entry(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "locked.zip", {"messages.csv": CSV})
    patch_central(path, 8, "<H", 0x1)
    with pytest.raises(InputError) as exc:
        safety.open_zip(path, Settings())
    assert "'messages.csv' is encrypted" in problem_of(exc)


# --- archives whose lies only show while reading ---------------------------------------------------------


def test_declared_size_lie_is_caught_while_reading(tmp_path: Path) -> None:
    payload = b"c1,Mei,2025-01-01 10:00:00 UTC,hello there\n" * 60_000  # ~2.6 MB, ratio well under 200
    path = make_zip(tmp_path / "lie.zip", {"messages.csv": payload})
    patch_central(path, 24, "<L", 1000)  # uncompressed size now claims 1,000 bytes
    with safety.open_zip(path, Settings()) as zf:
        assert zf.getinfo("messages.csv").file_size == 1000
        with (
            pytest.raises(InputError) as exc,
            safety.read_member(zf, "messages.csv", str(path), Settings()) as fh,
        ):
            while fh.read(1 << 16):
                pass
    assert "messages.csv" in problem_of(exc)
    assert exc.value.source == str(path)


def bounded(data: bytes, limit: int) -> io.BufferedReader:
    reader = safety.BoundedReader(
        io.BytesIO(data), limit=limit, source="x.zip", name="messages.csv", what="the entry limit"
    )
    return io.BufferedReader(reader)


def test_bounded_reader_counts_real_bytes_not_declared_ones() -> None:
    assert bounded(b"z" * 4096, 4096).read() == b"z" * 4096
    with pytest.raises(InputError) as exc:
        bounded(b"z" * 4097, 4096).read()
    assert "messages.csv: holds more than 4,096 bytes" in problem_of(exc)


def test_corrupt_compressed_data(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "corrupt.zip", {"messages.csv": bytes(range(256)) * 400})
    data = bytearray(path.read_bytes())
    start = 30 + len("messages.csv")
    for i in range(start + 10, start + 200):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    with (
        safety.open_zip(path, Settings()) as zf,
        pytest.raises(InputError) as exc,
        safety.read_member(zf, "messages.csv", str(path), Settings()) as fh,
    ):
        fh.read()
    assert "'messages.csv' is damaged" in problem_of(exc)


def test_unsupported_compression_method(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "aes.zip", {"messages.csv": CSV})
    patch_central(path, 10, "<H", 99)
    with safety.open_zip(path, Settings()) as zf, pytest.raises(InputError) as exc:
        safety.read_member(zf, "messages.csv", str(path), Settings())
    assert "unsupported compression method (99)" in problem_of(exc)


def test_plain_file_reader_enforces_the_file_limit(tmp_path: Path) -> None:
    path = tmp_path / "messages.csv"
    path.write_bytes(b"x" * 2000)
    with pytest.raises(InputError, match="over the 1,000-byte limit"):
        safety.open_file_bounded(path, str(tmp_path), "messages.csv", 1000)


# --- the export reader refuses hostile archives with the same errors ---------------------------------------


def test_linkedin_reader_refuses_a_hostile_export(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "Basic_LinkedInDataExport_01-02-2026.zip", {"messages.csv": CSV, "../x": b""})
    with pytest.raises(InputError) as exc:
        list(iter_linkedin_export(path, Settings(), IngestStats()))
    assert exc.value.source == str(path)
    assert "'../x'" in exc.value.problem


def test_linkedin_reader_refuses_a_bomb_inside_an_export(tmp_path: Path) -> None:
    bomb = CSV + b" " * (6 * MiB)
    path = make_zip(tmp_path / "export.zip", {"messages.csv": bomb})
    with pytest.raises(InputError, match="zip bomb"):
        list(iter_linkedin_export(path, Settings(), IngestStats()))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=600), st.integers(min_value=0, max_value=400), st.binary(min_size=1, max_size=8))
def test_damaged_archives_only_ever_raise_input_error(
    tmp_path: Path, noise: bytes, at: int, patch: bytes
) -> None:
    base = bytearray(
        make_zip(tmp_path / "base.zip", {"messages.csv": CSV, "Invitations.csv": b"From,To\n"}).read_bytes()
    )
    at = at % len(base)
    base[at : at + len(patch)] = patch
    path = tmp_path / "fuzz.zip"
    path.write_bytes(bytes(base) + noise)
    try:
        with safety.open_zip(path, Settings()) as zf:
            for name in zf.namelist():
                with safety.read_member(zf, name, str(path), Settings()) as fh:
                    fh.read()
    except InputError:
        pass
