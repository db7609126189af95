"""Services: the small modules that do I/O (database writes, Twilio, queues, files) for the engine and the web."""
