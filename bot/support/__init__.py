"""Questions and help: the FAQ, tickets for a person, staff notes and the ticket staff commands."""
