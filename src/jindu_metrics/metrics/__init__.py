"""Indicator catalog (declarations) and the generic engine that computes them."""
