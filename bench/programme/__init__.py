"""A simulated programme year on the real server: `python -m bench.programme`."""
