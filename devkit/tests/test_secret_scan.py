"""The log scan finds secrets in plain and URL-encoded form and never prints them."""

from __future__ import annotations

import os

from archive_devkit.secret_scan import leaked_secrets, log_files

TOKEN = "Gcp7!IAAAsecret/with+chars"


def test_plain_and_url_encoded_secrets_are_found_by_name(tmp_path):
    (tmp_path / "plain.log").write_text(f"refreshing with {TOKEN} now\n")
    (tmp_path / "form.log").write_text("refresh_token=Gcp7%21IAAAsecret%2Fwith%2Bchars&x=1\n")
    (tmp_path / "clean.log").write_text("refresh_token=<redacted>\n")
    found = leaked_secrets(log_files([tmp_path]), {"refresh token #1 (nl)": TOKEN})
    assert sorted(found) == [
        f"refresh token #1 (nl) appears in {tmp_path / 'form.log'}",
        f"refresh token #1 (nl) appears in {tmp_path / 'plain.log'}",
    ]
    assert all(TOKEN not in line for line in found)


def test_only_files_written_since_the_start_are_read(tmp_path):
    old = tmp_path / "old.log"
    old.write_text(TOKEN)
    os.utime(old, (1_000, 1_000))
    nested = tmp_path / "elt" / "run"
    nested.mkdir(parents=True)
    (nested / "new.log").write_text(TOKEN)
    assert log_files([tmp_path, tmp_path / "missing"], since=2_000) == [nested / "new.log"]
