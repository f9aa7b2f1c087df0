"""Dev and test tooling shared by every test tier, the demo, the chaos run and the benchmarks.

One place starts the Exact sandbox (in this process or as `exact-sandbox serve`) and the patched
Snowflake emulator, runs the tap, the target and Meltano, and reconciles a warehouse with the
sandboxes' truth. Nothing here ships to users.
"""
