"""The revenue report: one self-contained HTML file rendered from the marts."""
