"""Imported first by every bench script (run as `python bench/<script>.py`, so this folder is on
sys.path): puts the repository root on sys.path too, for `reparam_core` and `tests.support`."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
