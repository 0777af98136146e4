"""All settings, read from ``LUREWATCH_*`` environment variables in this one module.

Every field of :class:`Settings` is documented in the README (a test checks that).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from lurewatch.errors import LurewatchError

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Settings:
    #: workspace database file used when no ``--workspace`` is given
    workspace: Path = Path("lurewatch-workspace/workspace.sqlite")
    #: SQLAlchemy URL; overrides ``workspace`` (e.g. postgresql+psycopg://user@host/db)
    database_url: str | None = None
    #: extra indicator catalogue (TOML) merged over the bundled one
    catalogue: Path | None = None
    #: risk at or above which an approach counts as an alert (and the escalation point is recorded)
    alert_threshold: float = 0.5
    #: largest single input file (CSV, mbox, JSONL, zip) read, in bytes
    max_file_bytes: int = 2048 * MiB
    #: zip archives: most entries, total and per-entry uncompressed bytes, compression ratio
    max_zip_entries: int = 10_000
    max_zip_total_bytes: int = 4096 * MiB
    max_zip_entry_bytes: int = 2048 * MiB
    max_zip_ratio: float = 200.0
    #: longest text field kept (longer fields are truncated and counted, never silently)
    max_field_chars: int = 100_000
    #: most messages kept per conversation (later ones are dropped and counted)
    max_messages_per_conversation: int = 10_000
    #: largest e-mail message parsed, in bytes
    max_email_bytes: int = 25 * MiB
    #: conversations held open while streaming a messages.csv whose rows are not grouped
    max_open_conversations: int = 200_000
    #: text model: ``auto`` (the newest one `lurewatch train` made for the workspace, else the bundled
    #: one), ``bundled``, ``off`` (the rules alone), or the path of a model file or folder of models
    model: str = "auto"
    #: worker processes that score while the main process reads (-1: one per core, at most 8, none on a
    #: single core or with the rules alone; 0: score in the main process). Inputs shorter than about 2,000 approaches are
    #: scored in-process.
    workers: int = -1
    #: directory for derived data kept between runs (the unpacked language model); None means
    #: ``$XDG_CACHE_HOME/lurewatch`` or ``~/.cache/lurewatch``
    cache_dir: Path | None = None
    #: campaigns: Jaccard similarity of wording (character 5-grams after masking) that counts as the same
    campaign_threshold: float = 0.7
    #: campaigns: fewest distinct recipients a group must reach to be reported
    campaign_min_recipients: int = 3
    #: campaigns: weight a link between accounts needs to join them (lurewatch.campaigns.engine.LINK_RULES)
    campaign_link_threshold: float = 0.6
    #: campaigns: a value (domain, photo, handle) shared by more accounts than this is a stock value, not evidence
    campaign_max_accounts_per_key: int = 50
    #: campaigns: profile-photo hashes up to this many bits apart count as one photo (0: identical only)
    campaign_photo_distance: int = 2
    #: web dashboard (`lurewatch serve`): address and port to listen on; loopback unless you mean otherwise
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    #: web dashboard: hours a sign-in lasts
    web_session_hours: float = 12.0
    #: web dashboard: mark cookies Secure (set this when the dashboard is served over HTTPS)
    web_secure_cookies: bool = False
    #: web dashboard: largest file a user may upload in a report, in bytes
    web_max_upload_bytes: int = 50 * MiB
    #: web dashboard: failed sign-ins allowed per username and per client address within the window
    web_login_attempts: int = 5
    web_login_window_s: int = 900
    #: TLP 2.0 marking given to exports unless asked otherwise (clear, green, amber, amber+strict, red)
    export_tlp: str = "amber"
    #: owners: effective share (percent) from which an owner counts (25 by default; 10 and 50 are common)
    owners_threshold: float = 25.0
    #: owners: ownership chains with more links than this are flagged as opaque
    owners_max_chain: int = 4
    #: owners: most ancestors of a subject examined in one screening (beyond, the result says truncated)
    owners_max_nodes: int = 20_000
    #: owners: most ownership/control paths enumerated in one screening
    owners_max_paths: int = 500
    #: owners: an interest that began or ceased within this many days of the reference date is a recent change
    owners_recent_days: int = 365
    #: owners: name-match score (0-1) from which a list entry counts as a match
    owners_match_threshold: float = 0.9
    #: owners: largest ownership file read (a full PSC snapshot is about 10 GB)
    owners_max_file_bytes: int = 64 * 1024 * MiB
    #: owners: CSV of secrecy jurisdictions (code,name) replacing the bundled one
    owners_secrecy_list: Path | None = None
    #: lists: directory of screening lists (read by `owners screen`, filled by `lists update`)
    lists_dir: Path = Path("lurewatch-lists")
    #: campaigns on the spark engine: the Spark master (``local[4]``, ``spark://host:7077``, ``yarn``...);
    #: None keeps the one spark-submit gave, else ``local[*]``
    spark_master: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(env_name(f.name))
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f.name, raw, f.default)
        return cls(**values)  # type: ignore[arg-type]


def env_name(field_name: str) -> str:
    return "LUREWATCH_" + field_name.upper()


def _convert(name: str, raw: str, default: object) -> object:
    try:
        if isinstance(default, bool):
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if isinstance(default, int):
            value: object = int(raw)
        elif isinstance(default, float):
            value = float(raw)
        elif isinstance(default, Path) or name in {"catalogue", "cache_dir", "owners_secrecy_list"}:
            value = Path(raw).expanduser()
        else:
            value = raw
    except ValueError:
        raise LurewatchError(f"{env_name(name)}={raw!r} is not a valid {type(default).__name__}") from None
    if name == "workers":
        if not isinstance(value, int) or value < -1:
            raise LurewatchError(
                f"{env_name(name)} must be -1 (automatic), 0 or a positive number, got {raw!r}"
            )
    elif name == "owners_threshold" and isinstance(value, float) and not 0 < value <= 100:
        raise LurewatchError(f"{env_name(name)} must be a percentage in (0, 100], got {raw!r}")
    elif name == "owners_match_threshold" and isinstance(value, float) and not 0 < value <= 1:
        raise LurewatchError(f"{env_name(name)} must be a score in (0, 1], got {raw!r}")
    elif isinstance(value, int | float) and value <= 0:
        raise LurewatchError(f"{env_name(name)} must be positive, got {raw!r}")
    return value


def get_settings() -> Settings:
    return Settings.from_env()
