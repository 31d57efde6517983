"""Mail adapters: the message as it goes out, and the SMTP client that sends it."""
