"""Provinces and communes (from vietnam-provinces) and the villages admins maintain."""
