"""Fixtures for the back-end tests (compose, Collector, rules, dashboards)."""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# `.venv/bin/pytest` does not put the repo root on sys.path (rootdir-less prepend import
# mode), and the shared helpers are imported as `tests.support.*`.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
