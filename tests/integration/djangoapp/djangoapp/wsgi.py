"""WSGI entry point for mod_wsgi (daemon mode).

Puts this repository's contrib/ (django_logto) and the project directory on
sys.path, computed from this file's place, so the httpd config needs no
python-path and the tests run from any checkout.
"""

import os
import sys
from pathlib import Path

_PROJECT = Path(__file__).resolve().parent.parent   # tests/integration/djangoapp
_REPO = _PROJECT.parents[2]                         # the repository root
for _path in (str(_REPO / "contrib"), str(_PROJECT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djangoapp.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402  (needs sys.path above)

application = get_wsgi_application()
