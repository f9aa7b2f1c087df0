"""`make chaos`, short form: faults, kills and reruns happened, and every invariant held.

The short form is what `make test` affords (a small company, one mutation round); the full
form (`make chaos`) runs the same code longer. The test reads the summary line the command
prints last and refuses a vacuous pass: faults, kills and reruns must all be above zero.
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest
from archive_devkit.paths import BIN_DIR, REPO_ROOT

pytestmark = pytest.mark.e2e

SUMMARY = re.compile(
    r"^chaos: (?P<faults>\d+) faults, (?P<kills>\d+) kills, (?P<reruns>\d+) reruns, "
    r"(?P<rows>\d+) rows, (?P<mismatches>\d+) mismatches$"
)


def test_make_chaos_short_form_holds_every_invariant(meltano_plugins, tmp_path):
    # Under `make test` the parent make exports MAKEFLAGS with -w, and the nested make would
    # print "Leaving directory" after the summary line.
    inherited = {
        k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}
    }
    env = {**inherited, "PATH": f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}"}
    arguments = f"--short --skip-install --work-dir {tmp_path / 'chaos'}"
    done = subprocess.run(
        ["make", "--no-print-directory", "chaos", f"CHAOS_ARGS={arguments}"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines, output[-5000:]
    summary = SUMMARY.match(lines[-1])
    assert summary, output[-5000:]
    assert done.returncode == 0, output[-5000:]
    assert "FAILED" not in done.stdout, output[-5000:]
    figures = {name: int(value) for name, value in summary.groupdict().items()}
    assert figures["mismatches"] == 0, output[-5000:]
    for name in ("faults", "kills", "reruns", "rows"):
        assert figures[name] > 0, f"no {name}: the chaos run was vacuous\n{output[-5000:]}"
