"""Shared by every test folder; keep it tiny (area fixtures live in tests/<area>/conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

# `.venv/bin/pytest` does not put the repo root on sys.path; the helpers are imported as
# `tests.support.<name>` from every test folder.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

# --doctest-modules would also import each conftest.py as a test module; with test folders
# free of __init__.py they would all be the top-level module "conftest" and clash. pytest
# still loads them as conftests.
collect_ignore_glob = ["*conftest.py"]
