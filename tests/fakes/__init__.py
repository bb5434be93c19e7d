"""Faithful loopback stand-ins for platforms the tests cannot reach."""
