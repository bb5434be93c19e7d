"""Loa Bản: a two-way messaging bot for ethnic-minority and mountainous areas of Viet Nam."""
