"""The log of every message in and out, which is also the inbox dedupe and the outbox."""
