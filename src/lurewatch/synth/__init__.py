"""Writers of synthetic inputs in the real formats lurewatch reads (demo data, tests, benchmarks).

Everything here is invented: no person, profile or message in the output exists.
"""
