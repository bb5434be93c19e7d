"""Periodic reports an office signs and sends: figures over the stored history, as DOCX, XLSX and HTML."""
