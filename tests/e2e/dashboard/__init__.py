"""End-to-end tests of the SRE web dashboard in a real Chromium."""
