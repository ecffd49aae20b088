"""A mirrorbits v0.6.1 stand-in for the tests and the boot proof (ADR 0056): the subset of the real
daemon and CLI the redirector relies on, with the same state in Redis under mirrorbits' own keys."""
VERSION = 'v0.6.1-standin'
