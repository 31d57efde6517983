"""Adapters: MongoDB (PyMongo async), Redis, and the embedded servers for development."""
