"""Service tests use the root fixtures: chain_env (tests/conftest.py) and store."""
