"""Supervision rounds: planning, coverage, progress and period reports."""
