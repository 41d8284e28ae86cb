"""The real sentinel on real folders: the bench's simulator in every mode, the benign suite,
folders that come and go, a queue overflow, and a sentinel killed while a process is suspended."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import is_root
from officine.sentinel.config import sentinel_dir, thresholds
from officine.sentinel.detector import HOST
from officine.sentinel.engine import Options, Sentinel
from officine.sentinel.processes import SuspendedRecords, state, suspend
from sentinel_helpers import BENIGN, SIM, corpus, digests, wait_for

root_only = pytest.mark.skipif(not is_root(), reason="fanotify and suspending other processes need root")
MODES = ("full", "inplace", "intermittent", "small", "avoid")


@contextmanager
def running(folder: Path, work: Path, **options: object) -> Iterator[Sentinel]:
    said: list[str] = []
    opts = Options(
        events_file=work / "evenements.jsonl",
        use_store=False,
        journal=False,
        state_dir=work / "etat",
        say=said.append,
        status_interval=0.5,
    )
    for key, value in options.items():
        setattr(opts, key, value)
    sentinel = Sentinel([str(folder)], opts)
    sentinel.start()
    assert sentinel.wait_ready(60)
    try:
        yield sentinel
    finally:
        sentinel.stop()


def events(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def attack(folder: Path, mode: str, rate: int, work: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*SIM, "attack", str(folder), "--mode", mode, "--rate", str(rate), "--leurres", str(work / "etat/leurres.json")]
    )


@root_only
@pytest.mark.parametrize("mode", MODES)
def test_simulator_is_caught_named_and_really_stopped(mode: str, tmp_path: Path) -> None:
    with corpus() as folder, running(folder, tmp_path, journal=mode == "full") as sentinel:
        assert sentinel.watcher.mode == "fanotify"
        sim = attack(folder, mode, 400, tmp_path)
        try:
            assert wait_for(lambda: sentinel.reactions, 30), f"no alarm in mode {mode}"
            reaction = sentinel.reactions[0]
            assert (reaction["pid"], reaction["result"]) == (sim.pid, "stopped")
            alarm = sentinel.alarms[0]
            assert alarm["pid"] == sim.pid
            assert "sentinel_simulator.py" in " ".join(alarm["processes"][0]["cmdline"])
            assert state(sim.pid) == "T" and sim.poll() is None
            before = digests(folder)
            time.sleep(0.7)
            assert digests(folder) == before, "the suspended simulator still changes files"
            written = events(tmp_path / "evenements.jsonl")
            assert [e["type"] for e in written if e["type"] in ("alarm", "reaction")][:2] == ["alarm", "reaction"]
            if mode == "avoid":  # it never touched a decoy: the content indicators caught it
                assert "canary_modified" not in alarm["indicators"]
            if mode == "full":
                from officine.incident.runbook import current_incident

                incident = current_incident()
                assert incident is not None
                entry = next(e for e in incident.entries() if e["action"] == "sentinel_alarm")
                assert entry["details"]["processes"][0]["pid"] == sim.pid
                assert entry["details"]["findings"] and entry["details"]["suspended"] == [sim.pid]
        finally:
            sim.kill()
            sim.wait()


@pytest.mark.parametrize("watcher", ["inotify", "watchdog"])
def test_without_process_ids_the_host_raises_the_alarm(watcher: str, tmp_path: Path) -> None:
    with corpus() as folder, running(folder, tmp_path, watcher=watcher) as sentinel:
        assert not sentinel.watcher.gives_pid
        sim = attack(folder, "small", 400, tmp_path)
        try:
            assert wait_for(lambda: sentinel.alarms, 30)
            assert sentinel.alarms[0]["pid"] is None and sentinel.reactions == []
        finally:
            sim.kill()
            sim.wait()


def run_benign(sentinel: Sentinel, activity: str, folder: Path) -> None:
    """One activity in its own process; a false alarm must fail the test, not hang it suspended."""
    proc = subprocess.Popen([*BENIGN, activity, str(folder)], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while proc.poll() is None and time.monotonic() < deadline:
        for reaction in sentinel.reactions:
            if reaction.get("result") == "stopped":
                os.kill(int(str(reaction["pid"])), signal.SIGCONT)
        time.sleep(0.05)
    proc.kill()
    _out, err = proc.communicate()
    assert proc.returncode == 0, f"{activity}: {err[-2000:]}"


@root_only
def test_benign_suite_raises_no_alarm(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(BENIGN[1]).parent))
    from sentinel_benign import ACTIVITIES

    with corpus(120, 6) as folder, running(folder, tmp_path) as sentinel:
        for activity in ACTIVITIES:
            run_benign(sentinel, activity, folder)
        assert wait_for(sentinel.idle, 30)
        time.sleep(thresholds().deletion_grace_seconds + 1)  # deletions are judged after a grace delay
        assert sentinel.alarms == [], sentinel.alarms[0]["indicators"]
        assert sentinel.events_seen > 500  # it did see the activity


def test_benign_activities_without_process_ids(tmp_path: Path) -> None:
    with corpus(120, 6) as folder, running(folder, tmp_path, watcher="inotify") as sentinel:
        for activity in ("office", "archives", "sqlite", "encrypt", "update"):
            run_benign(sentinel, activity, folder)
        assert wait_for(sentinel.idle, 30)
        time.sleep(thresholds().deletion_grace_seconds + 1)  # deletions are judged after a grace delay
        assert sentinel.alarms == [], sentinel.alarms[0]["indicators"]


ENCRYPT = (
    "import os, sys\n"
    "for p in sys.argv[1:]:\n"
    "    data = open(p, 'rb').read()\n"
    "    open(p, 'wb').write(os.urandom(len(data)))\n"
)


CHURN = (
    "import os, shutil, sys\n"
    "data = sys.argv[1]\n"
    "os.makedirs(f'{data}/Nouveau/Sous-dossier')\n"
    "open(f'{data}/Nouveau/Sous-dossier/note.txt', 'w').write('bonjour')\n"
    "os.rename(f'{data}/Factures', f'{data}/Factures-archivées')\n"
    "os.rename(f'{data}/Nouveau', f'{data}/Renommé')\n"
    "shutil.rmtree(f'{data}/Renommé')\n"
    "os.mkdir(f'{data}/Autre')\n"
)


@pytest.mark.parametrize("watcher", ["fanotify", "inotify"])
def test_folders_created_renamed_and_deleted_under_the_watch(watcher: str, tmp_path: Path) -> None:
    if watcher == "fanotify" and not is_root():
        pytest.skip("fanotify needs root")
    data = tmp_path / "donnees"
    (data / "Factures/2025").mkdir(parents=True)
    for n in range(4):
        (data / f"Factures/2025/f{n}.txt").write_text("facture " * 9000, encoding="utf-8")
    with running(data, tmp_path, watcher=watcher, canaries=False) as sentinel:
        # Another process (fanotify leaves out the sentinel's own actions) moves folders around.
        subprocess.run([sys.executable, "-c", CHURN, str(data)], check=True)
        assert wait_for(sentinel.idle, 10)
        moved = sorted(str(p) for p in (data / "Factures-archivées/2025").iterdir())
        subprocess.run([sys.executable, "-c", ENCRYPT, *moved], check=True)
        assert wait_for(lambda: sentinel.alarms, 20), "no alarm after the folder was renamed"
        assert set(sentinel.alarms[0]["paths"]) <= set(moved)  # the new names, not the old ones
        assert sentinel.alarms[0]["indicators"].get("type_changed", 0) >= 2


FLOOD = (
    "import os, sys\n"
    "root = sys.argv[1]\n"
    "for n in range(4000):\n"
    "    open(os.path.join(root, f'flot{n}.txt'), 'w').write('x')\n"
    "open(sys.argv[2], 'wb').write(os.urandom(100000))\n"
)


def test_queue_overflow_is_an_event_and_a_rescan_then_the_watch_goes_on(tmp_path: Path) -> None:
    data = tmp_path / "donnees"
    data.mkdir()
    hidden = data / "registre.txt"
    hidden.write_text("ordonnancier " * 9000, encoding="utf-8")
    with running(data, tmp_path, watcher="inotify", queue_size=8, workers=1) as sentinel:
        subprocess.run([sys.executable, "-c", FLOOD, str(data), str(hidden)], check=True)
        assert wait_for(lambda: sentinel.overflows >= 1 and sentinel.idle(), 60)
        assert wait_for(lambda: any(e["type"] == "rescan" for e in events(tmp_path / "evenements.jsonl")), 30)
        written = events(tmp_path / "evenements.jsonl")
        overflow = next(e for e in written if e["type"] == "overflow")
        assert overflow["dropped"] > 0 and overflow["mode"] == "inotify"
        # Whether its event was dropped or not, the change made during the flood is known, and it
        # counts (with the overflow itself) against the host.
        entry = sentinel.index.get(str(hidden))
        assert entry is not None and entry.type == "data"
        assert sentinel.detector.score(HOST) >= 2.0
        decoy = next(iter(sentinel.index.canaries))
        Path(decoy).write_bytes(os.urandom(5000))
        assert wait_for(lambda: sentinel.alarms, 20), "the watch stopped after the overflow"


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The command in its own process; its messages with Rich's line wrapping undone."""
    result = subprocess.run(
        [sys.executable, "-m", "officine", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    result.stderr = " ".join(result.stderr.split())
    return result


@root_only
def test_killing_the_sentinel_leaves_no_suspended_process_without_a_record(tmp_path: Path) -> None:
    ev = tmp_path / "ev.jsonl"
    with corpus() as folder:
        watch = subprocess.Popen(
            [sys.executable, "-m", "officine", "sentinel", "watch", "--evenements", str(ev), str(folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        status_file = sentinel_dir() / "etat.json"

        def ready() -> bool:
            try:
                return not json.loads(status_file.read_text(encoding="utf-8"))["indexing"]
            except (OSError, ValueError, KeyError):
                return False

        assert wait_for(ready, 60)
        sim = subprocess.Popen([*SIM, "attack", str(folder), "--mode", "full", "--rate", "40"])
        try:
            assert wait_for(lambda: ev.exists() and '"reaction"' in ev.read_text(encoding="utf-8"), 30)
            watch.kill()  # no goodbye: SIGKILL
            watch.wait()
            assert state(sim.pid) == "T"
            records = json.loads((sentinel_dir() / "suspendus.json").read_text(encoding="utf-8"))
            assert [r["pid"] for r in records] == [sim.pid]
            status = json.loads(_cli("sentinel", "status", "--json").stdout)
            assert status["running"] is False and [p["pid"] for p in status["suspended"]] == [sim.pid]
            # The next start reports it.
            again = subprocess.Popen(
                [sys.executable, "-m", "officine", "sentinel", "watch", "--evenements", str(ev), str(folder)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            assert wait_for(lambda: '"still_suspended"' in ev.read_text(encoding="utf-8"), 30)
            again.send_signal(signal.SIGTERM)
            _out, err = again.communicate(timeout=30)
            assert f"le processus {sim.pid}" in err and "toujours suspendu" in err
            ended = _cli("sentinel", "end", str(sim.pid), "--par", "Marie (titulaire)")
            assert ended.returncode == 0, ended.stderr
            assert sim.wait(timeout=10) == -signal.SIGKILL
            assert json.loads((sentinel_dir() / "suspendus.json").read_text(encoding="utf-8")) == []
            from officine.incident.runbook import current_incident

            incident = current_incident()
            assert incident is not None
            decision = next(e for e in incident.entries() if e["action"] == "sentinel_end")
            assert decision["details"]["pid"] == sim.pid and decision["details"]["by"] == "Marie (titulaire)"
        finally:
            sim.kill()
            watch.kill()


@root_only
def test_resume_gives_the_process_back_and_refuses_strangers(tmp_path: Path) -> None:
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        records = SuspendedRecords(sentinel_dir() / "suspendus.json")
        result, _info = suspend(sleeper.pid, records, "essai")
        assert result.stopped and wait_for(lambda: state(sleeper.pid) == "T", 5)
        resumed = _cli("sentinel", "resume", str(sleeper.pid))
        assert resumed.returncode == 0, resumed.stderr
        assert wait_for(lambda: state(sleeper.pid) in ("S", "R"), 5)
        assert records.all() == []
        again = _cli("sentinel", "resume", str(sleeper.pid))
        assert again.returncode == 2 and "n'a pas été suspendu" in again.stderr
        # A recycled process ID (another start time) is never touched.
        result, _info = suspend(sleeper.pid, records, "essai")
        data = records.all()
        data[0]["start_ticks"] = 1
        (sentinel_dir() / "suspendus.json").write_text(json.dumps(data), encoding="utf-8")
        refused = _cli("sentinel", "end", str(sleeper.pid))
        assert refused.returncode == 2 and "n'existe plus" in refused.stderr
        assert sleeper.poll() is None
    finally:
        os.kill(sleeper.pid, signal.SIGCONT)
        sleeper.kill()
        sleeper.wait()


def test_bad_folders_get_a_french_message_and_exit_code_2(tmp_path: Path) -> None:
    missing = _cli("sentinel", "watch", str(tmp_path / "absent"))
    assert missing.returncode == 2 and "n'existe pas" in missing.stderr and "Traceback" not in missing.stderr
    (tmp_path / "fichier.txt").write_text("x", encoding="utf-8")
    not_dir = _cli("sentinel", "watch", str(tmp_path / "fichier.txt"))
    assert not_dir.returncode == 2 and "est un fichier" in not_dir.stderr
    bad_mode = _cli("sentinel", "watch", "--mode", "magique", str(tmp_path))
    assert bad_mode.returncode == 2 and "Mode inconnu" in bad_mode.stderr


@root_only
@pytest.mark.parametrize("where", ["folder", "parent"])
def test_unreadable_folder_gets_a_french_message(where: str) -> None:
    base = Path(tempfile.mkdtemp(prefix="officine-droits-"))
    base.chmod(0o755 if where == "folder" else 0o700)
    secret = base / "secret"
    secret.mkdir(mode=0o700)
    from officine.errors import UserError
    from officine.sentinel.engine import check_folders

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child drops to an ordinary account, then checks the folder
        code = 99
        try:
            os.setgid(65534)
            os.setuid(65534)
            check_folders([str(secret)])
        except UserError as exc:
            os.write(write_end, exc.message.encode())
            code = 2
        finally:
            os._exit(code)
    os.close(write_end)
    _pid, status = os.waitpid(pid, 0)
    message = os.read(read_end, 10000).decode()
    shutil.rmtree(base)
    assert os.waitstatus_to_exitcode(status) == 2
    assert "ne peut pas être lu" in message and "sudo" in message


def test_install_writes_the_unit_where_told_and_never_enables_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "systemctl").write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "systemctl-calls"}\n', encoding="utf-8")
    (fake / "systemctl").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}:{os.environ['PATH']}")
    data = tmp_path / "donnees"
    data.mkdir()
    units = tmp_path / "unites"
    installed = _cli("sentinel", "install", str(data), "--unite-dir", str(units))
    assert installed.returncode == 0, installed.stderr
    unit = (units / "officine-sentinel.service").read_text(encoding="utf-8")
    assert f"sentinel watch --evenements {sentinel_dir() / 'evenements.jsonl'} {data}" in unit
    assert f"Environment=OFFICINE_DATA_DIR={os.environ['OFFICINE_DATA_DIR']}" in unit
    monkeypatch.setenv("OFFICINE_SYSTEMD_DIR", str(units))
    assert json.loads(_cli("sentinel", "status", "--json").stdout)["unit_installed"] is True
    windows = _cli("sentinel", "install", "--windows", str(data))
    assert "schtasks /Create" in windows.stdout and str(data) in windows.stdout
    from officine.sentinel import canaries

    placed = canaries.place([str(data)])
    canaries.save_manifest(sentinel_dir() / "leurres.json", placed)
    removed = _cli("sentinel", "uninstall")
    assert removed.returncode == 0 and "3 fichier(s)-leurres retiré(s)" in removed.stdout
    assert not (units / "officine-sentinel.service").exists() and list(data.iterdir()) == []
    assert not (tmp_path / "systemctl-calls").exists()  # a unit outside /etc/systemd/system is never enabled
    nothing = _cli("sentinel", "uninstall")
    assert nothing.returncode == 2 and "pas installée" in nothing.stderr


def test_status_when_nothing_runs() -> None:
    result = _cli("sentinel", "status")
    assert result.returncode == 0 and "ne tourne pas" in result.stdout
    data = json.loads(_cli("sentinel", "status", "--json").stdout)
    assert data["running"] is False and data["suspended"] == [] and data["unacknowledged_alarms"] == []


def test_simulator_refuses_any_folder_it_did_not_create(tmp_path: Path) -> None:
    def refused(folder: Path) -> bool:
        result = subprocess.run(
            [*SIM, "attack", str(folder), "--mode", "full"], capture_output=True, text=True, check=False
        )
        return result.returncode == 2 and "Refus" in result.stderr

    (tmp_path / "a.txt").write_text("données", encoding="utf-8")
    assert refused(tmp_path)
    assert refused(Path("/tmp"))
    with corpus(5, 2) as real:
        link = Path(f"{real}-lien")
        link.symlink_to(real)
        fake = Path(f"{real}-copie")
        shutil.copytree(real, fake)
        try:
            assert refused(link)
            assert refused(fake)  # same marker, but not the registered folder
        finally:
            link.unlink()
            shutil.rmtree(fake)
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "données"


def test_watchdog_mode_rescans_on_a_timer_without_calling_it_an_overflow(tmp_path: Path) -> None:
    data = tmp_path / "donnees"
    data.mkdir()
    (data / "a.txt").write_text("texte", encoding="utf-8")
    with running(data, tmp_path, watcher="watchdog", periodic_rescan=0.5, status_interval=0.2) as sentinel:
        assert wait_for(lambda: '"rescan"' in (tmp_path / "evenements.jsonl").read_text(encoding="utf-8"), 20)
        assert sentinel.overflows == 0
        assert not any(e["type"] == "overflow" for e in events(tmp_path / "evenements.jsonl"))


MANY = (
    "import os, sys\nfor n in range(int(sys.argv[2])):\n    open(os.path.join(sys.argv[1], f'f{n}.txt'), 'w').close()\n"
)


@pytest.mark.parametrize("kind", ["inotify", "fanotify"])
def test_the_kernel_queue_overflow_reaches_the_sentinel(kind: str, tmp_path: Path) -> None:
    """The reader is held while 40,000 events pile up (the kernel keeps 16,384): the kernel's own
    overflow notice (IN_Q_OVERFLOW / FAN_Q_OVERFLOW) must come out as an overflow event."""
    if kind == "fanotify" and not is_root():
        pytest.skip("fanotify needs root")
    import threading

    from officine.sentinel.engine import choose_watcher
    from officine.sentinel.events import FsEvent, Kind

    held = threading.Event()
    seen: list[FsEvent] = []

    def emit(event: FsEvent) -> None:
        held.wait(60)
        seen.append(event)

    watcher = choose_watcher(kind)
    watcher.start([str(tmp_path)], emit)
    try:
        subprocess.run([sys.executable, "-c", MANY, str(tmp_path), "20000"], check=True)
        held.set()
        assert wait_for(lambda: any(e.kind is Kind.overflow for e in seen), 30)
    finally:
        held.set()
        watcher.stop()
