"""Spend ingestion: parsing and validating spend files, and importing them."""
