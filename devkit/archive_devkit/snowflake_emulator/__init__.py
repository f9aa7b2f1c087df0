"""The local Snowflake emulator: fakesnow patched to load the way Snowflake documents.

Dev tooling only (the target never imports it). `server()` serves it from a thread of this
process; `python -m archive_devkit.snowflake_emulator -s --host 127.0.0.1 -p PORT [-d DIR]` as a
process. What still differs from Snowflake is listed in the target's README.
"""

from __future__ import annotations

from archive_devkit.snowflake_emulator.patched import apply_snowflake_behaviour, main, server

__all__ = ["apply_snowflake_behaviour", "main", "server"]
