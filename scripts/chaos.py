"""`make chaos`: the pipeline under seeded faults, kills and edits, then every invariant checked.

Runs the three-entity pipeline through the real `meltano run` while the Exact sandboxes fail
calls, storm with 429s, and the Snowflake emulator's proxy drops and slows statements; the tap
and the target are SIGKILLed and rerun. What it checks is in `archive_devkit/chaos.py`. The last
line is `chaos: <faults> faults, <kills> kills, <reruns> reruns, <rows> rows, <n> mismatches`;
the exit code is 0 only when every invariant held.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from archive_devkit.chaos import main as run
from archive_devkit.chaos_plan import ChaosSettings
from archive_devkit.paths import REPO_ROOT
from archive_devkit.pipeline import meltano_install

DEFAULT_SEED = ChaosSettings().seed


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, install the plugins unless told not to, run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="one seed, one plan")
    parser.add_argument("--rounds", type=int, default=None, help="mutation rounds (default 3)")
    parser.add_argument("--short", action="store_true", help="the quick form `make test` runs")
    parser.add_argument("--work-dir", type=Path, default=REPO_ROOT / ".chaos")
    parser.add_argument("--skip-install", action="store_true", help="plugins already installed")
    args = parser.parse_args(argv)
    settings = ChaosSettings.short_form(args.seed) if args.short else ChaosSettings(seed=args.seed)
    if args.rounds is not None:
        if args.rounds < 1:
            parser.error("--rounds must be at least 1")
        settings = ChaosSettings(**{**settings.__dict__, "rounds": args.rounds})
    if not args.skip_install:
        meltano_install()
    return run(settings, args.work_dir)


if __name__ == "__main__":
    sys.exit(main())
