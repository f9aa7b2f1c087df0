"""The console script's entry point, kept free of heavy imports.

Worker processes are started with multiprocessing's `spawn`, which re-imports the main
script in every worker. The console script imports only this module, so a worker loads what
encoding needs (workers.py) and not the SDK and the Snowflake connector.
"""

from __future__ import annotations


def main() -> None:
    """Run the target's command line."""
    from target_snowflake_audit.target import TargetSnowflakeAudit  # noqa: PLC0415 - see above

    TargetSnowflakeAudit.cli()
