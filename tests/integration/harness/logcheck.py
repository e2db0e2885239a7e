"""The error-log check, in the style of httpd's pyhttpd: after every test the
lines the server wrote since the last check are scanned; each [error], [crit],
[alert] or [emerg] line and each crash line that no claim matches fails the
test. [warn] lines are reported, and fail only when the test asks for it.

Claims are regular expressions (re.search). A test claims with
``httpd.claim_log(r'LOGTO0205')``; a configuration installs claims that hold
as long as it is installed (``httpd.install(conf, claims=[...])``).
"""
import os
import re

LINE_RE = re.compile(r'^\[[^\]]*\] \[(?:(?P<module>[^:\]]+):)?(?P<level>emerg|alert|crit|error|warn|notice|info|debug|trace\d)\]')
FAILING_LEVELS = ('emerg', 'alert', 'crit', 'error')
CRASH_RE = re.compile(r'exit signal|Segmentation fault|seg fault|possible coredump|core dumped|'
                      r'AH0005[0-2]|AH00060|AH02818|AddressSanitizer|runtime error:')


class LogFinding:
    def __init__(self, kind, line):
        self.kind = kind          # 'crash', 'error', 'warn'
        self.line = line

    def __repr__(self):
        return f'{self.kind}: {self.line}'


def level_of(line):
    m = LINE_RE.match(line)
    return m.group('level') if m else None


class ErrorLog:
    """An error log file read incrementally. ``mark`` is the position of the
    first line not yet checked."""

    def __init__(self, path):
        self.path = path
        self.mark = 0
        self.test_claims = []     # reset after each check
        self.conf_claims = []     # reset when another config is installed
        self.strict_warnings = False

    def size(self):
        try:
            return os.path.getsize(self.path)
        except FileNotFoundError:
            return 0

    def lines_from(self, pos):
        try:
            with open(self.path, 'rb') as f:
                f.seek(pos)
                data = f.read()
        except FileNotFoundError:
            return []
        return data.decode('utf-8', 'replace').splitlines()

    def pending(self):
        """Lines written since the last check."""
        return self.lines_from(self.mark)

    def claim(self, *patterns):
        self.test_claims.extend(re.compile(p) for p in patterns)

    def claimed(self, line):
        return any(c.search(line) for c in self.test_claims + self.conf_claims)

    def findings(self):
        out = []
        for line in self.pending():
            level = level_of(line)
            if CRASH_RE.search(line):
                kind = 'crash'
            elif level in FAILING_LEVELS:
                kind = 'error'
            elif level == 'warn':
                kind = 'warn'
            else:
                continue
            if self.claimed(line):
                continue
            out.append(LogFinding(kind, line))
        return out

    def check(self):
        """(failing findings, reported warnings) since the mark; then moves
        the mark to the end and drops the test's claims."""
        found = self.findings()
        self.mark = self.size()
        strict = self.strict_warnings
        self.test_claims = []
        self.strict_warnings = False
        failing = [f for f in found if f.kind in ('crash', 'error') or (strict and f.kind == 'warn')]
        warnings = [f for f in found if f.kind == 'warn' and not strict]
        return failing, warnings

    def skip_to_end(self):
        self.mark = self.size()
