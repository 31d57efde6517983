"""Conversions between protobuf messages and domain values, in one place."""
