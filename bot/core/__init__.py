"""The core every area builds on: settings, the database and Redis, jobs, the message engine, catalogs, audit and local time."""
