"""The pharmacy as every surface sees it: one service object over its store, its knowledge
(catalogue, messages, checks), the answers given on the dashboard and its backup facts.

The command line, the dashboard and the PDF report all judge through it, so they tell one
story: the newest snapshot of every workstation, the answers and exceptions, the backup
records, judged by evaluate() and recorded in the history whenever something changed."""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path, PurePath
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from officine import snapshot as snapshots_mod
from officine.answers import Answers
from officine.backup import guardian
from officine.backup.guardian import DrillOutcome
from officine.backup.plan import default_plan_path, load_plan
from officine.backup.records import BackupRecords, RunRecord
from officine.backup.restic import Restic
from officine.errors import UserError
from officine.evaluate import Assessment
from officine.facts import Fact
from officine.services import history, incidents, registers, site, story
from officine.services import workstations as workstations_mod
from officine.services.backup import Guardian
from officine.services.backup import site_facts as backup_site_facts
from officine.services.backup_overview import BackupOverview
from officine.services.backup_overview import overview as backup_overview
from officine.services.bilan import bilan_data
from officine.services.collect import collect_local
from officine.services.knowledge import Knowledge, load_knowledge
from officine.services.passwords import site_facts as password_site_facts
from officine.services.responses import GivenAnswer, Responses, aware
from officine.snapshot import Snapshot
from officine.store import Store
from officine.store.db import host_key
from officine.store.models import (
    AuditRow,
    BackupRunRow,
    BackupVerificationRow,
    DestinationSightingRow,
    HostRow,
    PasswordAuditRow,
    SnapshotRow,
)

# A verdict can go stale with time alone (backup age, exception expiry, end of OS support).
REFRESH_AFTER = timedelta(hours=1)
MEMO_SIZE = 16  # recorded assessments kept parsed per process (about 150 kB each)
T = TypeVar("T")
SITE_INPUTS = "site_inputs"  # kept in the recorded assessment: what its site facts were made of


@dataclass(frozen=True)
class CurrentAudit:
    id: int
    created_at: datetime
    assessment: dict[str, Any]


@dataclass
class AuditResult:
    assessment: Assessment
    snapshots: list[Snapshot]
    answers: Answers
    audit_id: int | None


# Stored snapshots with their facts re-derived, per store: tens of milliseconds each, and
# snapshots never change. Held weakly by store, so a store no longer used (a test's, a fleet
# pharmacy's) is closed with its connections instead of being kept alive by this cache.
_SNAPSHOTS: weakref.WeakKeyDictionary[Store, OrderedDict[str, Snapshot]] = weakref.WeakKeyDictionary()
_SNAPSHOTS_LOCK = threading.Lock()
SNAPSHOTS_KEPT = 64


def _snapshot(store: Store, snapshot_id: str) -> Snapshot:
    with _SNAPSHOTS_LOCK:
        found = _SNAPSHOTS.get(store, OrderedDict()).get(snapshot_id)
    if found is not None:
        return found
    with Session(store.engine) as session:
        row = session.execute(
            select(SnapshotRow.document, SnapshotRow.packed).where(SnapshotRow.id == snapshot_id)
        ).one()
    document = store.snapshot_documents([(snapshot_id, row.document, row.packed)])[snapshot_id]
    snap = snapshots_mod.reanalyse(snapshots_mod.parse(document, PurePath("base")))
    with _SNAPSHOTS_LOCK:
        kept = _SNAPSHOTS.setdefault(store, OrderedDict())
        kept[snapshot_id] = snap
        while len(kept) > SNAPSHOTS_KEPT:
            kept.popitem(last=False)
    return snap


class SiteSource(Protocol):
    """Where the facts about the whole pharmacy come from: this machine's backup plan and
    incident journals (`LocalSite`), or what the pharmacy's agents sent to the fleet server."""

    def facts(self, store: Store, answers: Answers, now: datetime) -> dict[str, Fact]: ...

    def signature(self, store: Store, session: Session) -> str:
        """A short signature of what the facts are made of (read in `session`, on `store`):
        when it changes, re-judge."""
        ...


@dataclass
class LocalSite:
    """The pharmacy on this machine: the backup plan file, the guardian's records, the incident
    journals in the data folder, the password audits recorded here."""

    plan_path: Path | None = None

    def facts(self, store: Store, answers: Answers, now: datetime) -> dict[str, Fact]:
        return site_facts(answers, now, store=store, plan_path=self.plan_path)

    def signature(self, store: Store, session: Session) -> str:
        plan = self.plan_path or default_plan_path()
        # A password audit recorded from the command line, the incident journals.
        parts: list[object] = [incidents.signature(), session.scalar(select(func.max(PasswordAuditRow.id)))]
        parts.append(registers.signature(session))  # a register changed from the command line
        if plan.exists():
            st = plan.stat()
            parts += [
                st.st_mtime_ns,
                st.st_size,
                session.scalar(select(func.max(BackupRunRow.id))),
                session.scalar(select(func.max(BackupVerificationRow.id))),
                session.scalar(select(func.max(DestinationSightingRow.id))),
            ]
        return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


class Pharmacy:
    """One pharmacy's data in one store. Writes are serialised: one assessment at a time."""

    def __init__(
        self,
        store: Store,
        knowledge: Knowledge | None = None,
        plan_path: Path | None = None,
        site: SiteSource | None = None,
    ) -> None:
        self.store = store
        self.knowledge = knowledge or load_knowledge()
        self.plan_path = plan_path
        self.site: SiteSource = site or LocalSite(plan_path)
        self.responses = Responses(store, self.knowledge.questions(), set(self.knowledge.measures()))
        self._write = threading.Lock()
        self._checked_at: datetime | None = None
        self._judged_inputs: str | None = None
        self._memo_lock = threading.Lock()
        self._documents: dict[int, dict[str, Any]] = {}
        self._derived: dict[tuple[int, str], object] = {}
        self._by_stamp: dict[tuple[tuple[str, object], tuple[int, int]], object] = {}

    @classmethod
    def open(cls, store_url: str | None = None, knowledge: Knowledge | None = None) -> Pharmacy:
        return cls(Store(store_url), knowledge)

    # -- the pharmacy itself --------------------------------------------------------------------
    def profile(self) -> site.Profile | None:
        return site.load_profile(self.store)

    def save_profile(self, profile: site.Profile, by: str) -> None:
        site.save_profile(self.store, profile, by)
        if self.has_snapshots():
            self.reassess()  # the declared USB devices change AMO-01

    # -- what people said ----------------------------------------------------------------------
    def answers(self) -> Answers:
        return self.responses.answers()

    def given_answers(self) -> dict[str, GivenAnswer]:
        return self.responses.given()

    def proof(self, proof_id: int) -> tuple[str, str, bytes] | None:
        return self.responses.proof(proof_id)

    def record_answer(self, question_id: str, value: str, by: str, proof: tuple[str, bytes] | None = None) -> int:
        now = datetime.now(UTC)
        self.responses.record_answer(question_id, value, by, proof, now)
        return self.reassess(now=now)

    def set_exception(self, measure_id: str, justification: str, until: str, by: str, today: date | None = None) -> int:
        now = datetime.now(UTC)
        self.responses.set_exception(measure_id, justification, until, by, today or now.date(), now)
        return self.reassess(now=now)

    def withdraw_exception(self, measure_id: str, by: str) -> int:
        now = datetime.now(UTC)
        self.responses.withdraw_exception(measure_id, by, now)
        return self.reassess(now=now)

    # -- backup facts ---------------------------------------------------------------------------
    def backup_facts(self, now: datetime) -> dict[str, Fact]:
        return backup_site_facts(plan_path=self.plan_path, now=now, store=self.store)

    def plan_file(self) -> Path:
        return self.plan_path or default_plan_path()

    def backup_overview(self, now: datetime | None = None) -> BackupOverview:
        """The plan, each destination's last run and drill with its proof, the SAV verdicts."""
        now = now or datetime.now(UTC)
        plan, error = None, None
        if self.plan_file().exists():
            try:
                plan = load_plan(self.plan_file())
            except UserError as exc:
                error = exc.message
        profile = self.profile()
        folders = [f.model_dump() for f in profile.folders] if profile else []
        current = self.current(now)
        facts = self.backup_facts(now) if plan is not None else {}
        records = BackupRecords(self.store) if plan is not None else None
        return backup_overview(plan, error, facts, records, current.assessment if current else None, folders)

    def _guardian(self) -> Guardian:
        return Guardian(load_plan(self.plan_file()), self.plan_file(), BackupRecords(self.store), Restic.find())

    def run_backups(self, progress: Callable[[str], None] | None = None) -> list[RunRecord]:
        """Back up now to every destination present, then re-judge (SAV verdicts change). One
        backup or drill at a time on this machine, whoever started it (the page, the timer, the CLI)."""
        g = self._guardian()
        if not g.plan.sources:
            raise UserError("Le plan ne contient aucun dossier : ajoutez-en avec « officine backup plan add-source ».")
        with guardian.exclusive():
            runs = guardian.run_plan(g.plan, g.restic, g.records, progress=progress)
        self.reassess()
        return runs

    def drill_backups(self, progress: Callable[[str], None] | None = None) -> list[DrillOutcome]:
        """Check every destination and restore a sample compared with the originals, then re-judge."""
        g = self._guardian()
        with guardian.exclusive():
            counts = guardian.survey_sources(g.plan, g.records)  # the folders counted once for all
            outcomes = [
                guardian.drill_destination(g.plan, d, g.restic, g.records, progress=progress, counts=counts)
                for d in g.plan.destinations
            ]
        self.reassess()
        return outcomes

    def site_facts(self, answers: Answers, now: datetime) -> dict[str, Fact]:
        return self.site.facts(self.store, answers, now)

    # -- judging --------------------------------------------------------------------------------
    def judge(
        self, snapshots: list[Snapshot], now: datetime, answers: Answers | None = None
    ) -> tuple[Assessment, Answers]:
        """The assessment of these workstations with the answers given here (or those passed)."""
        answers = answers if answers is not None else self.answers()
        assessment = self.knowledge.judge(snapshots, answers, self.site_facts(answers, now), now.date())
        return assessment, answers

    def audit(
        self, snapshots: list[Snapshot], answers: Answers | None = None, now: datetime | None = None
    ) -> AuditResult:
        """Judge exactly these workstations and record the result (the command line's audit)."""
        inputs = self.site_inputs()
        assessment, used = self.judge(snapshots, now or datetime.now(UTC), answers)
        document = {**assessment.to_json(), SITE_INPUTS: inputs}
        audit_id = self.store.record_audit(
            [s.to_json() for s in snapshots], document, answers_json(used), kind="selection"
        )
        return AuditResult(assessment, snapshots, used, audit_id)

    def reassess(self, extra: list[Snapshot] | None = None, now: datetime | None = None, force: bool = False) -> int:
        """Judge the latest snapshot of every workstation (plus new ones) and record the result
        when it differs from the latest audit (or new snapshots came in). Returns the audit id."""
        now = now or datetime.now(UTC)
        with self._write:
            inputs = self.site_inputs()
            snaps = _merge(self.latest_snapshots(), extra or [])
            assessment, answers = self.judge(snaps, now)
            document = {**assessment.to_json(), SITE_INPUTS: inputs}
            latest = self.latest_audit()
            self._judged_inputs = inputs
            if latest is not None and not extra and not force and _same(latest.assessment, document):
                return latest.id
            return self.store.record_audit(
                [s.to_json() for s in snaps], document, answers_json(answers), kind="pharmacy"
            )

    def import_snapshot(self, raw: bytes, filename: str) -> tuple[int, Snapshot]:
        """A file brought from another workstation: checked (format, seal), re-derived, recorded."""
        name = PurePath(filename or "instantané").name
        if len(raw) > snapshots_mod.MAX_SNAPSHOT_BYTES:
            raise UserError(f"Le fichier {name} est trop gros pour être un instantané. Rien n'a été importé.")
        snap = snapshots_mod.reanalyse(snapshots_mod.loads(raw, PurePath(name)))
        return self.reassess(extra=[snap]), snap

    def audit_this_machine(self, progress: Callable[[str], None] | None = None) -> tuple[int, Snapshot]:
        snap = collect_local(None, progress)
        return self.reassess(extra=[snap]), snap

    # -- the current assessment -----------------------------------------------------------------
    def latest_audit(self) -> CurrentAudit | None:
        with Session(self.store.engine) as session:
            return self._latest_audit(session)

    def _latest_audit(self, session: Session) -> CurrentAudit | None:
        row = session.execute(
            select(AuditRow.id, AuditRow.created_at).order_by(AuditRow.created_at.desc(), AuditRow.id.desc()).limit(1)
        ).first()
        if row is None:
            return None
        document = self.audit_document(row.id)
        return None if document is None else CurrentAudit(row.id, aware(row.created_at), document)

    def current(self, now: datetime | None = None) -> CurrentAudit | None:
        """The latest assessment, re-judged first when time alone may have changed a verdict."""
        now = now or datetime.now(UTC)
        with Session(self.store.engine) as session:  # one database session for the usual case
            latest = self._latest_audit(session)
            if latest is None:
                return None
            newest = list(session.scalars(_newest_per_host(SnapshotRow.id)))
            # A backup run or an incident noted from the command line changes the verdicts too.
            inputs = self.site_inputs(session)
        fresh = (
            latest.created_at > now - REFRESH_AFTER and latest.assessment.get("evaluated_on") == now.date().isoformat()
        )
        checked = self._checked_at is not None and self._checked_at > now - REFRESH_AFTER
        same_inputs = inputs in (latest.assessment.get(SITE_INPUTS), self._judged_inputs)
        if (fresh or checked or not newest) and _covers(latest, newest) and same_inputs:
            return latest
        self.reassess(now=now)
        self._checked_at = now
        return self.latest_audit()

    def site_inputs(self, session: Session | None = None) -> str:
        """A short signature of what the site facts are made of (incident journals, the backup
        plan and its records, a password audit recorded from the command line): when it changes,
        the current assessment is judged again. Read in the caller's database session if given."""
        if session is None:
            with Session(self.store.engine) as own:
                return self.site_inputs(own)
        return self.site.signature(self.store, session)

    def _latest_snapshot_ids(self) -> list[str]:
        with Session(self.store.engine) as session:
            return list(session.scalars(_newest_per_host(SnapshotRow.id)))

    def has_snapshots(self) -> bool:
        with Session(self.store.engine) as session:
            return bool(session.scalar(select(func.count()).select_from(SnapshotRow)))

    def latest_snapshots(self) -> list[Snapshot]:
        """The newest snapshot of each workstation, facts re-derived from its observations."""
        snaps: dict[str, Snapshot] = {}
        for sid in self._latest_snapshot_ids():
            snap = _snapshot(self.store, sid)
            snaps.setdefault(_host_key(snap), snap)
        return list(snaps.values())

    # -- workstations -----------------------------------------------------------------------------
    def workstations(self) -> list[workstations_mod.Workstation]:
        counts = self._until_next_audit(("snapshot counts", None), lambda: workstations_mod.snapshot_counts(self.store))
        return workstations_mod.workstations(self.store, counts)

    def workstation(self, host_id: int) -> workstations_mod.Workstation | None:
        return workstations_mod.workstation(self.store, host_id)

    def newest_snapshot_ids(self) -> dict[int, str]:
        """The newest snapshot of every workstation, retired ones included, by workstation id."""
        with Session(self.store.engine) as session:
            rows = session.execute(_newest_per_host(HostRow.id, SnapshotRow.id, in_service=False)).all()
        return {int(host_id): str(snapshot_id) for host_id, snapshot_id in rows}

    def stored_snapshot(self, snapshot_id: str) -> Snapshot:
        return _snapshot(self.store, snapshot_id)

    def workstation_view(self, host_id: int) -> workstations_mod.WorkstationView | None:
        w = self.workstation(host_id)
        if w is None:
            return None
        snapshot_id = self.newest_snapshot_ids().get(host_id)
        current = self.current()
        in_current = bool(current and any(h["snapshot_id"] == snapshot_id for h in current.assessment["hosts"]))
        document = None
        if snapshot_id is not None:
            # A retired workstation: as the last audit that judged it saw it.
            document = (
                current.assessment if current and in_current else workstations_mod.judged_in(self.store, snapshot_id)
            )
        entry = next((h for h in (document or {}).get("hosts", []) if h["snapshot_id"] == snapshot_id), None)
        return workstations_mod.WorkstationView(
            w,
            snapshot_id,
            entry,
            self.stored_snapshot(snapshot_id).collector if snapshot_id else {},
            in_current,
            story.host_measures(document, snapshot_id) if document and snapshot_id else [],
            workstations_mod.past_collections(self.store, host_id),
        )

    def retire(self, host_id: int, by: str, reason: str = "") -> str:
        """Out of the current score, kept in the history; the pharmacy is re-judged without it."""
        name = workstations_mod.retire(self.store, host_id, by, reason, datetime.now(UTC))
        if self._latest_snapshot_ids():
            self.reassess()
        return name

    def reinstate(self, host_id: int) -> str:
        name = workstations_mod.reinstate(self.store, host_id)
        self.reassess()
        return name

    # -- history --------------------------------------------------------------------------------
    def recent_audits(self, limit: int = 30) -> list[history.AuditLine]:
        return history.recent(self.store, limit)

    def score_series(self, since: datetime | None = None) -> list[tuple[datetime, int, int]]:
        """The history's daily points (ranking a year of hourly audits is most of the history
        page's work), read again only once an audit was recorded."""
        return list(self._until_next_audit(("series", since), lambda: history.score_series(self.store, since)))

    def _until_next_audit(self, key: tuple[str, object], compute: Callable[[], T]) -> T:
        """What only a new audit can change (audits and their snapshots are recorded together
        and never changed nor deleted): computed again once the audits' stamp moved."""
        stamped = (key, history.audits_stamp(self.store))
        with self._memo_lock:
            found = self._by_stamp.get(stamped)
        if found is None:
            found = compute()
            with self._memo_lock:
                if len(self._by_stamp) >= 8:
                    self._by_stamp.pop(next(iter(self._by_stamp)))
                self._by_stamp[stamped] = found
        return cast("T", found)

    def trend(self, current: CurrentAudit) -> history.Trend:
        names = [str(h.get("hostname")) for h in current.assessment.get("hosts", [])]
        return self.derived(current.id, "trend", lambda: history.trend(self.store, current.id, names))

    def audit_line(self, audit_id: int) -> history.AuditLine | None:
        return history.audit_line(self.store, audit_id)

    def same_scope_before(self, audit: history.AuditLine) -> history.AuditLine | None:
        return history.earlier(self.store, audit, same_scope=True)

    def audit_hostnames(self, audit_ids: list[int]) -> dict[int, list[str]]:
        return self.store.audit_hostnames(audit_ids)

    def audit_document(self, audit_id: int) -> dict[str, Any] | None:
        """A recorded assessment. Audits never change once recorded: each is read and parsed once
        per process (a year of hourly audits makes each page read one, not re-parse it)."""
        found = self._documents.get(audit_id)
        if found is None:
            found = self.store.audit(audit_id)
            if found is not None:
                with self._memo_lock:
                    if len(self._documents) >= MEMO_SIZE:
                        self._documents.pop(next(iter(self._documents)))
                    self._documents[audit_id] = found
        return found

    def derived(self, audit_id: int, name: str, compute: Callable[[], T]) -> T:
        """What a page computes from one recorded assessment (tiles, counts, trend): computed
        once per process, as the assessment itself never changes."""
        key = (audit_id, name)
        if key not in self._derived:
            value = compute()
            with self._memo_lock:
                if len(self._derived) >= 8 * MEMO_SIZE:
                    self._derived.pop(next(iter(self._derived)))
                self._derived[key] = value
        return cast("T", self._derived[key])

    # -- the report -----------------------------------------------------------------------------
    def bilan(self) -> dict[str, Any] | None:
        """The report of the current assessment (web page, JSON and PDF alike)."""
        current = self.current()
        if current is None:
            return None
        profile = self.profile()
        measures = self.knowledge.measures().values()
        audiences = {m.id: str(m.questions[0].audience) for m in measures if m.questions}
        questions = {m.id: [" ".join(q.text.split()) for q in m.questions] for m in measures if m.questions}
        contacts = {r: c.model_dump() for r, c in profile.contacts.items()} if profile else {}
        return bilan_data(
            profile.pharmacy.model_dump() if profile else {},
            current.assessment,
            current.id,
            current.created_at,
            audiences,
            contacts,
            questions,
        )


def site_facts(
    answers: Answers,
    now: datetime,
    *,
    store: Store | None = None,
    store_url: str | None = None,
    plan_path: Path | None = None,
) -> dict[str, Fact]:
    """Facts about the whole pharmacy rather than one workstation: its declared USB devices, its
    backups (the store is opened only when a plan exists), its incident journal and its latest
    password audit."""
    return {
        **answers.site_facts(),
        **backup_site_facts(store_url, plan_path, now, store),
        **incidents.journal_fact(),
        **password_site_facts(store, now),
        **registers.site_facts(store, now),
    }


def answers_json(answers: Answers) -> dict[str, Any]:
    return {
        "answered_by": answers.answered_by,
        "answered_at": answers.answered_at.isoformat() if answers.answered_at else None,
        "answers": answers.values,
        "exceptions": [e.model_dump(mode="json") for e in answers.exceptions.values()],
        "approved_usb_devices": answers.approved_usb_devices,
    }


def _covers(audit: CurrentAudit, newest: list[str]) -> bool:
    """Whether an audit judged exactly the newest snapshot of every workstation in service (a
    command-line audit of one machine does not, nor one that still counts a retired workstation:
    the dashboard then re-judges the whole pharmacy)."""
    judged = {h.get("snapshot_id") for h in audit.assessment.get("hosts", [])}
    return judged == set(newest)


def _newest_per_host(*columns: Any, in_service: bool = True) -> Any:
    """The newest snapshot of each workstation (in service only, unless told): hosts.last_seen
    is its collection time, so this is one index lookup per workstation however long the history."""
    query = select(*columns).join(
        HostRow, (SnapshotRow.host_id == HostRow.id) & (SnapshotRow.collected_at == HostRow.last_seen)
    )
    if in_service:
        query = query.where(HostRow.retired_at.is_(None))
    return query.order_by(HostRow.id)


def _merge(latest: list[Snapshot], extra: list[Snapshot]) -> list[Snapshot]:
    by_host = {_host_key(s): s for s in latest}
    for snap in extra:
        current = by_host.get(_host_key(snap))
        if current is None or snap.collected_at >= current.collected_at:
            by_host[_host_key(snap)] = snap
    return list(by_host.values())


def _host_key(snap: Snapshot) -> str:
    return host_key({"host": {"hostname": snap.hostname, **snap.host}})


def _same(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Same verdicts, same evidence, same exceptions: nothing worth a new line in the history."""

    def key(doc: dict[str, Any]) -> Any:
        return (
            doc.get("score"),
            sorted(str(h.get("snapshot_id")) for h in doc.get("hosts", [])),
            [(m["id"], m["verdict"], m["evidence"], m["exception"]) for m in doc.get("measures", [])],
        )

    return bool(key(old) == key(new))
