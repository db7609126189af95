"""WhatsApp through Twilio: the webhook, inbound messages, outbound sends, delivery statuses and the Twilio client."""
