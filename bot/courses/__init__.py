"""Free courses: the catalogue, enrolments, reminders, course figures, the course CLI and staff commands."""
