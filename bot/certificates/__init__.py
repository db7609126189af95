"""Certificates members report: intake, download of the proof, storage, review and vouchers."""
