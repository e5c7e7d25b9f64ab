"""What the routes do, one module per subject; Temporal is reached only through ``temporal``."""
