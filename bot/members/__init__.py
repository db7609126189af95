"""Members: finding and creating a member from a WhatsApp sender, member numbers, and staff numbers from the settings."""
