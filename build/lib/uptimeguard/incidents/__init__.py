"""Incidents: the lifecycle, its timeline, and their JSON shape."""
