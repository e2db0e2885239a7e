"""Drive the Logto-shaped test issuer (tests/issuer/server.js) from pytest.

    with NodeIssuer() as iss:
        token = iss.token(resource="https://api.example.test", scope="read:products")
        iss.rotate(kty="RSA")            # RSA signs from now on, EC stays as previous
        iss.stats()["/oidc/jwks"]        # how many times the JWKS was fetched

The issuer is a real oidc-provider (the library Logto runs) on 127.0.0.1 with an
ephemeral port; see tests/issuer/README.md for the tenant it serves. Only the
standard library and python3-requests are used.
"""

from __future__ import annotations

import atexit
import collections
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import requests

ISSUER_DIR = Path(__file__).resolve().parent.parent / "issuer"

# The tenant server.js serves (tests/issuer/README.md has the whole table).
API_RESOURCE = "https://api.example.test"      # read:products write:products, TTL 3600
OTHER_RESOURCE = "https://other.example.test"  # read:other
SHORT_RESOURCE = "https://short.example.test"  # read:products, TTL 2 s
ORG_RESOURCE = "urn:logto:resource:organizations"
ORG_AUDIENCE_PREFIX = "urn:logto:organization:"
ORGANIZATIONS = ("org-acme", "org-globex")
DEFAULT_CLIENT = ("m2m-app", "m2m-secret")     # in both organizations
OTHER_CLIENT = ("other-app", "other-secret")   # fewer permissions; org-acme only
HTTP_TIMEOUT = 30.0  # an RSA-4096 rotation on a loaded 2-core machine takes a while

TokenResponse = collections.namedtuple("TokenResponse", "status body")
TokenResponse.__doc__ = "HTTP status and decoded JSON body of a token request."


class IssuerError(RuntimeError):
    """The issuer could not be installed, started, stopped or asked something."""


def _pinned_dependencies_installed() -> bool:
    """True when node_modules holds every dependency at the version package.json pins."""
    deps = json.loads((ISSUER_DIR / "package.json").read_text())["dependencies"]
    for name, spec in deps.items():
        manifest = ISSUER_DIR / "node_modules" / name / "package.json"
        try:
            version = json.loads(manifest.read_text())["version"]
        except (OSError, ValueError, KeyError):
            return False
        if spec[:1].isdigit() and version != spec:
            return False
    return True


def ensure_node_modules(timeout: float = 600.0) -> None:
    """Run `npm ci` in tests/issuer unless the pinned packages are already there."""
    if _pinned_dependencies_installed():
        return
    npm = shutil.which("npm")
    if not npm:
        raise IssuerError("npm not found on PATH; install nodejs and npm (Debian: apt-get install nodejs npm)")
    # Several test processes may start at once: one installs, the others wait.
    lock_path = Path(tempfile.gettempdir()) / "mod_auth_logto-issuer-npm-ci.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _pinned_dependencies_installed():
            return
        try:
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=ISSUER_DIR, stdin=subprocess.DEVNULL, capture_output=True,
                text=True, timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            raise IssuerError(f"npm ci in {ISSUER_DIR} took more than {timeout:.0f} s") from exc
        if done.returncode != 0 or not _pinned_dependencies_installed():
            raise IssuerError(
                f"npm ci in {ISSUER_DIR} failed (exit {done.returncode}):\n"
                f"{(done.stdout + done.stderr)[-4000:]}"
            )


_running: set[NodeIssuer] = set()


@atexit.register
def _stop_leftovers() -> None:
    # A test that forgot stop(): do not leave a node process behind.
    for issuer in list(_running):
        issuer.stop()


class NodeIssuer:
    """One issuer process. start() / stop(), or use it as a context manager."""

    def __init__(self, rsa: bool = False, sign: str = "ec",
                 start_timeout: float = 30.0, stop_timeout: float = 5.0,
                 detached_dir: Path | None = None):
        """detached_dir: run the issuer in its own session with its files
        there, so that it outlives this process (scripts/demo); release()
        then lets it go, and stop_pid() stops it later by pid."""
        if sign not in ("ec", "rsa"):
            raise ValueError("sign must be 'ec' or 'rsa'")
        self.rsa = rsa
        self.sign = sign
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._proc: subprocess.Popen | None = None
        self._port: int | None = None
        self._tmpdir: Path | None = None
        self.detached_dir = Path(detached_dir) if detached_dir else None
        self._http = requests.Session()
        # Loopback only: never route through a proxy from the environment.
        self._http.trust_env = False

    # ------------------------------------------------------------ lifecycle

    def start(self) -> "NodeIssuer":
        if self._proc is not None:
            raise IssuerError("issuer already started")
        node = shutil.which("node")
        if not node:
            raise IssuerError("node not found on PATH; install nodejs (Debian: apt-get install nodejs)")
        ensure_node_modules()

        args = [node, "server.js", "--port", "0", "--sign", self.sign]
        if self.rsa:
            args.append("--rsa")
        if self.detached_dir:
            self._tmpdir = self.detached_dir
            self._tmpdir.mkdir(parents=True, exist_ok=True)
            with open(self.stdout_path, "wb") as out, open(self.log_path, "wb") as log:
                self._proc = subprocess.Popen(args, cwd=ISSUER_DIR, stdin=subprocess.DEVNULL,
                                              stdout=out, stderr=log, start_new_session=True)
        else:
            self._tmpdir = Path(tempfile.mkdtemp(prefix="node-issuer-"))
            args.append("--exit-with-stdin")
            with open(self.stdout_path, "wb") as out, open(self.log_path, "wb") as log:
                # stdin stays an open pipe: if this Python process dies without
                # stop(), the issuer sees EOF and exits (--exit-with-stdin).
                self._proc = subprocess.Popen(args, cwd=ISSUER_DIR, stdin=subprocess.PIPE,
                                              stdout=out, stderr=log)
        _running.add(self)
        try:
            self._port = self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> int:
        deadline = time.monotonic() + self.start_timeout
        while True:
            match = re.search(rb"^READY (\d+)$", self.stdout_path.read_bytes(), re.MULTILINE)
            if match:
                return int(match.group(1))
            if self._proc.poll() is not None:
                raise IssuerError(f"issuer exited with {self._proc.returncode} before READY:\n"
                                  f"{self.log_tail()}")
            if time.monotonic() > deadline:
                raise IssuerError(f"issuer not READY within {self.start_timeout:.0f} s:\n"
                                  f"{self.log_tail()}")
            time.sleep(0.05)

    def release(self) -> None:
        """Leave a detached issuer running after this process exits."""
        if not self.detached_dir:
            raise IssuerError("only a detached issuer can be released")
        _running.discard(self)
        self.detached_pid = self._proc.pid
        self._proc = None

    @staticmethod
    def stop_pid(pid: int, timeout: float = 5.0) -> None:
        """Stop an issuer started by another process (SIGTERM, then SIGKILL)."""
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        """SIGTERM by pid, wait, SIGKILL after stop_timeout. Idempotent."""
        proc, self._proc = self._proc, None
        _running.discard(self)
        if proc is not None:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=self.stop_timeout)
                except subprocess.TimeoutExpired:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=self.stop_timeout)
            if proc.stdin:
                proc.stdin.close()
        self._port = None
        self._http.close()  # drop keep-alive sockets to the dead server
        if self._tmpdir is not None and not self.detached_dir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> "NodeIssuer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------ addresses

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def port(self) -> int:
        if self._port is None:
            raise IssuerError("issuer not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        """The `iss` of every token, and the discovery base (no trailing slash)."""
        return f"{self.base_url}/oidc"

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def jwks_uri(self) -> str:
        return f"{self.issuer}/jwks"

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/token"

    @property
    def stdout_path(self) -> Path:
        return self._tmpdir / "stdout.txt"

    @property
    def log_path(self) -> Path:
        """The issuer's stderr (oidc-provider warnings, grant errors); removed by stop()."""
        return self._tmpdir / "stderr.log"

    def log_tail(self, size: int = 4000) -> str:
        try:
            return self.log_path.read_bytes()[-size:].decode("utf-8", "replace")
        except (OSError, TypeError):
            return "(no log)"

    # --------------------------------------------------------------- tokens

    def token_response(self, resource=None, scope=None, organization_id=None,
                       client=DEFAULT_CLIENT, auth: str = "basic") -> TokenResponse:
        """POST a client_credentials request like Logto's M2M guide: form body,
        HTTP Basic client authentication (auth='post' sends the secret in the body).
        `resource` may be a list to send the parameter several times."""
        data = [("grant_type", "client_credentials")]
        for name, value in (("resource", resource), ("scope", scope),
                            ("organization_id", organization_id)):
            for item in value if isinstance(value, (list, tuple)) else [value]:
                if item is not None:
                    data.append((name, item))
        kwargs = {}
        if auth == "basic":
            kwargs["auth"] = tuple(client)
        elif auth == "post":
            data += [("client_id", client[0]), ("client_secret", client[1])]
        else:
            raise ValueError("auth must be 'basic' or 'post'")
        try:
            resp = self._http.post(self.token_endpoint, data=data, timeout=HTTP_TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            raise IssuerError(f"token request failed: {exc}\n{self.log_tail()}") from exc
        try:
            body = resp.json()
        except ValueError:
            body = {"raw": resp.text}
        return TokenResponse(resp.status_code, body)

    def token(self, resource=None, scope=None, organization_id=None,
              client=DEFAULT_CLIENT, auth: str = "basic") -> str:
        """The access_token string; raises IssuerError on any refusal."""
        resp = self.token_response(resource, scope, organization_id, client, auth)
        if resp.status != 200 or "access_token" not in resp.body:
            raise IssuerError(f"token request refused: HTTP {resp.status} {resp.body}")
        return resp.body["access_token"]

    # ---------------------------------------------------- discovery and keys

    def _get_json(self, url: str) -> dict:
        try:
            resp = self._http.get(url, timeout=HTTP_TIMEOUT)
        except requests.RequestException as exc:
            raise IssuerError(f"GET {url} failed: {exc}") from exc
        if resp.status_code != 200:
            raise IssuerError(f"GET {url}: HTTP {resp.status_code} {resp.text[:500]}")
        return resp.json()

    def discovery(self) -> dict:
        return self._get_json(self.discovery_url)

    def jwks(self) -> dict:
        """The published JWKS (counts as a JWKS fetch in stats())."""
        return self._get_json(self.jwks_uri)

    def _admin(self, method: str, path: str, body: dict | None = None) -> dict:
        url = f"{self.base_url}/__admin/{path}"
        try:
            resp = self._http.request(method, url, json=body, timeout=HTTP_TIMEOUT)
        except requests.RequestException as exc:
            raise IssuerError(f"{method} {url} failed: {exc}") from exc
        try:
            answer = resp.json()
        except ValueError:
            answer = {"error": resp.text[:500]}
        if resp.status_code != 200:
            raise IssuerError(f"{method} /__admin/{path}: HTTP {resp.status_code} "
                              f"{answer.get('error', answer)}")
        return answer

    def keys(self) -> list[dict]:
        """[{kid, kty, alg, state}] in JWKS order: current, next, previous."""
        return self._admin("GET", "keys")["keys"]

    def rotate(self, kty: str = "EC", grace: bool = False) -> str:
        """New key; grace=False signs with it at once (Logto's default), grace=True
        publishes it as `next` only. Returns its kid."""
        return self._admin("POST", "keys/rotate", {"kty": kty, "grace": grace})["kid"]

    def promote(self) -> str:
        """The `next` key becomes current; returns its kid."""
        return self._admin("POST", "keys/promote")["kid"]

    def remove(self, kid: str) -> list[dict]:
        """Drop a `previous` key from the JWKS; returns the remaining keys."""
        return self._admin("POST", "keys/remove", {"kid": kid})["keys"]

    def stats(self) -> dict[str, int]:
        """Requests served per path since start or reset_stats(), e.g. '/oidc/jwks'."""
        return self._admin("GET", "stats")["hits"]

    def reset_stats(self) -> None:
        self._admin("POST", "stats/reset")
