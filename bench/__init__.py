"""Benchmarks: each endpoint's throughput and p99 as a ratio to a bare FastAPI echo app."""
