"""Network plans in and out: one neutral structure (plan.py), one module per format."""
