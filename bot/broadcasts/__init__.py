"""Broadcasts: segments, the send pipeline, delivery figures, the broadcast CLI and staff commands."""
