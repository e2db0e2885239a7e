"""Integration-test harness for mod_auth_logto (pyhttpd style, written for this project).

- httpd.py: a real Apache httpd per test module, generated server root, config snippets.
- logcheck.py: the error-log check (unclaimed [error]/[crit]/... and crash lines fail a test).
- keys.py: signing keys of every supported kind, RFC 7638 thumbprints, JWKs.
- fake_issuer.py: a programmable loopback OIDC issuer (discovery + JWKS).
- tokens.py: Logto-shaped access tokens and forgeries.
"""
