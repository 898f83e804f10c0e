"""Deals and their moves: creating, advancing, deciding, losing; who may decide; each deal's history."""
