"""Helpers shared by tests: real server processes on 127.0.0.1."""
