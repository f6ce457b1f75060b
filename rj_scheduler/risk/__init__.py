"""Suitability and risk assessments of each party, supervisor sign-off, and the readiness they gate."""
