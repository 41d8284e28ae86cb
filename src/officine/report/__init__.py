"""Rendering of assessments for people (terminal; later HTML and PDF)."""
