"""The one small interface the campaign algorithm runs on, so the same steps run locally or distributed.

The algorithm (:mod:`lurewatch.campaigns.engine`) decides *what* to compute: which evidence links
accounts, with what weight, which groups are campaigns and how they are scored. A backend decides
*how*: the local one (:class:`lurewatch.campaigns.local.LocalBackend`) with NumPy arrays, SciPy
connected components and DuckDB aggregates; a distributed one with the same steps as DataFrame jobs.

Every table crossing this interface is a small-ish :class:`pyarrow.Table` (links, group summaries,
samples, members of the chosen groups); per-message data stays inside the backend.

The steps, in order:

1. :meth:`CampaignBackend.ingest` (map): for every message, the text sketch (exact key, LSH band keys,
   b-bit verification sketch; :func:`lurewatch.campaigns.signatures.sketch_batch`) and the contact keys
   of its text (:func:`lurewatch.campaigns.persona_keys.contact_keys_batch`), computed batch-wise;
   the sender's profile fields kept once per account.
2. :meth:`CampaignBackend.text_clusters`: near-duplicate groups of messages (exact keys first, then
   band collisions verified on the b-bit sketch), by connected components.
3. :meth:`CampaignBackend.account_keys`: the evidence values each account shows (contacts, photo hash,
   name with company, name with wording). The engine turns them into links with :func:`shared_key_links`.
4. :meth:`CampaignBackend.assign_groups`: connected components of accounts over the chosen links.
5. :meth:`CampaignBackend.group_summaries`: per group of accounts, fan-out, reach of its most
   repeated wording, timing: the engine picks candidate campaigns from these.
6. :meth:`CampaignBackend.group_messages`: the member messages of chosen groups, or a sample of them
   with their text (for screening and the exemplar).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import pyarrow as pa

#: progress callback: (stage, done, total or None)
Progress = Callable[[str, int, int | None], None]


class StreamSource(ABC):
    """Message batches in :data:`lurewatch.ingest.stream.SCHEMA`, readable more than once."""

    name: str = "stream"

    @abstractmethod
    def batches(self) -> Iterator[pa.RecordBatch]: ...

    def size_hint(self) -> int | None:
        """Number of rows when known cheaply (for progress), else None."""
        return None


@dataclass(frozen=True, slots=True)
class KeyRule:
    """An evidence kind: accounts sharing one value of it are linked with ``weight``."""

    kind: str
    weight: float
    description: str


class CampaignBackend(ABC):
    """Where the per-message work happens. See the module docstring for the order of the steps."""

    name: str = "abstract"

    @abstractmethod
    def ingest(self, source: StreamSource, progress: Progress | None = None) -> int:
        """Run the map step over ``source``; returns the number of messages kept."""

    @abstractmethod
    def text_clusters(self, threshold: float) -> int:
        """Group near-duplicate messages; returns the number of groups with two or more messages."""

    @abstractmethod
    def account_keys(self, max_accounts: int) -> pa.Table:
        """Evidence values shared by 2..``max_accounts`` accounts.

        Columns: ``kind``, ``value``, ``accounts`` (list<string>, sorted), ``messages`` (int64, how
        many messages carried the value; 0 for profile fields). Values held by more accounts are
        too common to be evidence; their number per kind is in :attr:`common_keys`.
        """

    @abstractmethod
    def photo_pairs(self, max_distance: int) -> pa.Table:
        """Accounts whose photo hashes differ in 1..``max_distance`` bits: ``account_a``, ``account_b``, ``distance``."""

    @abstractmethod
    def assign_groups(self, links: pa.Table) -> int:
        """Connected components of accounts over ``links`` (``account_a``, ``account_b``); returns the count."""

    @abstractmethod
    def group_summaries(self, min_recipients: int, burst_window_s: int, max_accounts: int = 50) -> pa.Table:
        """Per group with at least ``min_recipients`` distinct recipients.

        Columns: ``group`` (int64), ``accounts``, ``messages``, ``recipients``, ``sensitive_recipients``,
        ``known_sector_recipients``, ``top_reach`` (most distinct recipients of one wording, among wordings sent by at most
        ``max_accounts`` accounts: stock phrases do not count), ``templates`` (such wordings used two or
        more times), ``first_seen``, ``last_seen``, ``max_burst``.
        """

    @abstractmethod
    def group_messages(
        self, groups: Sequence[int], *, sample: int | None = None, with_text: bool = False
    ) -> pa.Table:
        """Member messages of ``groups``: all of them, or up to ``sample`` per group (one per wording,
        most repeated first, earliest message of each; then with ``rank``, 0 for the most repeated, and
        ``weight``, the group's messages in that wording). Columns: ``group``, ``cluster``, the contract's
        columns (``message_id``, ``sent_at``, ``sender_id``, ``recipient_id``, ``recipient_org``,
        ``recipient_sector``), and with ``with_text`` every other contract column too."""

    @abstractmethod
    def account_profiles(self, accounts: Iterable[str]) -> pa.Table:
        """Profile fields of accounts: ``sender_id`` and the ``sender_*`` columns."""

    @property
    def common_keys(self) -> dict[str, int]:
        return {}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release temporary state."""

    def __enter__(self) -> CampaignBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["CampaignBackend", "KeyRule", "Progress", "StreamSource"]
