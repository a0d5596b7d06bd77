"""The nats-server release whose wire behaviour server_stub reproduces, and its protocol levels."""

VERSION = "2.15.1"
PROTO = 1  # the client protocol level INFO announces
API_LEVEL = 5  # JetStream API level (INFO's api_lvl)
