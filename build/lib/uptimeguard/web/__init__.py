"""The HTTP side: admin API, public status pages, Twilio webhooks, metrics."""
