"""scripts/demo: mod_auth_logto in front of a Django API, end to end, on 127.0.0.1.

Started by scripts/demo (which installs and builds first). It starts the
Logto-shaped issuer (tests/issuer: oidc-provider configured like Logto), an
httpd with the module and the Django app under mod_wsgi, with the three
example configs of conf/examples/ included as written, gets tokens from the
issuer's token endpoint the way Logto's guide does (client_credentials), and
prints what each Logto model answers. The demo stays up; `scripts/demo stop`
stops it.

With --issuer URL --audience URL the same httpd and Django sit in front of a
real Logto tenant instead.
"""
import argparse
import json
import os
import shlex
import signal
import sys
import time
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
DEMO_DIR = TOP / "build" / "demo"
STATE = DEMO_DIR / "state.json"
TOKENS = DEMO_DIR / "tokens"
MODULE = TOP / "build" / "demo" / "build" / ".libs" / "mod_auth_logto.so"

sys.path.insert(0, str(TOP / "tests" / "integration"))
os.environ["LOGTO_ITEST_DIR"] = str(DEMO_DIR)

import requests  # noqa: E402

from harness.httpd import Httpd  # noqa: E402
from node_issuer import API_RESOURCE, OTHER_RESOURCE, NodeIssuer  # noqa: E402

EXAMPLES = TOP / "conf" / "examples"
GREEN, RED, BOLD, RESET = ("\033[32m", "\033[31m", "\033[1m", "\033[0m") if sys.stdout.isatty() \
    else ("", "", "", "")


# ---- state of a running demo ------------------------------------------------------------

def stop_running():
    """Stops a demo left running earlier (by the pids it recorded)."""
    if not STATE.exists():
        return False
    state = json.loads(STATE.read_text())
    for key in ("httpd_pid", "issuer_pid"):
        pid = state.get(key)
        if pid:
            NodeIssuer.stop_pid(pid, timeout=10)
    STATE.unlink()
    return True


# ---- scenarios ----------------------------------------------------------------------------

class Row:
    def __init__(self, model, scenario, path, expected, token_name=None, token=None):
        self.model, self.scenario, self.path, self.expected = model, scenario, path, expected
        self.token_name, self.token = token_name, token
        self.status, self.body = None, None

    def curl(self, base):
        url = shlex.quote(base + self.path)
        if not self.token_name:
            return f"curl -i {url}"
        tokfile = os.path.relpath(TOKENS / f"{self.token_name}.jwt", Path.cwd())
        return f'curl -i -H "Authorization: Bearer $(cat {tokfile})" {url}'

    def run(self, base):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        resp = requests.get(base + self.path, headers=headers, timeout=15)
        self.status, self.body = resp.status_code, resp.text.strip()
        return self.status == self.expected


def save_token(name, token):
    TOKENS.mkdir(parents=True, exist_ok=True)
    path = TOKENS / f"{name}.jwt"
    path.write_text(token + "\n")
    return token


def tampered(token):
    """The same token with its signature changed: a forgery."""
    head, payload, sig = token.split(".")
    flipped = ("A" if sig[10] != "A" else "B")
    return ".".join((head, payload, sig[:10] + flipped + sig[11:]))


def local_rows(issuer):
    """The guide's scenarios for each of the three models, in the table's order."""
    def row(model, path, scenario, expected, name=None, **token_request):
        token = save_token(name, issuer.token(**token_request)) if token_request else None
        return Row(model, scenario, path, expected, name, token)

    def forged(model, path, valid):
        name = f"{valid.token_name}-forged"
        return Row(model, "invalid token (forged signature)", path, 401, name,
                   save_token(name, tampered(valid.token)))

    rows = []
    # Model 1: a global API resource (conf/examples/global-api.conf).
    m, p = "global API resource", "/api/protected/"
    valid = row(m, p, "valid token", 200, "global-valid",
                resource=API_RESOURCE, scope="read:products")
    rows += [valid, row(m, p, "no token", 401), forged(m, p, valid),
             row(m, p, "missing scope", 403, "global-no-scope",
                 resource=API_RESOURCE, scope="write:products"),
             row(m, p, "wrong audience (another API)", 403, "global-other-api",
                 resource=OTHER_RESOURCE, scope="read:other"),
             row(m, p, "wrong organization (an organization token)", 403, "global-org-token",
                 organization_id="org-acme", scope="invite:member")]
    # Model 2: organization permissions (conf/examples/organization.conf).
    m, p = "organization permissions", "/orgs/org-acme/members/"
    valid = row(m, p, "valid token", 200, "org-valid",
                organization_id="org-acme", scope="invite:member")
    rows += [valid, row(m, p, "no token", 401), forged(m, p, valid),
             row(m, p, "missing scope", 403, "org-no-scope",
                 organization_id="org-acme", scope="manage:billing"),
             row(m, p, "wrong audience (an API token)", 403, "org-api-token",
                 resource=API_RESOURCE, scope="read:products"),
             row(m, p, "wrong organization", 403, "org-other-org",
                 organization_id="org-globex", scope="invite:member")]
    # Model 3: an organization-level API resource (conf/examples/organization-api.conf).
    m, p = "organization-level API resource", "/org-api/org-acme/products/"
    valid = row(m, p, "valid token", 200, "org-api-valid",
                resource=API_RESOURCE, organization_id="org-acme", scope="read:products")
    rows += [valid, row(m, p, "no token", 401), forged(m, p, valid),
             row(m, p, "missing scope", 403, "org-api-no-scope",
                 resource=API_RESOURCE, organization_id="org-acme", scope="write:products"),
             row(m, p, "wrong audience (another API)", 403, "org-api-other-api",
                 resource=OTHER_RESOURCE, organization_id="org-acme", scope="read:other"),
             row(m, p, "wrong organization", 403, "org-api-other-org",
                 resource=API_RESOURCE, organization_id="org-globex", scope="read:products")]
    return rows


def print_table(rows, base):
    ok_all = True
    widths = (max(len(r.model) for r in rows), max(len(r.scenario) for r in rows))
    print(f"\n{BOLD}{'model':<{widths[0]}}  {'scenario':<{widths[1]}}  want  got   "
          f"curl{RESET}")
    last_model = None
    for r in rows:
        ok = r.run(base)
        ok_all &= ok
        mark = f"{GREEN}ok{RESET}" if ok else f"{RED}NO{RESET}"
        model = r.model if r.model != last_model else ""
        last_model = r.model
        print(f"{model:<{widths[0]}}  {r.scenario:<{widths[1]}}  {r.expected}   "
              f"{r.status}  {mark}  {r.curl(base)}")
        if r.status == 200 or not ok:
            print(f"{'':<{widths[0]}}  {'':<{widths[1]}}  -> {r.body}")
    return ok_all


# ---- the servers ---------------------------------------------------------------------------

def start_httpd(defines, snippet):
    httpd = Httpd("httpd", module=str(MODULE), log_level="warn auth_logto:info")
    httpd.install(snippet, defines=defines, restart=False)
    httpd.start()
    return httpd


def run_local(args):
    issuer = NodeIssuer(detached_dir=DEMO_DIR / "issuer").start()
    issuer.release()
    STATE.write_text(json.dumps({"issuer_pid": issuer.detached_pid, "issuer": issuer.issuer}))
    includes = "\n".join(f'Include "{EXAMPLES / name}"' for name in
                         ("global-api.conf", "organization.conf", "organization-api.conf"))
    httpd = start_httpd({"LOGTO_ISSUER": issuer.issuer, "LOGTO_API_INDICATOR": API_RESOURCE},
                        includes)
    STATE.write_text(json.dumps({"issuer_pid": issuer.detached_pid, "issuer": issuer.issuer,
                                 "httpd_pid": httpd.pid, "url": httpd.url("/")}))
    base = httpd.url("")
    print(f"{BOLD}mod_auth_logto demo{RESET}")
    print(f"  issuer  {issuer.issuer}  (oidc-provider configured like Logto, tests/issuer)")
    print(f"  API     {base}/  (httpd + mod_auth_logto + Django under mod_wsgi)")
    print(f"  config  conf/examples/global-api.conf, organization.conf, organization-api.conf")
    print(f"  tokens  from the issuer's token endpoint, as in Logto's guide, e.g.:")
    print(f"          curl -u m2m-app:m2m-secret -d grant_type=client_credentials "
          f"-d resource={API_RESOURCE} -d scope=read:products {issuer.issuer}/token")
    ok = print_table(local_rows(issuer), base)
    print(f"\nThe demo keeps running: API {base}/, issuer {issuer.issuer}, "
          f"error log {httpd.error_log.path}.")
    print("Stop it with: scripts/demo stop")
    return 0 if ok else 1


def run_tenant(args):
    issuer, audience = args.issuer.rstrip("/"), args.audience
    requires = [f"Require logto-audience {audience}"]
    if args.scope:
        requires.append(f"Require logto-scope {args.scope}")
    snippet = "\n".join(['<Location "/api/">', "    AuthType Logto",
                         f"    LogtoIssuer {issuer}", "    <RequireAll>",
                         *[f"        {r}" for r in requires], "    </RequireAll>",
                         "</Location>"])
    httpd = start_httpd({}, snippet)
    STATE.write_text(json.dumps({"httpd_pid": httpd.pid, "url": httpd.url("/")}))
    base = httpd.url("")
    print(f"{BOLD}mod_auth_logto in front of {issuer}{RESET}\n\nThe configuration:\n")
    print(snippet)
    rows = [Row("your tenant", "no token", "/api/protected/", 401)]
    if args.client_id and args.client_secret:
        form = {"grant_type": "client_credentials", "resource": audience}
        if args.scope:
            form["scope"] = args.scope
        resp = requests.post(f"{issuer}/token", data=form, timeout=15,
                             auth=(args.client_id, args.client_secret))
        if resp.status_code != 200:
            print(f"\nThe token endpoint answered {resp.status_code}: {resp.text.strip()}")
            return 1
        token = save_token("tenant-valid", resp.json()["access_token"])
        rows.insert(0, Row("your tenant", "valid token", "/api/protected/", 200,
                           "tenant-valid", token))
        rows.append(Row("your tenant", "invalid token (forged signature)", "/api/protected/",
                        401, "tenant-forged", save_token("tenant-forged", tampered(token))))
    ok = print_table(rows, base)
    if not (args.client_id and args.client_secret):
        print("\nWith --client-id and --client-secret of a machine-to-machine app the demo "
              "gets a token itself; or get one as in Logto's guide:")
        print(f"  curl -u <app id>:<app secret> -d grant_type=client_credentials "
              f"-d resource={audience} {issuer}/token")
        print(f"  curl -H 'Authorization: Bearer <access_token>' {base}/api/protected/")
    print(f"\nThe demo keeps running at {base}/. Stop it with: scripts/demo stop")
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser(prog="scripts/demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", choices=["start", "stop"], default="start")
    parser.add_argument("--issuer", help="a real Logto tenant, e.g. https://<tenant>.logto.app/oidc")
    parser.add_argument("--audience", help="the API resource indicator to require")
    parser.add_argument("--scope", help="a permission to require (with --issuer)")
    parser.add_argument("--client-id", help="a machine-to-machine app (with --issuer)")
    parser.add_argument("--client-secret", help="its secret")
    args = parser.parse_args()

    stopped = stop_running()
    if args.command == "stop":
        print("demo stopped" if stopped else "no demo was running")
        return 0
    if bool(args.issuer) != bool(args.audience):
        parser.error("--issuer and --audience go together")
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    try:
        return run_tenant(args) if args.issuer else run_local(args)
    except BaseException:
        stop_running()
        raise


if __name__ == "__main__":
    sys.exit(main())
