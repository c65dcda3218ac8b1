"""Test infrastructure shared by several test modules: local servers and their fixtures."""
