"""Config snippets the tests install (<Location> blocks for the module)."""
import textwrap

API = 'https://api.example.com'

# mod_authz_core logs every authorization denial of an authenticated user at
# [error] (AH01631); configs under which a test expects 403s claim it.
AUTHZ_DENIED = r'AH01631: user .*: authorization failure for'
OTHER_API = 'https://other.example.com'


def _indent(lines, n=4):
    return '\n'.join(' ' * n + l for l in lines if l is not None)


def location(path, issuers, requires=(), directives=(), match=False, wrap='RequireAll',
             auth_type=True):
    """A <Location> (or <LocationMatch>) protected by the module.
    issuers: one URL or a list (one LogtoIssuer line with all of them);
    requires: 'logto-audience X' style strings (without 'Require');
    directives: more lines inside the section."""
    if isinstance(issuers, str):
        issuers = [issuers]
    tag = 'LocationMatch' if match else 'Location'
    lines = []
    if auth_type:
        lines.append('AuthType Logto')
    if issuers:
        lines.append('LogtoIssuer ' + ' '.join(issuers))
    lines.extend(directives)
    reqs = [f'Require {r}' for r in requires]
    if wrap and len(reqs) > 1:
        lines.append(f'<{wrap}>')
        lines.extend('    ' + r for r in reqs)
        lines.append(f'</{wrap}>')
    else:
        lines.extend(reqs)
    return f'<{tag} "{path}">\n{_indent(lines)}\n</{tag}>\n'


def public(path):
    """A location that needs no token."""
    return f'<Location "{path}">\n    Require all granted\n</Location>\n'


def dedent(text):
    return textwrap.dedent(text).strip() + '\n'
