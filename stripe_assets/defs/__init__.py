"""The code location's definitions, one folder per integration."""
