"""The root of nscpy's error tree: every error a user can act on derives from NscError."""


class NscError(Exception):
    """Base class for nscpy's own errors; the CLI turns these into one line and exit code 1."""


class NscValueError(NscError, ValueError):
    """A value (key, token, subject, name, duration) that is malformed."""
