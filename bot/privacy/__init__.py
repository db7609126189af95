"""Data protection: consent, MY DATA, DELETE MY DATA (erasure of every area's data) and masking for staff."""
