"""nscpy: NATS decentralized security (NKeys, JWT v2, keystore, nsc-style CLI)."""

__version__ = "0.1.0"
