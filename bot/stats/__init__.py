"""Figures for officers: STATS on WhatsApp and the numbers behind the dashboard."""
