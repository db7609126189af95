"""Tools for trying Umoja without Twilio: the simulator, the terminal chat and a local fake Twilio API."""
