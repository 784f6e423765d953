"""End-to-end tests: the site served for real, driven by Debian's Chromium through Playwright."""
