"""Building the deck: plan it, package it, write it and the ledger atomically.

What makes re-imports safe (each a mistake the usual tools make):

- A note's GUID is a hash of its entry id alone, so a reworded note is the same note.
- The note type, its fields and its templates have fixed ids and a frozen field list
  (notetype.py): Anki sees the same note type on every import, not a conflicting copy.
- A note's modification time is the time its content last changed, from the ledger
  (`cards/anki.lock`): Anki's default "update if newer" then updates exactly the edited
  notes and leaves the learner's own edits of the others alone.
- Every id and time inside the package comes from the ledger or from stable names, and
  the zip is written with fixed entry times, so the same input gives the same bytes.

An entry removed from the cards keeps its note, tagged `<root>::retired` and moved to
its own subdeck in fresh imports, so the learner can find it and delete it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, StaleLedgerError
from ..link import Linker
from ..load import no_gc_pauses
from ..model import Glossary
from ..output import write_file
from ..pool import Beside, worth_forking
from .cache import read_field_cache, write_field_cache
from .history import published_peaks
from .ledger import dumps_ledger, ledger_bytes, read_ledger, read_ledger_file, write_ledger_index
from .memo import names_key, read_memo, write_memo
from .notetype import TEMPLATES
from .options import DeckOptions, slug
from .package import package_bytes
from .plan import plan_deck
from .questions import Questions
from .zipped import read_piece_cache, write_piece_cache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeckReport:
    """What a build produced and how the notes compare with the ledger."""

    out: Path
    ledger: Path
    notes: int
    cards: int
    subdecks: int
    new: int
    changed: int
    unchanged: int
    # new + changed + unchanged + retired == notes; a note retired by an earlier build
    # counts as unchanged (or changed) and in retired_total.
    retired: int  # entries that left the cards in this build
    retired_total: int  # retired notes in the package, including earlier ones
    retired_ids: tuple[str, ...]
    ledger_changed: bool
    fresh: int = 0  # notes rendered anew; the rest came from the field cache
    remembered: int = 0  # notes whose hash came from the note memo (not made again)
    masked: int = 0  # questions masked anew; the rest came from the question cache
    # The ledger's namespace when this build used another one: every note is new to
    # learners' collections, the old ones stay beside them.
    namespace_changed_from: str | None = None


def build_deck(
    glossary: Glossary,
    out: Path,
    *,
    ledger_path: Path,
    options: DeckOptions,
    now: int | None = None,
    locked: bool = False,
    cache_dir: Path | None = None,
    linker: Linker | None = None,
    cache_writes: Sequence[Callable[[], None]] = (),
) -> DeckReport:
    """Write the .apkg to `out` and update the ledger; both writes are atomic.

    With `locked`, a ledger that would change is an error and nothing is written.
    `cache_dir` (the project's cache folder) keeps rendered fields between builds.
    `linker`, the glossary's (`Linker.for_glossary(glossary, cache_dir)`), lets a
    caller that links pages too (the site) build it once for both. `cache_writes` (the
    read cache's, `load_glossary`'s `later`) are done while the package is made.
    """
    with no_gc_pauses():  # a record per note, read and kept: nothing to collect
        read = read_ledger_file(ledger_path, cache_dir)
        ledger = read.ledger
        memo = read_memo(cache_dir, [topic.read_key for topic in glossary.topics])
        # Every name's key: only the names of card files read anew are hashed.
        names, topic_names = names_key(glossary, memo.names) if cache_dir else ("", {})
        # Names are inflected only if a question must be masked anew (questions.py).
        questions = Questions(glossary, linker, cache_dir, names)
        stored = read_field_cache(cache_dir)
        # The plan is kept too: a note and a record per entry, and, in a cold build, every
        # entry's names in every form, made to mask its question.
        plan = plan_deck(
            glossary,
            ledger,
            options,
            build_time() if now is None else now,
            stored.fields,
            questions,
            published_peaks(ledger_path),
            memo,
        )
    renamed = None
    if ledger.notes and ledger.namespace and slug(ledger.namespace) != options.id_root:
        renamed = ledger.namespace
    pieces = read_piece_cache(cache_dir)
    # The caches for the next build: every note's fields and masked question, each
    # entry's keys (the linker's, made for masking), the notes' memo, the read cache's
    # files (and the ledger's index, below). After a cold build they are tens of
    # megabytes of JSON and SQLite made by Python code: on threads beside packaging
    # (itself half Python) they held the GIL and doubled its time. So they are written
    # in a forked child meanwhile, forked before any thread starts (a fork copies no
    # other thread). A few changed notes' caches are not worth a fork: threads, as
    # SQLite and zlib let go of the GIL. A locked build writes nothing if its ledger is
    # stale, so it saves after the check.
    saves = [questions.save, *cache_writes]
    saves.append(lambda: write_field_cache(cache_dir, plan.fields_by_hash, stored))
    saves.append(lambda: write_memo(cache_dir, plan.memo_key, plan.memo, memo, topic_names))
    fork = cache_dir is not None and not locked and worth_forking(plan.fresh + questions.masked)
    with (
        Beside(lambda: _run_all(saves)) if fork else contextlib.nullcontext() as saving,
        ThreadPoolExecutor(max_workers=3) as executor,
    ):
        packaged = executor.submit(package_bytes, plan, pieces)
        # Unchanged records are copied from the ledger's bytes if this code wrote them.
        new_bytes, spans = ledger_bytes(plan.ledger, read)
        ledger_changed = new_bytes != read.data
        if locked and ledger_changed:
            raise StaleLedgerError(stale_message(ledger_path))
        for entry_id in plan.retired:
            log.warning(
                "entry '%s' is no longer in the cards: its note stays in the deck, tagged %s",
                entry_id,
                options.retired_tag,
            )
        saved = [] if saving else [executor.submit(save) for save in saves]
        if ledger_changed or read.spans is None:
            # (stamped with the bytes it describes: not used if the ledger is not written)
            saved.append(
                executor.submit(write_ledger_index, cache_dir, new_bytes, plan.ledger, spans)
            )
        package = packaged.result()
        saved.append(executor.submit(write_piece_cache, cache_dir, pieces))
        for future in saved:
            future.result()  # re-raises here what the thread raised
        if saving:
            saving.result()  # raises what a save raised, as a thread's future does
    write_file(out, package)
    if ledger_changed:
        write_file(ledger_path, new_bytes)
    log.info("rendered %d notes, reused %d", plan.fresh, len(plan.notes) - plan.fresh)
    return DeckReport(
        out=out,
        ledger=ledger_path,
        notes=len(plan.notes),
        cards=sum(len(TEMPLATES) for note in plan.notes if note.topic is not None),
        subdecks=len(plan.subdeck_names),
        new=len(plan.new),
        changed=len(plan.changed),
        unchanged=len(plan.unchanged),
        retired=len(plan.retired),
        retired_total=plan.retired_total,
        retired_ids=plan.retired,
        ledger_changed=ledger_changed,
        fresh=plan.fresh,
        remembered=plan.remembered,
        masked=questions.masked,
        namespace_changed_from=renamed,
    )


def _run_all(steps: Sequence[Callable[[], None]]) -> None:
    for step in steps:
        step()


def ledger_is_current(
    glossary: Glossary, ledger_path: Path, options: DeckOptions, cache_dir: Path | None = None
) -> bool:
    """Whether building would leave the ledger exactly as it is (nothing is written)."""
    ledger, text = read_ledger(ledger_path)
    questions = Questions(glossary, cache_dir=cache_dir)
    plan = plan_deck(
        glossary, ledger, options, build_time(), masks=questions, peaks=published_peaks(ledger_path)
    )
    return dumps_ledger(plan.ledger) == text


def stale_message(ledger_path: Path) -> str:
    return f"{ledger_path} is stale: run `make deck` (python build.py deck) and commit it"


def build_time() -> int:
    """Now, or SOURCE_DATE_EPOCH when set (reproducible builds)."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        return int(time.time())
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"SOURCE_DATE_EPOCH={value!r} is not a Unix time in seconds") from None
