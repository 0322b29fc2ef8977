"""`jindu validate`: placeholder until the reader lands."""
