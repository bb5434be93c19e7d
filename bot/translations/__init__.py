"""Catalog overrides translators write and reviewers approve, layered over the shipped gettext catalogs."""
