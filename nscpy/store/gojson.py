"""JSON text as Go's encoding/json.Marshal writes it, so files nsc also writes compare equal.

The writer is `nscpy.gojson`, shared with the JWT codec; this name stays for the store's importers.
"""

from __future__ import annotations

from nscpy.gojson import go_dumps

__all__ = ["go_dumps"]
