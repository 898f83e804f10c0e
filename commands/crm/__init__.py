"""Importing deals and their history from CRM exports (ours, HubSpot, Pipedrive)."""
