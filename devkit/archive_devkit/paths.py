"""Where the repository and this environment's console scripts are."""

from __future__ import annotations

import sys
from pathlib import Path

# The devkit is installed editable from the repository (`make venv`), never from a wheel.
REPO_ROOT = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent
