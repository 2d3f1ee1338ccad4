"""Reparam Lab's tests: core/, ui/, pages/ (AppTest), browser/ (Playwright); helpers in support/."""
