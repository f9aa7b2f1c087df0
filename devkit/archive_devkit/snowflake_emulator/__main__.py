"""`python -m archive_devkit.snowflake_emulator`: serve the patched emulator."""

from archive_devkit.snowflake_emulator.patched import main

main()
