"""Exports of approaches and assessments (CSV now; STIX 2.1 and MISP later)."""
