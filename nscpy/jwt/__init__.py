"""NATS JWT v2, byte-compatible with Go's nats-io/jwt v2: claims, encode/decode, validation."""

from __future__ import annotations
