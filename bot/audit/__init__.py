"""The audit log of staff actions (exports, reviews, broadcasts, staff changes), by member ids only."""
