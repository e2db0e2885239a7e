"""The deny list mod_auth_logto reads (`LogtoDenyList PATH`), kept up to date.

The module reads a JSON object whose members `sub`, `client_id` and `jti`
(each optional) are arrays of strings; a token matching any entry is refused.
It ignores every other member and re-reads the file within 2 s of a change.
This module writes that file for the Logto webhook (django_logto.webhooks),
for a command line (`python3 -m django_logto.denylist`) and for code:

    {
      "sub": ["u1"],
      "client_id": [],
      "jti": [],
      "django_logto": {
        "version": 1,
        "entries": {
          "sub": {"u1": {"User.SuspensionStatus.Updated":
                           {"denied": true, "event_at": 1767225600.0, "recorded_at": 1767225601.2}}},
          "client_id": {},
          "jti": {}
        }
      }
    }

The `django_logto` member is our bookkeeping: for each entry, why it is
there (a reason per event kind, `manual` for entries written by hand), when
the event happened (Logto's createdAt) and when we recorded it. A reason's
record with `denied: false` is a tombstone (the user was unsuspended, added
back): it remembers the event time so that a late or replayed older event
cannot undo a newer one. An id is in the array while one of its reasons is
denied.

Records expire `retention` seconds after they were recorded: every token
issued before the event has expired by then (retention = the longest token
lifetime + the module's clock skew), and Logto itself refuses to issue new
ones to a deleted or suspended user. Entries without bookkeeping (added by
hand) are kept, as `manual`, until removed by hand; an id removed by hand
from an array stays removed.

Every change happens under an exclusive flock on PATH.lock, so concurrent
webhook deliveries (threads or processes) never lose each other's entries,
and the file is replaced atomically (a temporary file in the same directory,
fsync, os.replace, fsync of the directory): the module and any reader see the
old file or the new one, always valid JSON.

This module needs neither Django settings nor DRF.
"""

import argparse
import fcntl
import json
import os
import sys
import tempfile
import time
from collections import namedtuple
from contextlib import contextmanager

__all__ = ["Change", "DenyList", "DenyListError", "KINDS", "MANUAL"]

#: The members the module reads.
KINDS = ("sub", "client_id", "jti")

#: Our bookkeeping member; the module ignores it.
BOOKKEEPING = "django_logto"
FORMAT_VERSION = 1

#: The reason of entries added by hand (in the file or with deny()).
MANUAL = "manual"

#: One event's effect on one entry. denied: deny (True) or lift this reason
#: (False); event_at: when the event happened (seconds), or None for manual
#: changes, which are never stale nor superseded.
Change = namedtuple("Change", "kind value reason denied event_at")


class DenyListError(Exception):
    """The file cannot be read as a deny list: nothing is written, so a
    hand-edited file with a mistake is never silently replaced."""


def _check_record(record, where):
    if (not isinstance(record, dict) or not isinstance(record.get("denied"), bool)
            or any(not (v is None or isinstance(v, (int, float)) and not isinstance(v, bool))
                   for v in (record.get("event_at"), record.get("recorded_at")))):
        raise DenyListError("%s: a record is {\"denied\": bool, \"event_at\": number|null, "
                            "\"recorded_at\": number|null}" % where)


class _State:
    """The file's entries with their reasons, as plain dicts: kind -> id -> reason -> record."""

    def __init__(self, entries, retention):
        self.entries = entries
        self.retention = retention

    @classmethod
    def from_document(cls, doc, retention):
        if not isinstance(doc, dict):
            raise DenyListError("the deny list is not a JSON object")
        arrays = {}
        for kind in KINDS:
            values = doc.get(kind, [])
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise DenyListError("member %s is not an array of strings" % kind)
            arrays[kind] = set(values)
        book = doc.get(BOOKKEEPING, {"version": FORMAT_VERSION, "entries": {}})
        if not isinstance(book, dict) or book.get("version") != FORMAT_VERSION:
            raise DenyListError("member %s is not version %d of django_logto's bookkeeping"
                                % (BOOKKEEPING, FORMAT_VERSION))
        entries = book.get("entries", {})
        if not isinstance(entries, dict):
            raise DenyListError("%s.entries is not an object" % BOOKKEEPING)
        state = cls({kind: {} for kind in KINDS}, retention)
        for kind in KINDS:
            by_id = entries.get(kind, {})
            if not isinstance(by_id, dict):
                raise DenyListError("%s.entries.%s is not an object" % (BOOKKEEPING, kind))
            for value, reasons in by_id.items():
                if not isinstance(reasons, dict):
                    raise DenyListError("%s.entries.%s.%s is not an object" % (BOOKKEEPING, kind, value))
                for reason, record in reasons.items():
                    _check_record(record, "%s.entries.%s.%s.%s" % (BOOKKEEPING, kind, value, reason))
                state.entries[kind][value] = {reason: dict(record) for reason, record in reasons.items()}
        state._reconcile(arrays)
        return state

    def _reconcile(self, arrays):
        """Make the bookkeeping agree with the arrays, which a person may have edited.

        An id in an array that no denied reason explains was added by hand:
        it becomes `manual`. An id a denied reason explains but that is no
        longer in its array was removed by hand: its denied reasons go
        (tombstones stay, for ordering).
        """
        for kind in KINDS:
            by_id = self.entries[kind]
            for value in arrays[kind]:
                if not self._denied(kind, value):
                    by_id.setdefault(value, {})[MANUAL] = {
                        "denied": True, "event_at": None, "recorded_at": None}
            for value in list(by_id):
                if value not in arrays[kind]:
                    by_id[value] = {reason: record for reason, record in by_id[value].items()
                                    if not record["denied"]}
                    if not by_id[value]:
                        del by_id[value]

    def _denied(self, kind, value):
        return any(record["denied"] for record in self.entries[kind].get(value, {}).values())

    def apply(self, change, now):
        """One change; returns what happened: denied, allowed, stale or superseded."""
        if change.kind not in KINDS:
            raise ValueError("kind must be one of %s" % ", ".join(KINDS))
        if not isinstance(change.value, str) or not change.value:
            raise ValueError("an entry is a non-empty string")
        if change.event_at is not None and change.event_at < now - self.retention:
            # Every token issued before this event has expired: nothing to do,
            # and an old (replayed) event cannot lift a newer denial.
            return "stale"
        reasons = self.entries[change.kind].setdefault(change.value, {})
        current = reasons.get(change.reason)
        if (current is not None and current["event_at"] is not None
                and change.event_at is not None and current["event_at"] > change.event_at):
            return "superseded"
        manual = change.reason == MANUAL
        reasons[change.reason] = {
            "denied": change.denied,
            "event_at": change.event_at,
            "recorded_at": None if manual else now,
        }
        if manual and not change.denied:
            del reasons[change.reason]
        if not reasons:
            del self.entries[change.kind][change.value]
        return "denied" if change.denied else "allowed"

    def forget(self, kind, value):
        """Remove every reason of an entry (an operator's decision)."""
        return self.entries[kind].pop(value, None) is not None

    def prune(self, now):
        """Drop records recorded more than `retention` seconds ago; manual ones stay."""
        for kind in KINDS:
            by_id = self.entries[kind]
            for value in list(by_id):
                by_id[value] = {
                    reason: record for reason, record in by_id[value].items()
                    if record["recorded_at"] is None or now - record["recorded_at"] < self.retention}
                if not by_id[value]:
                    del by_id[value]

    def to_document(self, original):
        doc = {kind: sorted(v for v in self.entries[kind] if self._denied(kind, v)) for kind in KINDS}
        for key, value in original.items():
            if key not in KINDS and key != BOOKKEEPING:
                doc[key] = value
        doc[BOOKKEEPING] = {
            "version": FORMAT_VERSION,
            "entries": {kind: {value: dict(sorted(reasons.items()))
                               for value, reasons in sorted(self.entries[kind].items())}
                        for kind in KINDS},
        }
        return doc


class DenyList:
    """The deny-list file at `path`.

    retention: seconds a webhook's entry lives (token lifetime + clock skew);
    mode: the file's permission bits, readable by httpd's children (0644);
    clock: time.time, replaceable in tests.
    """

    def __init__(self, path, *, retention, mode=0o644, clock=time.time):
        self.path = os.path.abspath(path)
        self.retention = retention
        self.mode = mode
        self.clock = clock

    # ---- reading --------------------------------------------------------------------

    def read(self):
        """The file as parsed JSON; {} when it does not exist yet or is empty. No lock: the file is
        always replaced whole, so a reader sees a complete version."""
        try:
            with open(self.path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            return {}
        if not raw.strip():
            return {}  # `touch deny.json` is a fine start
        try:
            return json.loads(raw.decode("utf-8"))
        except ValueError as exc:
            raise DenyListError("%s is not JSON: %s" % (self.path, exc)) from None

    def denied(self):
        """{kind: set of ids} as the module sees them (DenyListError if it is not a deny list)."""
        doc = self.read()
        _State.from_document(doc, self.retention)  # validates
        return {kind: set(doc.get(kind, [])) for kind in KINDS}

    def entries(self):
        """The bookkeeping: {kind: {id: {reason: record}}}."""
        state = _State.from_document(self.read(), self.retention)
        return state.entries

    # ---- changing -------------------------------------------------------------------

    def apply(self, changes):
        """Apply changes (Change tuples) and prune, in one locked read-modify-write.

        Returns one outcome per change: "denied", "allowed", "stale" (the event
        is older than the retention) or "superseded" (a newer event for the
        same entry and reason was already recorded).
        """
        with self._locked():
            doc = self.read()
            state = _State.from_document(doc, self.retention)
            now = self.clock()
            outcomes = [state.apply(change, now) for change in changes]
            state.prune(now)
            self._write_if_changed(state.to_document(doc))
        return outcomes

    def prune(self):
        """Drop expired entries (the webhook does it on every delivery; run this
        from cron or a timer when deliveries are rare)."""
        self.apply([])

    def deny(self, kind, value):
        """Add an entry by hand: kept until allow() or a hand edit removes it."""
        return self.apply([Change(kind, value, MANUAL, True, None)])[0]

    def allow(self, kind, value):
        """Remove an entry whatever put it there (every reason). True if it existed."""
        with self._locked():
            doc = self.read()
            state = _State.from_document(doc, self.retention)
            existed = state.forget(kind, value)
            state.prune(self.clock())
            self._write_if_changed(state.to_document(doc))
        return existed

    # ---- the file ---------------------------------------------------------------------

    @contextmanager
    def _locked(self):
        """An exclusive flock on PATH.lock for the whole read-modify-write.

        A separate lock file, because the deny list itself is replaced (a lock
        on the old inode would not exclude a writer that opened the new one).
        flock locks belong to the open file description, so threads of one
        process exclude each other as processes do.
        """
        fd = os.open(self.path + ".lock", os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _write_if_changed(self, new_doc):
        data = (json.dumps(new_doc, indent=2) + "\n").encode("utf-8")
        try:
            with open(self.path, "rb") as f:
                if f.read() == data:
                    return False
        except FileNotFoundError:
            pass
        self._replace(data)
        return True

    def _replace(self, data):
        directory = os.path.dirname(self.path)
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(self.path) + ".",
                                   suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                # mkstemp makes the file 0600; httpd's children run as another user.
                os.fchmod(f.fileno(), self.mode)
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)  # the rename itself survives a crash
        finally:
            os.close(dir_fd)


# ---- command line ---------------------------------------------------------------------------

def main(argv=None):
    """python3 -m django_logto.denylist {prune,deny,allow,show} PATH ..."""
    parser = argparse.ArgumentParser(
        prog="python3 -m django_logto.denylist",
        description="Maintain the deny list mod_auth_logto reads (LogtoDenyList).")
    parser.add_argument("--retention", type=int, default=3660,
                        help="seconds an entry from the webhook lives: the longest token "
                             "lifetime + LogtoClockSkew (default 3600 + 60)")
    parser.add_argument("--mode", type=lambda text: int(text, 8), default=0o644,
                        help="permission bits of the file, octal (default 644)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("prune", help="drop expired entries").add_argument("path")
    commands.add_parser("show", help="print the entries and why they are there").add_argument("path")
    for name, text in (("deny", "add an entry by hand (kept until allowed)"),
                       ("allow", "remove an entry, whatever put it there")):
        command = commands.add_parser(name, help=text)
        command.add_argument("path")
        command.add_argument("kind", choices=KINDS)
        command.add_argument("value")
    args = parser.parse_args(argv)

    deny_list = DenyList(args.path, retention=args.retention, mode=args.mode)
    try:
        if args.command == "prune":
            deny_list.prune()
        elif args.command == "deny":
            deny_list.deny(args.kind, args.value)
        elif args.command == "allow":
            if not deny_list.allow(args.kind, args.value):
                print("%s %s was not in the deny list" % (args.kind, args.value), file=sys.stderr)
                return 1
        else:
            json.dump(deny_list.entries(), sys.stdout, indent=2)
            print()
    except DenyListError as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
