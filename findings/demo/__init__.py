"""The demo corpus of findings (``findings.json``) and its loader."""
