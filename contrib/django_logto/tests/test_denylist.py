"""The deny-list file: its shape, reasons and their order, retention, hand edits,
atomic replacement, locking between threads and processes, the command line."""

import fcntl
import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from django_logto.denylist import MANUAL, Change, DenyList, DenyListError, main

RETENTION = 3660
NOW = 1_767_225_600.0


class Clock:
    def __init__(self, now=NOW):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def path(tmp_path):
    return tmp_path / "deny.json"


@pytest.fixture
def deny_list(path, clock):
    return DenyList(path, retention=RETENTION, clock=clock)


def content(path):
    return json.loads(Path(path).read_text())


def suspend(user, at=NOW, suspended=True):
    return Change("sub", user, "User.SuspensionStatus.Updated", suspended, at)


# ---- shape -----------------------------------------------------------------------------------

def test_the_file_the_module_reads(deny_list, path, clock):
    assert deny_list.apply([suspend("u1", NOW - 1), Change("jti", "j1", "manual", True, None),
                            Change("client_id", "m2m", "Organization.Membership.Updated:o1", True, NOW - 2)]) \
        == ["denied", "denied", "denied"]
    assert content(path) == {
        "sub": ["u1"],
        "client_id": ["m2m"],
        "jti": ["j1"],
        "django_logto": {
            "version": 1,
            "entries": {
                "sub": {"u1": {"User.SuspensionStatus.Updated":
                               {"denied": True, "event_at": NOW - 1, "recorded_at": NOW}}},
                "client_id": {"m2m": {"Organization.Membership.Updated:o1":
                                      {"denied": True, "event_at": NOW - 2, "recorded_at": NOW}}},
                "jti": {"j1": {"manual": {"denied": True, "event_at": None, "recorded_at": None}}},
            },
        },
    }
    assert deny_list.denied() == {"sub": {"u1"}, "client_id": {"m2m"}, "jti": {"j1"}}


def test_arrays_are_sorted_and_empty_ones_written(deny_list, path):
    deny_list.apply([suspend("u2"), suspend("u1")])
    doc = content(path)
    assert (doc["sub"], doc["client_id"], doc["jti"]) == (["u1", "u2"], [], [])
    assert list(doc)[:3] == ["sub", "client_id", "jti"]


def test_non_ascii_ids_round_trip(deny_list, path):
    deny_list.apply([suspend("usér-日本")])
    assert content(path)["sub"] == ["usér-日本"]
    assert path.read_bytes().isascii()  # \u escapes: any JSON parser reads them


@pytest.mark.parametrize("change", [Change("iss", "x", "r", True, NOW), Change("sub", "", "r", True, NOW),
                                    Change("sub", 7, "r", True, NOW)])
def test_bad_changes_are_refused(deny_list, change):
    with pytest.raises(ValueError):
        deny_list.apply([change])


# ---- reasons and their order ---------------------------------------------------------------------

def test_lifting_one_reason_keeps_the_others(deny_list, clock):
    deny_list.apply([suspend("u1"), Change("sub", "u1", "User.Deleted", True, NOW)])
    assert deny_list.apply([suspend("u1", NOW + 5, suspended=False)]) == ["allowed"]
    assert deny_list.denied()["sub"] == {"u1"}
    assert set(deny_list.entries()["sub"]["u1"]) == {"User.SuspensionStatus.Updated", "User.Deleted"}


def test_unsuspension_lifts_the_entry(deny_list):
    deny_list.apply([suspend("u1")])
    deny_list.apply([suspend("u1", NOW + 5, suspended=False)])
    assert deny_list.denied()["sub"] == set()
    # the tombstone stays, to order later deliveries
    assert deny_list.entries()["sub"]["u1"]["User.SuspensionStatus.Updated"]["denied"] is False


def test_an_older_event_cannot_undo_a_newer_one(deny_list):
    """Logto delivers concurrently and retries: 'unsuspended at 10:00' may arrive
    after 'suspended at 10:05', or be replayed later by someone who captured it."""
    deny_list.apply([suspend("u1", NOW)])
    assert deny_list.apply([suspend("u1", NOW - 300, suspended=False)]) == ["superseded"]
    assert deny_list.denied()["sub"] == {"u1"}


def test_an_older_suspension_cannot_undo_a_newer_unsuspension(deny_list):
    deny_list.apply([suspend("u1", NOW, suspended=False)])
    assert deny_list.apply([suspend("u1", NOW - 300)]) == ["superseded"]
    assert deny_list.denied()["sub"] == set()


def test_a_repeated_delivery_is_idempotent(deny_list):
    assert deny_list.apply([suspend("u1")]) == ["denied"]
    assert deny_list.apply([suspend("u1")]) == ["denied"]
    assert deny_list.denied()["sub"] == {"u1"}


def test_an_event_older_than_the_retention_is_stale(deny_list, path):
    """Every token issued before it has expired: nothing to deny."""
    assert deny_list.apply([suspend("u1", NOW - RETENTION - 1)]) == ["stale"]
    assert deny_list.denied()["sub"] == set()
    assert deny_list.entries()["sub"] == {}


# ---- retention ---------------------------------------------------------------------------------------

def test_entries_are_dropped_after_the_retention(deny_list, clock):
    deny_list.apply([suspend("u1"), suspend("u2", suspended=False)])
    clock.now = NOW + RETENTION - 1
    deny_list.prune()
    assert deny_list.denied()["sub"] == {"u1"}
    assert set(deny_list.entries()["sub"]) == {"u1", "u2"}
    clock.now = NOW + RETENTION
    deny_list.prune()
    assert deny_list.denied()["sub"] == set()
    assert deny_list.entries()["sub"] == {}


def test_every_change_prunes(deny_list, clock):
    deny_list.apply([suspend("old")])
    clock.now = NOW + RETENTION + 10
    deny_list.apply([suspend("new", clock.now)])
    assert deny_list.denied()["sub"] == {"new"}


def test_a_renewed_reason_lives_from_its_last_recording(deny_list, clock):
    deny_list.apply([suspend("u1", NOW)])
    clock.now = NOW + 1000
    deny_list.apply([Change("sub", "u1", "User.Deleted", True, NOW + 1000)])
    clock.now = NOW + RETENTION + 1
    deny_list.prune()
    assert deny_list.denied()["sub"] == {"u1"}
    assert set(deny_list.entries()["sub"]["u1"]) == {"User.Deleted"}


# ---- hand edits ------------------------------------------------------------------------------------------

def test_entries_written_by_hand_are_kept_as_manual(deny_list, path, clock):
    path.write_text(json.dumps({"sub": ["by-hand"], "jti": ["j9"], "comment": "ops, 2026-01-01"}))
    deny_list.apply([suspend("u1")])
    doc = content(path)
    assert doc["sub"] == ["by-hand", "u1"] and doc["jti"] == ["j9"]
    assert doc["comment"] == "ops, 2026-01-01"  # members the module ignores are kept
    assert doc["django_logto"]["entries"]["sub"]["by-hand"] == {
        MANUAL: {"denied": True, "event_at": None, "recorded_at": None}}
    clock.now = NOW + 10 * RETENTION
    deny_list.prune()
    assert content(path)["sub"] == ["by-hand"]


def test_a_webhook_reason_never_lifts_a_manual_entry(deny_list, path):
    path.write_text(json.dumps({"sub": ["u1"]}))
    deny_list.apply([suspend("u1", NOW - 5), suspend("u1", NOW, suspended=False)])
    assert deny_list.denied()["sub"] == {"u1"}


def test_an_entry_removed_by_hand_stays_removed(deny_list, path):
    deny_list.apply([suspend("u1"), suspend("u2")])
    doc = content(path)
    doc["sub"] = ["u2"]
    path.write_text(json.dumps(doc))
    deny_list.apply([suspend("u3")])
    assert deny_list.denied()["sub"] == {"u2", "u3"}


def test_deny_and_allow_by_hand(deny_list):
    assert deny_list.deny("jti", "j1") == "denied"
    deny_list.apply([suspend("u1")])
    assert deny_list.denied() == {"sub": {"u1"}, "client_id": set(), "jti": {"j1"}}
    assert deny_list.allow("sub", "u1") is True
    assert deny_list.allow("jti", "j1") is True
    assert deny_list.allow("jti", "j1") is False
    assert deny_list.denied() == {"sub": set(), "client_id": set(), "jti": set()}


@pytest.mark.parametrize("text", ["{not json", "[]", '{"sub": "u1"}', '{"sub": [1]}',
                                  '{"django_logto": {"version": 2, "entries": {}}}',
                                  '{"django_logto": {"version": 1, "entries": {"sub": {"u": {"r": {"denied": 1}}}}}}',
                                  '{"django_logto": {"version": 1, "entries": []}}'])
def test_a_file_that_is_not_a_deny_list_is_never_replaced(deny_list, path, text):
    path.write_text(text)
    with pytest.raises(DenyListError):
        deny_list.apply([suspend("u1")])
    with pytest.raises(DenyListError):
        deny_list.denied()
    assert path.read_text() == text


@pytest.mark.parametrize("text", ["", "\n"])
def test_an_empty_file_is_an_empty_deny_list(deny_list, path, text):
    path.write_text(text)
    deny_list.apply([suspend("u1")])
    assert deny_list.denied()["sub"] == {"u1"}


# ---- the file: mode, atomic replacement ------------------------------------------------------------

def test_file_mode_is_readable_by_httpd_whatever_the_umask(deny_list, path):
    old = os.umask(0o077)
    try:
        deny_list.apply([suspend("u1")])
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_file_mode_is_configurable(path, clock):
    DenyList(path, retention=RETENTION, mode=0o640, clock=clock).apply([suspend("u1")])
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_the_file_is_replaced_not_rewritten_in_place(deny_list, path):
    """A reader holding the old file keeps a complete old version."""
    deny_list.apply([suspend("u1")])
    reader = open(path, "rb")
    before = os.stat(path).st_ino
    deny_list.apply([suspend("u2")])
    assert os.stat(path).st_ino != before
    assert json.loads(reader.read())["sub"] == ["u1"]
    reader.close()
    assert sorted(p.name for p in path.parent.iterdir()) == ["deny.json", "deny.json.lock"]


def test_nothing_is_written_when_nothing_changes(deny_list, path):
    deny_list.apply([suspend("u1")])
    before = os.stat(path)
    deny_list.apply([])
    deny_list.apply([suspend("u1", NOW - RETENTION - 5)])  # stale
    after = os.stat(path)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(deny_list, path, monkeypatch):
    deny_list.apply([suspend("u1")])
    old = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        deny_list.apply([suspend("u2")])
    assert path.read_bytes() == old
    assert sorted(p.name for p in path.parent.iterdir()) == ["deny.json", "deny.json.lock"]


# ---- concurrency --------------------------------------------------------------------------------------

def test_writers_wait_for_the_lock(path, deny_list):
    """apply() holds an exclusive flock on PATH.lock for its whole read-modify-write."""
    deny_list.apply([])
    fd = os.open(str(path) + ".lock", os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    done = threading.Event()
    thread = threading.Thread(target=lambda: (deny_list.apply([suspend("u1")]), done.set()))
    thread.start()
    try:
        assert not done.wait(0.3), "apply() did not wait for the lock"
    finally:
        os.close(fd)
    thread.join(5)
    assert done.is_set()
    assert deny_list.denied()["sub"] == {"u1"}


def test_concurrent_threads_lose_no_entry_and_the_file_is_always_json(path):
    deny_list = DenyList(path, retention=RETENTION)
    deny_list.apply([])
    stop = threading.Event()
    bad = []

    def reader():
        while not stop.is_set():
            try:
                json.loads(path.read_bytes())
            except (ValueError, FileNotFoundError) as exc:  # pragma: no cover - the failure
                bad.append(repr(exc))

    def writer(n):
        for i in range(5):
            deny_list.apply([Change("sub", "t%d-%d" % (n, i), "User.Deleted", True, time.time())])

    readers = [threading.Thread(target=reader) for _ in range(2)]
    writers = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join(30)
    stop.set()
    for thread in readers:
        thread.join(5)
    assert bad == []
    assert deny_list.denied()["sub"] == {"t%d-%d" % (n, i) for n in range(8) for i in range(5)}


WRITER = """
import sys, time
sys.path.insert(0, sys.argv[1])
from django_logto.denylist import Change, DenyList
deny_list = DenyList(sys.argv[2], retention=3660)
for i in range(int(sys.argv[4])):
    deny_list.apply([Change("jti", "%s-%d" % (sys.argv[3], i), "manual", True, None)])
"""


def test_concurrent_processes_lose_no_entry(path):
    contrib = str(Path(__file__).resolve().parents[2])
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, contrib, str(path), "p%d" % n, "10"])
             for n in range(4)]
    assert [proc.wait(60) for proc in procs] == [0] * 4
    assert DenyList(path, retention=RETENTION).denied()["jti"] == {
        "p%d-%d" % (n, i) for n in range(4) for i in range(10)}


# ---- command line ------------------------------------------------------------------------------------------

def test_command_line(path, capsys):
    assert main(["deny", str(path), "jti", "j1"]) == 0
    assert main(["deny", str(path), "sub", "u1"]) == 0
    assert main(["show", str(path)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["jti"]["j1"][MANUAL]["denied"] is True
    assert main(["allow", str(path), "sub", "u1"]) == 0
    assert main(["allow", str(path), "sub", "u1"]) == 1
    assert main(["prune", str(path)]) == 0
    assert content(path)["sub"] == [] and content(path)["jti"] == ["j1"]
    path.write_text("{broken")
    assert main(["prune", str(path)]) == 2
    assert "not JSON" in capsys.readouterr().err


def test_command_line_prunes_with_the_given_retention(path):
    recorded = time.time() - 100
    DenyList(path, retention=RETENTION, clock=lambda: recorded).apply([suspend("u1", recorded)])
    assert main(["prune", str(path)]) == 0
    assert content(path)["sub"] == ["u1"]
    assert main(["--retention", "60", "prune", str(path)]) == 0
    assert content(path)["sub"] == []


def test_command_line_runs_as_a_module(path):
    contrib = str(Path(__file__).resolve().parents[2])
    result = subprocess.run([sys.executable, "-m", "django_logto.denylist", "deny", str(path), "sub", "x"],
                            cwd=contrib, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert content(path)["sub"] == ["x"]
